"""Plans: import one, and read the measure register that lists, exports and shows them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from core import clock
from core.errors import NotFoundError
from documents.spreadsheet import csv_text
from importers.directory_import import import_directory_file
from importers.plan_draft import PlanFacts
from importers.plan_import import ImportReport, import_plan_file
from models.directory import forums, organisations, persons
from models.municipality import Municipality
from models.plan import (
    ActionPlan,
    FocusArea,
    Measure,
    MeasureParty,
    SituationAssessment,
    focus_areas,
    json_ready,
    measure_flags,
    measure_forums,
    measure_parties,
    measures,
    plans,
    record_situation_assessment,
)


@dataclass(frozen=True, slots=True)
class PlanImportCommand:
    """A plan file to import, with what the person said about it."""

    file: Path
    kommun: str | None = None
    directory_file: Path | None = None  # read first, so the plan's ansvariga match it
    mapping_specs: tuple[str, ...] = ()  # "Kolumn=fält"
    facts: PlanFacts = field(default_factory=PlanFacts)
    replace: bool = False
    dry_run: bool = False
    # The day the plan (and a kommun it creates) is taken into use; None: today. What was already late
    # then raises no escalation but is listed once for the BRÅ-samordnare.
    adopted_on: date | None = None


def import_plan(session: Session, command: PlanImportCommand) -> ImportReport:
    """Read, check and write a plan (and first its directory) in the caller's transaction.

    Raises ``ImportFailedError`` with every problem (file, sheet, row, column). A dry run checks and
    summarises everything, then rolls the caller's transaction back: nothing is written.
    """
    adopted_on = command.adopted_on or clock.today()
    if command.directory_file is not None:
        import_directory_file(session, command.directory_file, command.kommun, adopted_on=adopted_on)
    report = import_plan_file(
        session,
        command.file,
        kommun=command.kommun,
        mapping_specs=list(command.mapping_specs),
        facts=command.facts,
        replace=command.replace,
        dry_run=command.dry_run,
        adopted_on=adopted_on,
    )
    if command.dry_run:
        session.rollback()
    return report


def import_summary(report: ImportReport) -> dict[str, Any]:
    """The counts an import's summary shows, per focus area and in all."""
    return {
        "areas": [(area.title, len(area.measures)) for area in report.draft.focus_areas],
        "measure_count": len(report.draft.measures),
        "sub_rows": sum(1 for m in report.draft.measures if m.is_sub_row),
        "indicators": len(report.draft.indicators),
        "unmatched": sorted(report.unmatched_parties.items(), key=lambda item: (-item[1], item[0])),
    }


def measure_register(
    session: Session, municipality_id: int, *, plan_id: int | None = None
) -> list[dict[str, Any]]:
    """Every measure with its raw text, parsed values, parties and flags, as plain data."""
    found = measures(session, municipality_id, plan_id=plan_id)
    ids = [m.id or 0 for m in found]
    parties = measure_parties(session, ids)
    forums_by_measure = measure_forums(session, ids)
    names = _party_names(session, municipality_id)
    plan_titles = {p.id: p.title for p in plans(session, municipality_id)}
    areas = {area.id: area.title for plan_id in plan_titles for area in focus_areas(session, plan_id or 0)}
    return [
        _register_row(m, parties[m.id or 0], forums_by_measure[m.id or 0], names, areas, plan_titles)
        for m in found
    ]


def _party_names(session: Session, municipality_id: int) -> dict[tuple[str, int], str]:
    names: dict[tuple[str, int], str] = {}
    for org in organisations(session, municipality_id):
        names[("organisation", org.id or 0)] = org.name
    for person in persons(session, municipality_id):
        names[("person", person.id or 0)] = person.name
    for forum in forums(session, municipality_id):
        names[("forum", forum.id or 0)] = forum.name
    return names


