"""Write a checked plan draft into the database, in the caller's transaction.

``import_plan_file`` is the whole use case: read, check, match parties, write. It raises
ImportFailedError before writing anything when the file has errors, and it never commits: the CLI
wraps it in one transaction, so a failure half-way leaves the database as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlmodel import Session, SQLModel, col, delete, select

from core.text import fold
from importers.columns import Field, parse_mapping
from importers.parties import DirectoryEntry, DirectoryIndex, PartyKind
from importers.plan_draft import MeasureDraft, PlanDraft, PlanFacts, build_draft, recognise_forums
from importers.problems import ImportFailedError, Location, Problem
from importers.schema import too_long
from importers.tables import read_sheets
from models.directory import Forum, Organisation, Person
from models.indicator import Indicator
from models.municipality import KOMMUNKOD, Municipality, find_municipality
from models.plan import (
    ActionPlan,
    Cause,
    FocusArea,
    Measure,
    MeasureForum,
    MeasureParty,
    PartyRole,
    SituationAssessment,
    StatusReport,
    plan_by_title,
)
from models.plan import (
    Problem as PlanProblem,
)
from models.task import Task


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, with --dry-run, would do): the summary a coordinator reads."""

    draft: PlanDraft
    municipality_name: str
    municipality_code: str
    plan_id: int | None = None
    replaced: bool = False
    unmatched_parties: Counter[str] = field(default_factory=Counter)
    unmatched_locations: dict[str, list[Location]] = field(default_factory=dict)

    @property
    def unparsed_periods(self) -> list[MeasureDraft]:
        return [m for m in self.draft.measures if m.texts.get(Field.PERIOD) and not m.period.understood]

    @property
    def unparsed_follow_ups(self) -> list[MeasureDraft]:
        return [m for m in self.draft.measures if m.texts.get(Field.FOLLOW_UP) and not m.follow_up.understood]

    @property
    def parsed_period_count(self) -> int:
        return sum(1 for m in self.draft.measures if m.period.understood)


def directory_index(session: Session, municipality_id: int) -> DirectoryIndex:
    """Every organisation, person and forum of the kommun, with the aliases plans use for them."""
    entries: list[DirectoryEntry] = []
    for org in session.exec(select(Organisation).where(Organisation.municipality_id == municipality_id)):
        entries.append(DirectoryEntry(PartyKind.ORGANISATION, org.id or 0, org.name, tuple(org.aliases)))
    for person in session.exec(select(Person).where(Person.municipality_id == municipality_id)):
        entries.append(DirectoryEntry(PartyKind.PERSON, person.id or 0, person.name, tuple(person.aliases)))
    for forum in session.exec(select(Forum).where(Forum.municipality_id == municipality_id)):
        entries.append(DirectoryEntry(PartyKind.FORUM, forum.id or 0, forum.name, tuple(forum.aliases)))
    return DirectoryIndex(entries)


def resolve_municipality(
    session: Session,
    file: Path,
    facts: PlanFacts,
    kommun: str | None,
    *,
    create: bool,
    adopted_on: date | None = None,
) -> Municipality:
    """The kommun the plan belongs to: ``--kommun`` first, then the plan's own Kommunkod/Kommun.

    A kommun named by a valid kommunkod and a name is created when it does not exist yet, taken into
    use on ``adopted_on``.
    """
    key = kommun or facts.municipality_code or facts.municipality_name
    if not key:
        raise ImportFailedError(
            [
                Problem(
                    Location(file),
                    "ange kommun med --kommun (kommunkod eller namn), eller Kommunkod på bladet Plan.",
                )
            ]
        )
    found = find_municipality(session, key)
    if found is not None:
        return found
    code = key if KOMMUNKOD.match(key) else facts.municipality_code
    name = facts.municipality_name if KOMMUNKOD.match(key) else key
    if code and name and KOMMUNKOD.match(code):
        municipality = Municipality(name=name, code=code, adopted_on=adopted_on)
        if create:
            session.add(municipality)
            session.flush()
        return municipality
    raise ImportFailedError(
        [
            Problem(
                Location(file),
                f'kommunen "{key}" finns inte. Skapa den med "samordna kommun skapa --namn NAMN --kod KOD", '
                "eller ange både Kommun och Kommunkod på bladet Plan.",
            )
        ]
    )


