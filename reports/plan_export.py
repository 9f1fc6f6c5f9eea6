"""The measure register as an XLSX workbook that ``samordna plan import`` reads back to the same plan.

The layout is the one the examples use and the importer understands (examples/README.md): a ``Plan``
sheet of key/value facts, one sheet per focus area with ``Fokusområde: <title>`` in A1 (and
``Övergripande mål: …`` when the area has one), the header row, and one row per measure with the
plan's own texts (not the parsed values: the importer parses them again the same way); a sub-activity's
Åtgärd cell is merged with its parent's; an ``Indikatorer`` sheet. The current status of each measure is
written in the Status column, so a plan re-imported from the export starts where this one stands.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

from sqlmodel import Session, col, select

from documents.spreadsheet import text_cells_only
from models.indicator import Indicator
from models.municipality import Municipality
from models.plan import ActionPlan, Cause, Measure, Problem, SituationAssessment, focus_areas

__all__ = ["MEASURE_COLUMNS", "export_plan_xlsx"]

# Header → what is written under it. Every header is a name the importer's alias table knows.
MEASURE_COLUMNS = (
    "Åtgärd",
    "Beskrivning",
    "Tid",
    "Omfattning",
    "Ansvarig",
    "Samverkan",
    "Kostnad",
    "Mål",
    "Uppföljning",
    "Problem",
    "Orsak",
    "Status",
)
# What the importer writes when a plan names a cause but no problem (or the reverse): not the plan's text.
_PERIOD_INDEX = MEASURE_COLUMNS.index("Tid")
_PLACEHOLDERS = {"(problem ej angivet)", "(orsak ej angiven)"}
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_LENGTH = 31


def _sheet_name(index: int, title: str, taken: set[str]) -> str:
    base = _SHEET_NAME.sub(" ", f"{index} {title}")[:_SHEET_NAME_LENGTH].strip()
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name = base[: _SHEET_NAME_LENGTH - len(suffix)] + suffix
        number += 1
    taken.add(name.casefold())
    return name


def _facts(session: Session, plan: ActionPlan, municipality: Municipality) -> list[tuple[str, str | date]]:
    assessment = (
        session.get(SituationAssessment, plan.situation_assessment_id)
        if plan.situation_assessment_id
        else None
    )
    facts: list[tuple[str, str | date | None]] = [
        ("Kommun", municipality.name),
        ("Kommunkod", municipality.code),
        ("Titel", plan.title),
        ("Beslutad av", plan.decided_by),
        ("Beslutsdatum", plan.decided_on),
        ("Giltig från", plan.valid_from),
        ("Revideras senast", plan.revision_due),
        ("Lägesbild", assessment.title if assessment else ""),
        ("Lägesbild beslutad", assessment.decided_on if assessment else None),
        ("Uppföljning", plan.default_follow_up_raw),
    ]
    facts += list(plan.extra.items())
    return [(key, value) for key, value in facts if value]


def _texts(measure: Measure, causes: dict[int, tuple[str, str]]) -> list[str]:
    problem, cause = causes.get(measure.cause_id or -1, ("", ""))
    return [
        measure.title,
        measure.description,
        measure.raw_period,
        measure.raw_scope,
        measure.raw_responsible,
        measure.raw_partners,
        measure.raw_cost,
        measure.raw_goal,
        measure.raw_follow_up,
        "" if problem in _PLACEHOLDERS else problem,
        "" if cause in _PLACEHOLDERS else cause,
        measure.status.value,
    ]


def export_plan_xlsx(session: Session, plan_id: int, *, created: datetime) -> bytes:  # noqa: C901, PLR0912, PLR0915 - one workbook, written top to bottom
    """The plan's register as XLSX bytes. ``created`` is the workbook's creation time (the run's moment)."""
    from openpyxl import Workbook  # noqa: PLC0415 - openpyxl only when the register is written
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415 - as above

    plan = session.get(ActionPlan, plan_id)
    if plan is None:
        raise ValueError(f"Planen {plan_id} finns inte.")
    municipality = session.get(Municipality, plan.municipality_id)
    if municipality is None:
        raise ValueError(f"Kommunen för planen {plan_id} finns inte.")
    workbook = Workbook()
    workbook.properties.creator = "Samordna"
    workbook.properties.created = created.replace(tzinfo=None)
    facts_sheet = workbook.active
    assert facts_sheet is not None  # noqa: S101 - a new workbook has one sheet
    facts_sheet.title = "Plan"
    for key, value in _facts(session, plan, municipality):
        facts_sheet.append([key, value])
        if isinstance(value, date):
            facts_sheet.cell(facts_sheet.max_row, 2).number_format = "yyyy-mm-dd"
    facts_sheet.column_dimensions["A"].width = 24
    facts_sheet.column_dimensions["B"].width = 70
    areas = focus_areas(session, plan_id)
    measures = list(
        session.exec(
            select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position), col(Measure.id))
        )
    )
    causes = {
        cause.id or 0: (problem.description, cause.description)
        for cause, problem in session.exec(
            select(Cause, Problem)
            .join(Problem, col(Problem.id) == col(Cause.problem_id))
            .where(col(Problem.focus_area_id).in_([area.id for area in areas]))
        ).all()
    }
    # A plan without a Tid column (Orsa) states its deadlines in the follow-up text, and the importer
    # reads them from there only when no Tid column exists: write one only when the plan has one.
    kept = {
        i for i in range(len(MEASURE_COLUMNS)) if i != _PERIOD_INDEX or any(m.raw_period for m in measures)
    }
    taken = {"plan", "indikatorer"}
    for index, area in enumerate(areas, start=1):
        sheet = workbook.create_sheet(_sheet_name(index, area.title, taken))
        sheet.append([f"Fokusområde: {area.title}"])
        sheet["A1"].font = Font(bold=True, size=13)
        if area.overall_goal:
            sheet.append([f"Övergripande mål: {area.overall_goal}"])
        sheet.append([])
        mine = [m for m in measures if m.focus_area_id == area.id]
        extra_headers = list(dict.fromkeys(key for m in mine for key in m.extra))
        sheet.append([*[c for i, c in enumerate(MEASURE_COLUMNS) if i in kept], *extra_headers])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        first_of: dict[int, int] = {}
        for measure in mine:
            texts = [text for i, text in enumerate(_texts(measure, causes)) if i in kept]
            sheet.append([*texts, *(measure.extra.get(key, "") for key in extra_headers)])
            row = sheet.max_row
            for cell in sheet[row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if measure.parent_id is None:
                first_of[measure.id or 0] = row
        # A sub-activity shares its parent's Åtgärd cell: merged vertically, as Orsa's plan writes it.
        for measure_id, first in first_of.items():
            last = first
            while last + 1 <= sheet.max_row and _parent_at(mine, sheet, last + 1, header_row) == measure_id:
                last += 1
            if last > first:
                for row in range(first + 1, last + 1):
                    sheet.cell(row, 1).value = None
                sheet.merge_cells(start_row=first, start_column=1, end_row=last, end_column=1)
        for letter, width in zip(
            "ABCDEFGHIJKL", (40, 40, 18, 24, 30, 30, 18, 40, 30, 30, 30, 14), strict=True
        ):
            sheet.column_dimensions[letter].width = width
    indicators = list(
        session.exec(
            select(Indicator)
            .where(Indicator.municipality_id == plan.municipality_id)
            .order_by(col(Indicator.name))
        )
    )
    titles = {area.id: area.title for area in areas}
    linked = [i for i in indicators if i.focus_area_id in titles]
    if linked:
        sheet = workbook.create_sheet("Indikatorer")
        sheet.append(["Indikator", "Källa", "Enhet", "Fokusområde"])
        for indicator in linked:
            sheet.append([indicator.name, indicator.source, indicator.unit, titles[indicator.focus_area_id]])
    text_cells_only(workbook)  # a measure text beginning with "=" stays text (and re-imports as written)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _parent_at(measures: list[Measure], sheet: object, row: int, header_row: int) -> int | None:
    """The parent id of the measure written on ``row`` (rows follow ``measures`` in order)."""
    index = row - header_row - 1
    if not 0 <= index < len(measures):
        return None
    del sheet
    return measures[index].parent_id
