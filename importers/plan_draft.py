"""From sheets to a plan draft: everything an import will write, checked before anything is written.

Pure: no database, no clock. ``build_draft`` reads every sheet, maps columns, parses the free text and
collects errors and warnings with their places. The writer (``plan_import``) only runs on a draft
without errors, inside one transaction.

Rules a coordinator can rely on:
- A sheet is a focus area when it has a header row naming an åtgärd column; its title comes from a
  "Fokusområde: …" row above the header, else from a focus-area column, else from the sheet name.
- A sheet called "Plan" holds plan facts as key/value rows; a sheet whose header names "Indikator"
  holds indicators.
- A row with text but an empty åtgärd cell is an error, unless the cell is the continuation of a
  vertically merged åtgärd cell: then the row is a sub-activity of the åtgärd above.
- A plan with no period column (Orsa) states its deadlines in the follow-up column: a time parsed from
  that column becomes the measure's period.
- What cannot be parsed is kept verbatim and flagged; an impossible date is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.text import fold
from importers.columns import HEADER_SEARCH_ROWS, ColumnMatch, Field, find_header, match_column
from importers.follow_up import FollowUp, parse_follow_up
from importers.periods import InvalidDateError, Period, parse_period
from importers.problems import Location, Problem
from importers.tables import Sheet, column_letter
from models.enums import MeasureStatus


@dataclass(slots=True)
class PlanFacts:
    municipality_name: str = ""
    municipality_code: str = ""
    title: str = ""
    decided_by: str = ""
    decided_on: date | None = None
    valid_from: date | None = None
    revision_due: date | None = None
    situation_assessment: str = ""
    situation_assessment_decided_on: date | None = None
    follow_up: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MeasureDraft:
    location: Location
    title: str
    texts: dict[Field, str]
    period: Period
    follow_up: FollowUp
    status: MeasureStatus
    is_sub_row: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FocusAreaDraft:
    title: str
    overall_goal: str = ""
    measures: list[MeasureDraft] = field(default_factory=list)


@dataclass(slots=True)
class IndicatorDraft:
    location: Location
    name: str
    source: str
    unit: str
    focus_area: str


@dataclass(slots=True)
class PlanDraft:
    file: Path
    facts: PlanFacts
    focus_areas: list[FocusAreaDraft] = field(default_factory=list)
    indicators: list[IndicatorDraft] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)

    @property
    def measures(self) -> list[MeasureDraft]:
        return [measure for area in self.focus_areas for measure in area.measures]


# Plan facts: folded key → attribute. Keys are what the documents write ("Datum för revidering").
_FACT_KEYS: dict[str, str] = {
    "kommun": "municipality_name",
    "kommunnamn": "municipality_name",
    "kommunkod": "municipality_code",
    "titel": "title",
    "plan": "title",
    "namn": "title",
    "beslutad av": "decided_by",
    "beslutande": "decided_by",
    "beslutsdatum": "decided_on",
    "datum for beslut": "decided_on",
    "beslutad": "decided_on",
    "giltig fran": "valid_from",
    "galler fran": "valid_from",
    "revideras senast": "revision_due",
    "datum for revidering": "revision_due",
    "revideringsdatum": "revision_due",
    "bor revideras senast": "revision_due",
    "lagesbild": "situation_assessment",
    "lagesbild beslutad": "situation_assessment_decided_on",
    "uppfoljning": "follow_up",
}
_MAX_HEADER_LENGTH = 60
_DATE_FACTS = {"decided_on", "valid_from", "revision_due", "situation_assessment_decided_on"}
_FACTS_SHEETS = {"plan", "planfakta", "om planen", "metadata"}
_INDICATOR_HEADERS = {"indikator", "indikatorer", "matpunkt", "matpunkter", "indikator matpunkt"}
_TITLE_ROW = re.compile(
    r"^(?:fokusområde|fokusomrade|prioriterat område|prioriterat omrade|prioriterat brottsproblem)"
    r"\s*(?:\d+\s*)?[:.–—-]?\s*(?P<title>.+)$",
    re.IGNORECASE,
)
_GOAL_ROW = re.compile(r"^(?:övergripande mål|overgripande mal|mål|mal)\s*:\s*(?P<goal>.+)$", re.IGNORECASE)


def build_draft(
    file: Path,
    sheets: list[Sheet],
    *,
    mapping: dict[str, Field] | None = None,
    facts: PlanFacts | None = None,
) -> PlanDraft:
    """Read ``sheets`` into a draft. ``facts`` given on the command line win over the file's own."""
    draft = PlanDraft(file, PlanFacts())
    for sheet in sheets:
        header = find_header(sheet, mapping)
        if header is not None:
            _read_measures(draft, sheet, header.index, header.columns)
        elif fold(sheet.name) in _FACTS_SHEETS:
            _read_facts(draft, sheet)
        elif (indicator_header := _indicator_header(sheet)) is not None:
            _read_indicators(draft, sheet, indicator_header)
        elif any(cell.text for row in sheet.rows for cell in row):
            draft.skipped_sheets.append(sheet.name)
    if facts is not None:
        _override_facts(draft.facts, facts)
    if not draft.facts.title:
        draft.facts.title = file.stem
    if not draft.measures and not draft.errors:
        draft.errors.append(_no_table_problem(file, sheets, mapping))
    _apply_default_follow_up(draft)
    return draft