def import_plan_file(
    session: Session,
    file: Path,
    *,
    kommun: str | None = None,
    mapping_specs: list[str] | None = None,
    facts: PlanFacts | None = None,
    replace: bool = False,
    dry_run: bool = False,
    adopted_on: date | None = None,
) -> ImportReport:
    """Read, check and (unless ``dry_run``) write a plan. Raises ImportFailedError with every problem.

    ``adopted_on`` is the day the plan is taken into use (the CLI gives today): what was already late
    before it raises no escalation. None leaves the plan without a grace, judged on all its history.
    """
    try:
        mapping = parse_mapping(mapping_specs or [])
    except ValueError as error:
        raise ImportFailedError([Problem(Location(file), str(error))]) from error
    draft = build_draft(file, read_sheets(file), mapping=mapping, facts=facts)
    if draft.errors:
        raise ImportFailedError(draft.errors)
    if too_long_texts := _length_problems(draft):
        raise ImportFailedError(too_long_texts)
    municipality = resolve_municipality(
        session, file, draft.facts, kommun, create=not dry_run, adopted_on=adopted_on
    )
    report = ImportReport(draft, municipality.name, municipality.code)
    existing = plan_by_title(session, municipality.id, draft.facts.title) if municipality.id else None
    if existing is not None and not replace:
        raise ImportFailedError(
            [
                Problem(
                    Location(file),
                    f'kommunen har redan en plan med titeln "{draft.facts.title}" (id {existing.id}). '
                    "Använd --ersatt för att ersätta den.",
                )
            ]
        )
    index = directory_index(session, municipality.id) if municipality.id else DirectoryIndex([])
    if municipality.id:
        recognise_forums(
            draft,
            [
                (forum.kind, name)
                for forum in session.exec(select(Forum).where(Forum.municipality_id == municipality.id))
                for name in (forum.name, *forum.aliases)
            ],
        )
    _collect_unmatched(report, index)
    if dry_run:
        return report
    if existing is not None:
        _remove_plan_content(session, existing, file)
        report.replaced = True
    report.plan_id = _write(session, municipality, draft, index, existing, adopted_on)
    return report


# Where each field of a measure is stored: the schema's length applies to the text.
_MEASURE_COLUMNS: dict[Field, tuple[type[SQLModel], str]] = {
    Field.MEASURE: (Measure, "title"),
    Field.DESCRIPTION: (Measure, "description"),
    Field.PERIOD: (Measure, "raw_period"),
    Field.SCOPE: (Measure, "raw_scope"),
    Field.RESPONSIBLE: (Measure, "raw_responsible"),
    Field.PARTNERS: (Measure, "raw_partners"),
    Field.COST: (Measure, "raw_cost"),
    Field.GOAL: (Measure, "raw_goal"),
    Field.FOLLOW_UP: (Measure, "raw_follow_up"),
    Field.PROBLEM: (PlanProblem, "description"),
    Field.CAUSE: (Cause, "description"),
    Field.FOCUS_AREA: (FocusArea, "title"),
}


def _length_problems(draft: PlanDraft) -> list[Problem]:
    """Every text of the draft that is longer than its column: refused alike on SQLite and PostgreSQL."""
    facts_sheet = Location(draft.file, sheet="Plan")
    checks: list[tuple[Location, type[SQLModel], str, str]] = [
        (replace(facts_sheet, column="Titel"), ActionPlan, "title", draft.facts.title),
        (replace(facts_sheet, column="Beslutad av"), ActionPlan, "decided_by", draft.facts.decided_by),
        (
            replace(facts_sheet, column="Uppföljning"),
            ActionPlan,
            "default_follow_up_raw",
            draft.facts.follow_up,
        ),
        (
            replace(facts_sheet, column="Lägesbild"),
            SituationAssessment,
            "title",
            draft.facts.situation_assessment,
        ),
    ]
    for area in draft.focus_areas:
        where = Location(draft.file, sheet=area.title[:60], column="Fokusområde")
        checks += [
            (where, FocusArea, "title", area.title),
            (where, FocusArea, "overall_goal", area.overall_goal),
        ]
        for measure in area.measures:
            checks += [
                (replace(measure.location, column=field.value), *_MEASURE_COLUMNS[field], text)
                for field, text in measure.texts.items()
                if field in _MEASURE_COLUMNS
            ]
    for indicator in draft.indicators:
        checks += [
            (replace(indicator.location, column="Indikator"), Indicator, "name", indicator.name),
            (replace(indicator.location, column="Källa"), Indicator, "source", indicator.source),
            (replace(indicator.location, column="Enhet"), Indicator, "unit", indicator.unit),
        ]
    return [problem for check in checks if (problem := too_long(*check)) is not None]


def _collect_unmatched(report: ImportReport, index: DirectoryIndex) -> None:
    for measure in report.draft.measures:
        for kind in (Field.RESPONSIBLE, Field.PARTNERS):
            for name in index.match(measure.texts.get(kind, "")).unmatched:
                report.unmatched_parties[name] += 1
                report.unmatched_locations.setdefault(name, []).append(measure.location)


