"""Indicator values per period from CSV or XLSX: ``samordna indikator import FIL``.

One row per value. Columns (names compared without case or diacritics):

- ``Indikator`` (required): the indicator's name;
- ``Period`` (required): ``2024`` (the year), ``2025H1``/``2025H2`` (a half-year), ``2025Q3`` or
  ``2025 kvartal 3`` (a quarter), or a range of dates ``2025-01-01–2025-06-30``;
- ``Värde`` (required): a number, decimal comma or point, a trailing ``%`` allowed;
- ``Kommentar`` (optional);
- optionally the indicator's definition, used when the indicator does not exist yet: ``Källa``,
  ``Enhet``, ``Riktning`` (``högre är bättre`` / ``lägre är bättre``), ``Mål`` and ``Fokusområde``.

An indicator that does not exist and has no Källa on its row is an error: define it first with
``samordna indikator skapa``. A value for a period that already has one replaces it (an import of the
same file twice changes nothing). Every problem names file, sheet, row and column; one error and
nothing is written (the caller holds one transaction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from core.text import fold
from importers.problems import ImportFailedError, Location, Problem
from importers.schema import too_long
from importers.tables import Sheet, column_letter, read_sheets
from models.indicator import Indicator, IndicatorValue, normalise_source
from models.plan import ActionPlan, FocusArea

__all__ = ["ValueImport", "import_indicator_values", "parse_direction", "parse_value_period"]

_COLUMNS = {
    "indikator": "name",
    "indikatorns namn": "name",
    "matpunkt": "name",
    "period": "period",
    "ar": "period",
    "tid": "period",
    "varde": "value",
    "utfall": "value",
    "kommentar": "note",
    "anteckning": "note",
    "kalla": "source",
    "datakalla": "source",
    "enhet": "unit",
    "riktning": "direction",
    "mal": "target",
    "malvarde": "target",
    "fokusomrade": "focus_area",
    "prioriterat omrade": "focus_area",
}
_REQUIRED = {"name": "Indikator", "period": "Period", "value": "Värde"}
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})\s*h\s*([12])$|^h\s*([12])\s*(\d{4})$|^halvar\s*([12])\s*(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})\s*(?:q|kv|kvartal)\s*([1-4])$|^(?:q|kv|kvartal)\s*([1-4])\s*(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:–|—|-{1,2}|till)\s*(\d{4}-\d{2}-\d{2})$")
_QUARTER_ENDS = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


def parse_value_period(text: str) -> tuple[date, date]:
    """``2025H1`` → (2025-01-01, 2025-06-30) and the other forms in the module docstring.

    Raises ValueError with a Swedish message."""
    folded = fold(text).replace(" ", "") if not _RANGE.match(text.strip()) else ""
    if found := _YEAR.match(folded):
        year = int(found[1])
        return date(year, 1, 1), date(year, 12, 31)
    if found := _HALF.match(folded):
        year = int(found[1] or found[4] or found[6])
        half = int(found[2] or found[3] or found[5])
        return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))
    if found := _QUARTER.match(folded):
        year = int(found[1] or found[4])
        quarter = int(found[2] or found[3])
        end_month, end_day = _QUARTER_ENDS[quarter]
        return date(year, end_month - 2, 1), date(year, end_month, end_day)
    if found := _RANGE.match(text.strip()):
        try:
            start, end = date.fromisoformat(found[1]), date.fromisoformat(found[2])
        except ValueError as error:
            raise ValueError(f'"{text}" innehåller ett datum som inte finns.') from error
        if end < start:
            raise ValueError(f'"{text}": periodens slut ligger före dess början.')
        return start, end
    raise ValueError(
        f'perioden "{text}" förstås inte; skriv ett år (2024), ett halvår (2025H1), ett kvartal (2025Q3) '
        "eller två datum (2025-01-01–2025-06-30)."
    )


def parse_number(text: str) -> float:
    """``12,5`` / ``12.5`` / ``12,5 %`` / ``1 234`` → a float. Raises ValueError in Swedish."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").rstrip("%").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f'"{text}" är inget tal (skriv t.ex. 12,5).') from None