def _no_table_problem(file: Path, sheets: list[Sheet], mapping: dict[str, Field] | None) -> Problem:
    """No sheet has an åtgärd column: name the columns of the likeliest header row, so --map can fix it."""
    for sheet in sheets:
        if fold(sheet.name) in _FACTS_SHEETS:
            continue
        for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            names = [cell.text for cell in row if cell.text]
            if len(names) >= 2 and all(len(name) <= _MAX_HEADER_LENGTH for name in names):  # noqa: PLR2004 - a table has two columns or more
                unknown = [name for name in names if match_column(name, mapping).field is None]
                listed = ", ".join(f'"{name}"' for name in unknown or names)
                return Problem(
                    Location(file, sheet.name, sheet.row_number(index), row_label=sheet.row_label),
                    f"hittade ingen kolumn för åtgärd. Okända kolumner: {listed}. "
                    'Ange vad de betyder med --map, t.ex. --map "Vad ska göras=åtgärd".',
                )
    return Problem(Location(file), "filen innehåller ingen tabell (inga rader med minst två ifyllda celler).")


def _override_facts(target: PlanFacts, given: PlanFacts) -> None:
    for name in PlanFacts.__slots__:
        value = getattr(given, name)
        if value and name != "extra":
            setattr(target, name, value)
    target.extra.update(given.extra)


def _read_facts(draft: PlanDraft, sheet: Sheet) -> None:
    for index, row in enumerate(sheet.rows):
        cells = [cell for cell in row if cell.text]
        if len(cells) < 2:  # noqa: PLR2004 - a fact is a key and a value
            continue
        key, value = cells[0].text.rstrip(":"), cells[1]
        where = Location(draft.file, sheet.name, sheet.row_number(index), key, row_label=sheet.row_label)
        attribute = _FACT_KEYS.get(fold(key))
        if attribute is None:
            draft.facts.extra[key] = value.text
        elif attribute in _DATE_FACTS:
            setattr(
                draft.facts, attribute, _fact_date(draft, where, value.value, attribute == "revision_due")
            )
        else:
            setattr(draft.facts, attribute, value.text)


def _fact_date(draft: PlanDraft, where: Location, value: str | date | None, use_end: bool) -> date | None:  # noqa: FBT001 - private helper
    if isinstance(value, date) or value is None:
        return value
    try:
        period = parse_period(value)
    except InvalidDateError as error:
        draft.errors.append(Problem(where, str(error)))
        return None
    chosen = period.end if use_end else period.start
    if not period.understood or chosen is None:
        draft.errors.append(Problem(where, f'"{value}" är inget datum (skriv till exempel 2026-06-17).'))
        return None
    return chosen