def _remove_plan_content(session: Session, plan: ActionPlan, file: Path) -> None:
    """Replacing a plan is refused once its measures have history: that history must not be lost."""
    measure_ids = list(session.exec(select(Measure.id).where(Measure.plan_id == plan.id)))
    history = session.exec(
        select(StatusReport.id).where(col(StatusReport.measure_id).in_(measure_ids))
    ).first()
    tasks = session.exec(select(Task.id).where(col(Task.measure_id).in_(measure_ids))).first()
    if history is not None or tasks is not None:
        raise ImportFailedError(
            [
                Problem(
                    Location(file),
                    f'planen "{plan.title}" har redan statusrapporter eller uppgifter och kan inte ersättas; '
                    "importera den nya versionen under en ny titel.",
                )
            ]
        )
    focus_ids = list(session.exec(select(FocusArea.id).where(FocusArea.plan_id == plan.id)))
    problem_ids = list(
        session.exec(select(PlanProblem.id).where(col(PlanProblem.focus_area_id).in_(focus_ids)))
    )
    session.exec(delete(MeasureParty).where(col(MeasureParty.measure_id).in_(measure_ids)))
    session.exec(delete(MeasureForum).where(col(MeasureForum.measure_id).in_(measure_ids)))
    # Sub-rows point at their first row: drop the links before the rows.
    for measure in session.exec(select(Measure).where(Measure.plan_id == plan.id)):
        measure.parent_id = None
    session.flush()
    session.exec(delete(Measure).where(col(Measure.plan_id) == plan.id))
    session.exec(delete(Cause).where(col(Cause.problem_id).in_(problem_ids)))
    session.exec(delete(PlanProblem).where(col(PlanProblem.id).in_(problem_ids)))
    for indicator in session.exec(select(Indicator).where(col(Indicator.focus_area_id).in_(focus_ids))):
        indicator.focus_area_id = None
    session.flush()
    session.exec(delete(FocusArea).where(col(FocusArea.plan_id) == plan.id))
    session.flush()


def _write(
    session: Session,
    municipality: Municipality,
    draft: PlanDraft,
    index: DirectoryIndex,
    existing: ActionPlan | None,
    adopted_on: date | None,
) -> int:
    kommun = municipality.id or 0
    facts = draft.facts
    assessment_id = None
    decided = facts.situation_assessment_decided_on
    if facts.situation_assessment or decided is not None:
        # A date without a title is still the lägesbild the plan builds on: "Lägesbild 2024".
        title = facts.situation_assessment or f"Lägesbild {decided.year if decided else ''}".strip()
        assessment = session.exec(
            select(SituationAssessment).where(
                SituationAssessment.municipality_id == kommun,
                SituationAssessment.title == title,
            )
        ).first() or SituationAssessment(municipality_id=kommun, title=title)
        assessment.decided_on = facts.situation_assessment_decided_on or assessment.decided_on
        session.add(assessment)
        session.flush()
        assessment_id = assessment.id
    plan = existing or ActionPlan(municipality_id=kommun, title=facts.title)
    plan.decided_by = facts.decided_by
    plan.decided_on = facts.decided_on
    plan.valid_from = facts.valid_from
    plan.revision_due = facts.revision_due
    plan.default_follow_up_raw = facts.follow_up
    plan.situation_assessment_id = assessment_id
    plan.source_file = draft.file.name
    plan.extra = dict(facts.extra)
    plan.adopted_on = adopted_on
    session.add(plan)
    session.flush()
    forums = list(session.exec(select(Forum).where(Forum.municipality_id == kommun).order_by(col(Forum.id))))
    position = 0
    area_ids: dict[str, int] = {}
    for area_position, area_draft in enumerate(draft.focus_areas, start=1):
        area = FocusArea(
            plan_id=plan.id or 0,
            position=area_position,
            title=area_draft.title,
            overall_goal=area_draft.overall_goal,
        )
        session.add(area)
        session.flush()
        area_ids[area.title] = area.id or 0
        causes: dict[tuple[str, str], int] = {}
        parent: Measure | None = None
        for measure_draft in area_draft.measures:
            position += 1
            cause_id = _cause(session, area.id or 0, measure_draft, causes)
            measure = _measure(kommun, plan.id or 0, area.id or 0, position, measure_draft, cause_id)
            if measure_draft.is_sub_row and parent is not None:
                measure.parent_id = parent.id
            session.add(measure)
            session.flush()
            if not measure_draft.is_sub_row:
                parent = measure
            _parties(session, measure, measure_draft, index)
            _forums(session, measure, measure_draft, forums, index)
    for indicator_draft in draft.indicators:
        indicator = session.exec(
            select(Indicator).where(
                Indicator.municipality_id == kommun, Indicator.name == indicator_draft.name
            )
        ).first() or Indicator(municipality_id=kommun, name=indicator_draft.name)
        indicator.source = indicator_draft.source or indicator.source
        indicator.unit = indicator_draft.unit or indicator.unit
        indicator.focus_area_id = _area_for(indicator_draft.focus_area, area_ids)
        session.add(indicator)
    session.flush()
    return plan.id or 0