def parse_direction(text: str) -> bool | None:
    """``högre är bättre`` → True, ``lägre är bättre`` → False, empty → None. Raises ValueError."""
    folded = fold(text)
    if not folded:
        return None
    if folded.startswith(("hogre", "okande", "upp")):
        return True
    if folded.startswith(("lagre", "minskande", "ned", "ner")):
        return False
    raise ValueError(f'riktningen "{text}" förstås inte; skriv "högre är bättre" eller "lägre är bättre".')


@dataclass(slots=True)
class ValueImport:
    """What an import did (or would do, with --dry-run)."""

    file: Path
    created_indicators: list[str] = field(default_factory=list)
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class _Row:
    where: Location
    name: str
    start: date
    end: date
    value: float
    note: str
    definition: dict[str, str]


def _header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(sheet.rows[:20]):
        found: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = _COLUMNS.get(fold(cell.text))
            if key is not None and key not in found:
                found[key] = position
        if "name" in found and "value" in found:
            return index, found
    return None


def _read(file: Path, problems: list[Problem]) -> list[_Row]:
    rows: list[_Row] = []
    for sheet in read_sheets(file):
        sheet_name = sheet.shown_name
        header = _header(sheet)
        if header is None:
            if any(cell.text for row in sheet.rows for cell in row) and not sheet.in_workbook:
                problems.append(
                    Problem(
                        Location(file, sheet_name), "hittade ingen rubrikrad med Indikator, Period och Värde."
                    )
                )
            continue
        header_index, columns = header
        headers = sheet.rows[header_index]
        for key, title in _REQUIRED.items():
            if key not in columns:
                problems.append(
                    Problem(
                        Location(file, sheet_name, sheet.row_number(header_index), row_label=sheet.row_label),
                        f'kolumnen "{title}" saknas.',
                    )
                )
        if any(key not in columns for key in _REQUIRED):
            continue
        for index in range(header_index + 1, len(sheet.rows)):
            row = sheet.rows[index]
            if not any(cell.text for cell in row):
                continue

            def text(key: str, row: list = row) -> str:  # type: ignore[type-arg]
                position = columns.get(key)  # noqa: B023 - called before the loop moves on
                return row[position].text if position is not None and position < len(row) else ""

            def where(key: str, index: int = index) -> Location:
                position = columns[key]  # noqa: B023 - called before the loop moves on
                return Location(
                    file,
                    sheet_name,  # noqa: B023 - called before the loop moves on
                    sheet.row_number(index),  # noqa: B023 - as above
                    headers[position].text,  # noqa: B023 - as above
                    column_letter(position),
                    sheet.row_label,  # noqa: B023 - as above
                )

            parsed = _parse_row(
                file, sheet_name, sheet.row_number(index), sheet.row_label, text, where, problems
            )
            if parsed is not None:
                rows.append(parsed)
    return rows


def _parse_row(
    file: Path,
    sheet_name: str | None,
    row_number: int,
    row_label: str,
    text: object,
    where: object,
    problems: list[Problem],
) -> _Row | None:
    assert callable(text)  # noqa: S101 - typed closures from _read
    assert callable(where)  # noqa: S101 - as above
    before = len(problems)
    name = text("name")
    if not name:
        problems.append(Problem(where("name"), "indikatorns namn saknas."))
    start = end = date.min
    try:
        start, end = parse_value_period(text("period"))
    except ValueError as error:
        problems.append(Problem(where("period"), str(error)))
    value = 0.0
    try:
        value = parse_number(text("value"))
    except ValueError as error:
        problems.append(Problem(where("value"), str(error) if text("value") else "värdet saknas."))
    definition = {
        key: text(key) for key in ("source", "unit", "direction", "target", "focus_area") if text(key)
    }
    for key, model, column in (
        ("name", Indicator, "name"),
        ("source", Indicator, "source"),
        ("unit", Indicator, "unit"),
        ("note", IndicatorValue, "note"),
    ):
        if text(key) and (problem := too_long(where(key), model, column, text(key))) is not None:
            problems.append(problem)
    if len(problems) > before:
        return None
    return _Row(
        Location(file, sheet_name, row_number, row_label=row_label),
        name,
        start,
        end,
        value,
        text("note"),
        definition,
    )