def _party(party: MeasureParty, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    for kind, key in (
        ("organisation", party.organisation_id),
        ("person", party.person_id),
        ("forum", party.forum_id),
    ):
        if key is not None:
            return {"typ": kind, "id": key, "namn": names.get((kind, key), "?")}
    return {"typ": "okänd", "id": None, "namn": "?"}


def _register_row(
    measure: Measure,
    parties: list[MeasureParty],
    forums: list[Any],
    names: dict[tuple[str, int], str],
    areas: dict[int | None, str],
    plan_titles: dict[int | None, str],
) -> dict[str, Any]:
    return json_ready(
        {
            "id": measure.id,
            "plan_id": measure.plan_id,
            "plan": plan_titles.get(measure.plan_id, ""),
            "fokusomrade": areas.get(measure.focus_area_id, ""),
            "atgard": measure.title,
            "beskrivning": measure.description,
            "delaktivitet_till": measure.parent_id,
            "status": measure.status,
            "period_start": measure.period_start,
            "period_slut": measure.period_end,
            "pagaende": measure.ongoing,
            "aterkommande": measure.recurring,
            "period_tolkad": measure.period_understood,
            "uppfoljning_frekvens": measure.follow_up_frequency,
            "uppfoljning_forum": [forum.name for forum in forums],
            "uppfoljning_tolkad": measure.follow_up_understood,
            "ansvariga": [_party(p, names) for p in parties if p.role == "ansvarig"],
            "samverkan": [_party(p, names) for p in parties if p.role == "samverkan"],
            "ej_matchade": measure.unmatched_parties,
            "flaggor": measure_flags(measure),
            "text": {
                "tid": measure.raw_period,
                "omfattning": measure.raw_scope,
                "ansvarig": measure.raw_responsible,
                "samverkan": measure.raw_partners,
                "kostnad": measure.raw_cost,
                "mal": measure.raw_goal,
                "uppfoljning": measure.raw_follow_up,
            },
            "extra": measure.extra,
            "kalla": {"blad": measure.source_sheet, "rad": measure.source_row},
        }
    )


CSV_COLUMNS = (
    "id",
    "plan_id",
    "fokusomrade",
    "atgard",
    "status",
    "period_start",
    "period_slut",
    "pagaende",
    "aterkommande",
    "period_tolkad",
    "uppfoljning_frekvens",
    "uppfoljning_forum",
    "ansvariga",
    "ej_matchade",
    "flaggor",
)


def register_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = []
        for column in CSV_COLUMNS:
            value = row[column]
            if isinstance(value, list):
                value = ", ".join(item["namn"] if isinstance(item, dict) else str(item) for item in value)
            # Imported text is never a formula to the spreadsheet that opens the file.
            cells.append("" if value is None else csv_text(value))
        writer.writerow(cells)
    return buffer.getvalue()


def record_lagesbild(
    session: Session,
    municipality: Municipality,
    decided_on: date,
    *,
    title: str = "",
    decided_by: str = "",
    plan_id: int | None = None,
) -> tuple[SituationAssessment, bool]:
    """Record the date of the kommun's lägesbild (the next is planned two years on from it), linked to
    one of its plans when ``plan_id`` is given; True when anything changed."""
    if plan_id is not None:
        found = session.get(ActionPlan, plan_id)
        if found is None or found.municipality_id != municipality.id:
            raise NotFoundError(f"Planen {plan_id} finns inte i {municipality.name}. Se: samordna plan list")
    return record_situation_assessment(
        session, municipality.id or 0, decided_on, title=title, decided_by=decided_by, plan_id=plan_id
    )


@dataclass(frozen=True, slots=True)
class PlanView:
    """One plan with its focus areas and, under each, its measures as register rows."""

    plan: ActionPlan
    areas: list[tuple[FocusArea, list[dict[str, Any]]]]


def plan_view(session: Session, municipality: Municipality, plan_id: int) -> PlanView:
    """A plan of the kommun by id, for `plan show` and the plan page."""
    found = session.get(ActionPlan, plan_id)
    if found is None or found.municipality_id != municipality.id:
        raise NotFoundError(f"Planen {plan_id} finns inte i {municipality.name}. Se: samordna plan list")
    rows = measure_register(session, municipality.id or 0, plan_id=plan_id)
    areas = focus_areas(session, plan_id)
    return PlanView(
        found, [(area, [row for row in rows if row["fokusomrade"] == area.title]) for area in areas]
    )