def _area_for(name: str, area_ids: dict[str, int]) -> int | None:
    if not name:
        return None

    wanted = fold(name)
    for title, area_id in area_ids.items():
        if fold(title) == wanted or wanted in fold(title) or fold(title) in wanted:
            return area_id
    return None


def _cause(
    session: Session, area_id: int, draft: MeasureDraft, cache: dict[tuple[str, str], int]
) -> int | None:
    problem_text, cause_text = draft.texts.get(Field.PROBLEM, ""), draft.texts.get(Field.CAUSE, "")
    if not problem_text and not cause_text:
        return None
    key = (problem_text, cause_text)
    if key not in cache:
        problem = PlanProblem(focus_area_id=area_id, description=problem_text or "(problem ej angivet)")
        session.add(problem)
        session.flush()
        cause = Cause(problem_id=problem.id or 0, description=cause_text or "(orsak ej angiven)")
        session.add(cause)
        session.flush()
        cache[key] = cause.id or 0
    return cache[key]


def _measure(
    kommun: int, plan_id: int, area_id: int, position: int, draft: MeasureDraft, cause_id: int | None
) -> Measure:
    texts = draft.texts
    return Measure(
        municipality_id=kommun,
        plan_id=plan_id,
        focus_area_id=area_id,
        cause_id=cause_id,
        position=position,
        source_sheet=draft.location.sheet or "",
        source_row=draft.location.row or 0,
        title=draft.title,
        description=texts.get(Field.DESCRIPTION, ""),
        raw_period=texts.get(Field.PERIOD, ""),
        raw_scope=texts.get(Field.SCOPE, ""),
        raw_responsible=texts.get(Field.RESPONSIBLE, ""),
        raw_partners=texts.get(Field.PARTNERS, ""),
        raw_cost=texts.get(Field.COST, ""),
        raw_goal=texts.get(Field.GOAL, ""),
        raw_follow_up=texts.get(Field.FOLLOW_UP, ""),
        period_start=draft.period.start,
        period_end=draft.period.end,
        ongoing=draft.period.ongoing,
        recurring=draft.period.recurring,
        period_understood=draft.period.understood,
        follow_up_frequency=draft.follow_up.frequency,
        follow_up_understood=draft.follow_up.understood,
        status=draft.status,
        extra=draft.extra,
    )


def _parties(session: Session, measure: Measure, draft: MeasureDraft, index: DirectoryIndex) -> None:
    unmatched: list[str] = []
    position = 0
    for role, column in ((PartyRole.RESPONSIBLE, Field.RESPONSIBLE), (PartyRole.PARTNER, Field.PARTNERS)):
        match = index.match(draft.texts.get(column, ""))
        unmatched.extend(name for name in match.unmatched if name not in unmatched)
        for entry in match.entries:
            position += 1
            session.add(
                MeasureParty(
                    measure_id=measure.id or 0,
                    role=role,
                    position=position,
                    organisation_id=entry.id if entry.kind is PartyKind.ORGANISATION else None,
                    person_id=entry.id if entry.kind is PartyKind.PERSON else None,
                    forum_id=entry.id if entry.kind is PartyKind.FORUM else None,
                )
            )
    measure.unmatched_parties = unmatched
    session.add(measure)


def _forums(
    session: Session, measure: Measure, draft: MeasureDraft, forums: list[Forum], index: DirectoryIndex
) -> None:
    follow_up = draft.follow_up
    names = list(follow_up.forum_names) + [""] * (len(follow_up.forums) - len(follow_up.forum_names))
    for kind, name in zip(follow_up.forums, names, strict=False):
        named = (
            [entry for entry in index.match(name).entries if entry.kind is PartyKind.FORUM] if name else []
        )
        forum_id = named[0].id if named else next((forum.id for forum in forums if forum.kind is kind), None)
        session.add(
            MeasureForum(measure_id=measure.id or 0, kind=kind, name=name or kind.value, forum_id=forum_id)
        )