def _indicator_header(sheet: Sheet) -> int | None:
    for index, row in enumerate(sheet.rows[:20]):
        if any(fold(cell.text) in _INDICATOR_HEADERS for cell in row):
            return index
    return None


def _read_indicators(draft: PlanDraft, sheet: Sheet, header_index: int) -> None:
    names = [fold(cell.text) for cell in sheet.rows[header_index]]

    def column(*candidates: str) -> int | None:
        return next((i for i, name in enumerate(names) if name in candidates), None)

    name_col = column(*_INDICATOR_HEADERS)
    source_col = column("kalla", "datakalla")
    unit_col = column("enhet")
    area_col = column("fokusomrade", "prioriterat omrade")
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]

        def text(col: int | None, row: list = row) -> str:  # type: ignore[type-arg]
            return row[col].text if col is not None and col < len(row) else ""

        name = text(name_col)
        if not name:
            continue
        where = Location(draft.file, sheet.name, sheet.row_number(index), row_label=sheet.row_label)
        draft.indicators.append(IndicatorDraft(where, name, text(source_col), text(unit_col), text(area_col)))


def _read_measures(draft: PlanDraft, sheet: Sheet, header_index: int, columns: list[ColumnMatch]) -> None:
    columns = _dedupe_columns(draft, sheet, header_index, columns)
    sheet_title, overall_goal = _title_rows(sheet, header_index)
    measure_col = next(i for i, column in enumerate(columns) if column.field is Field.MEASURE)
    has_period_column = any(column.field is Field.PERIOD for column in columns)
    current_area = sheet_title or sheet.name
    previous: MeasureDraft | None = None
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if not any(cell.text for cell in row):
            continue
        row_number = sheet.row_number(index)
        texts: dict[Field, str] = {}
        extra: dict[str, str] = {}
        for col, column in enumerate(columns):
            cell_text = row[col].text if col < len(row) else ""
            if column.field is None:
                if cell_text:
                    extra[column.header or f"Kolumn {column_letter(col)}"] = cell_text
            elif column.field is not Field.IGNORE:
                texts[column.field] = cell_text
        if texts.get(Field.FOCUS_AREA):
            current_area = texts[Field.FOCUS_AREA]
        measure_cell = row[measure_col] if measure_col < len(row) else None
        title = texts.get(Field.MEASURE, "")
        is_sub_row = False
        if not title:
            if measure_cell is not None and measure_cell.merged_continuation and previous is not None:
                title, is_sub_row = previous.title, True
            else:
                draft.errors.append(
                    Problem(
                        _where(draft, sheet, row_number, columns, measure_col),
                        "raden har text men ingen åtgärd. Skriv åtgärden i cellen, eller ta bort raden.",
                    )
                )
                continue
        measure = _measure(
            draft, sheet, row_number, columns, texts, title, has_period_column=has_period_column
        )
        if measure is None:
            continue
        measure.is_sub_row = is_sub_row
        measure.extra = extra
        _area(
            draft, current_area, overall_goal if current_area == (sheet_title or sheet.name) else ""
        ).measures.append(measure)
        previous = measure


def _dedupe_columns(
    draft: PlanDraft, sheet: Sheet, header_index: int, columns: list[ColumnMatch]
) -> list[ColumnMatch]:
    """A concept named by two columns keeps the first; the second is kept as extra text, with a warning."""
    seen: dict[Field, str] = {}
    result: list[ColumnMatch] = []
    for col, column in enumerate(columns):
        where = Location(
            draft.file,
            sheet.name,
            sheet.row_number(header_index),
            column.header,
            column_letter(col),
            sheet.row_label,
        )
        if column.field is None or column.field is Field.IGNORE:
            if column.header:
                draft.warnings.append(
                    Problem(
                        where,
                        "okänd kolumn: texten sparas som extra uppgift på åtgärden "
                        "(ange --map för att tolka den).",
                    )
                )
            result.append(column)
            continue
        if column.field in seen:
            draft.warnings.append(
                Problem(
                    where,
                    f'både "{seen[column.field]}" och denna kolumn betyder "{column.field.value}"; '
                    "denna sparas som extra uppgift.",
                )
            )
            result.append(ColumnMatch(None, column.header))
            continue
        if column.fuzzy:
            draft.warnings.append(Problem(where, f'tolkad som "{column.field.value}" (stavningen liknar).'))
        seen[column.field] = column.header
        result.append(column)
    return result