def _define(session: Session, municipality_id: int, row: _Row, problems: list[Problem]) -> Indicator | None:
    """A new indicator from the row's definition columns, or a problem saying how to define it."""
    if not row.definition.get("source"):
        problems.append(
            Problem(
                row.where,
                f'indikatorn "{row.name}" finns inte. Skapa den med "samordna indikator skapa --namn …", '
                "eller fyll i Källa (och gärna Enhet, Riktning, Mål) på raden.",
            )
        )
        return None
    indicator = Indicator(
        municipality_id=municipality_id, name=row.name, source=normalise_source(row.definition["source"])
    )
    indicator.unit = row.definition.get("unit", "")
    try:
        indicator.higher_is_better = parse_direction(row.definition.get("direction", ""))
        if row.definition.get("target"):
            indicator.target = parse_number(row.definition["target"])
    except ValueError as error:
        problems.append(Problem(row.where, str(error)))
        return None
    if area_name := row.definition.get("focus_area"):
        indicator.focus_area_id = focus_area_by_name(session, municipality_id, area_name)
        if indicator.focus_area_id is None:
            problems.append(Problem(row.where, f'fokusområdet "{area_name}" finns inte i kommunens planer.'))
            return None
    return indicator


def focus_area_by_name(session: Session, municipality_id: int, name: str) -> int | None:
    """The focus area of one of the kommun's plans whose title is ``name`` (or contains it),
    newest plan first."""
    wanted = fold(name)
    areas = session.exec(
        select(FocusArea)
        .join(ActionPlan, col(ActionPlan.id) == col(FocusArea.plan_id))
        .where(ActionPlan.municipality_id == municipality_id)
        .order_by(col(ActionPlan.decided_on).desc(), col(FocusArea.position))
    ).all()
    exact = [area for area in areas if fold(area.title) == wanted]
    close = [area for area in areas if wanted and wanted in fold(area.title)]
    chosen = exact or close
    return chosen[0].id if chosen else None


def import_indicator_values(
    session: Session, file: Path, municipality_id: int, *, dry_run: bool = False
) -> ValueImport:
    """Read and check every row, then write (unless ``dry_run``).

    Raises ImportFailedError, writing nothing."""
    problems: list[Problem] = []
    rows = _read(file, problems)
    if not rows and not problems:
        problems.append(Problem(Location(file), "filen innehåller inga värden."))
    known = {
        indicator.name.casefold(): indicator
        for indicator in session.exec(select(Indicator).where(Indicator.municipality_id == municipality_id))
    }
    result = ValueImport(file)
    seen: dict[tuple[str, date, date], Location] = {}
    for row in rows:
        key = (row.name.casefold(), row.start, row.end)
        if key in seen:
            problems.append(Problem(row.where, f"samma indikator och period som {seen[key].describe()}."))
        seen[key] = row.where
        if row.name.casefold() not in known:
            indicator = _define(session, municipality_id, row, problems)
            if indicator is not None:
                known[row.name.casefold()] = indicator
                result.created_indicators.append(row.name)
    if problems:
        raise ImportFailedError(problems)
    for name in result.created_indicators:
        session.add(known[name.casefold()])
    session.flush()
    for row in rows:
        indicator = known[row.name.casefold()]
        existing = session.exec(
            select(IndicatorValue).where(
                IndicatorValue.indicator_id == indicator.id,
                IndicatorValue.period_start == row.start,
                IndicatorValue.period_end == row.end,
            )
        ).first()
        if existing is None:
            session.add(
                IndicatorValue(
                    indicator_id=indicator.id or 0,
                    period_start=row.start,
                    period_end=row.end,
                    value=row.value,
                    note=row.note,
                )
            )
            result.inserted += 1
        elif existing.value == row.value and existing.note == row.note:
            result.unchanged += 1
        else:
            existing.value, existing.note = row.value, row.note
            session.add(existing)
            result.replaced += 1
    session.flush()
    if dry_run:
        session.rollback()
    return result