def _title_rows(sheet: Sheet, header_index: int) -> tuple[str, str]:
    title, goal = "", ""
    for row in sheet.rows[:header_index]:
        for cell in row:
            text = cell.text
            if not text:
                continue
            if not goal and (found := _GOAL_ROW.match(text)):
                goal = found["goal"].strip()
            elif not title and (found := _TITLE_ROW.match(text)):
                title = found["title"].strip()
    return title, goal


def _area(draft: PlanDraft, title: str, goal: str) -> FocusAreaDraft:
    for area in draft.focus_areas:
        if area.title == title:
            return area
    area = FocusAreaDraft(title, goal)
    draft.focus_areas.append(area)
    return area


def _where(draft: PlanDraft, sheet: Sheet, row: int, columns: list[ColumnMatch], col: int) -> Location:
    return Location(draft.file, sheet.name, row, columns[col].header, column_letter(col), sheet.row_label)


def _column_of(columns: list[ColumnMatch], wanted: Field) -> int:
    return next(i for i, column in enumerate(columns) if column.field is wanted)


def _measure(
    draft: PlanDraft,
    sheet: Sheet,
    row: int,
    columns: list[ColumnMatch],
    texts: dict[Field, str],
    title: str,
    *,
    has_period_column: bool,
) -> MeasureDraft | None:
    errors_before = len(draft.errors)
    period = Period(None, None, ongoing=False, recurring=False, understood=False)
    if texts.get(Field.PERIOD):
        try:
            period = parse_period(texts[Field.PERIOD])
        except InvalidDateError as error:
            draft.errors.append(
                Problem(_where(draft, sheet, row, columns, _column_of(columns, Field.PERIOD)), str(error))
            )
    follow_up = FollowUp((), (), None, None, understood=False)
    if texts.get(Field.FOLLOW_UP):
        try:
            follow_up = parse_follow_up(texts[Field.FOLLOW_UP])
        except InvalidDateError as error:
            where = _where(draft, sheet, row, columns, _column_of(columns, Field.FOLLOW_UP))
            draft.errors.append(Problem(where, str(error)))
    if not has_period_column and follow_up.period is not None:
        period = follow_up.period
    status = MeasureStatus.ONGOING if period.ongoing else MeasureStatus.PLANNED
    if texts.get(Field.STATUS):
        known = {fold(member.value): member for member in MeasureStatus}
        parsed = known.get(fold(texts[Field.STATUS]))
        if parsed is None:
            names = ", ".join(member.value for member in MeasureStatus)
            where = _where(draft, sheet, row, columns, _column_of(columns, Field.STATUS))
            draft.errors.append(
                Problem(where, f'okänd status "{texts[Field.STATUS]}"; använd en av: {names}.')
            )
        else:
            status = parsed
    if len(draft.errors) > errors_before:
        return None
    where = Location(draft.file, sheet.name, row, row_label=sheet.row_label)
    return MeasureDraft(where, title, texts, period, follow_up, status)


def _apply_default_follow_up(draft: PlanDraft) -> None:
    """Measures without a follow-up text follow the plan's stated rhythm, if the plan states one."""
    if not draft.facts.follow_up:
        return
    try:
        default = parse_follow_up(draft.facts.follow_up)
    except InvalidDateError as error:
        draft.errors.append(Problem(Location(draft.file, "Plan", column="Uppföljning"), str(error)))
        return
    for measure in draft.measures:
        if not measure.texts.get(Field.FOLLOW_UP):
            measure.follow_up = default
