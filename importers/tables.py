"""Read XLSX, CSV and YAML files into one shape: sheets of rows of cells.

Everything after this module works on ``Sheet`` objects and never on a file format. A cell remembers
whether it is the continuation of a vertically merged cell, because that is how a workbook says
"this row belongs to the åtgärd above" (Orsa writes four activities under one åtgärd that way).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from importers.problems import ImportFailedError, Location, Problem

CellValue = str | date | None


@dataclass(frozen=True, slots=True)
class Cell:
    value: CellValue
    merged_continuation: bool = False

    @property
    def text(self) -> str:
        """The cell as text: dates in ISO form, whitespace tidied."""
        if self.value is None:
            return ""
        if isinstance(self.value, date):
            return self.value.isoformat()
        return " ".join(self.value.split())


@dataclass(slots=True)
class Sheet:
    name: str
    rows: list[list[Cell]]
    # Row numbers as the user sees them (spreadsheet rows; YAML item numbers).
    row_numbers: list[int] = field(default_factory=list)
    row_label: str = "rad"
    in_workbook: bool = False  # a sheet of an XLSX workbook: messages name it

    def row_number(self, index: int) -> int:
        return self.row_numbers[index] if self.row_numbers else index + 1

    @property
    def shown_name(self) -> str | None:
        """The sheet's name where a message should show it (a workbook's sheet), else None."""
        return self.name if self.in_workbook else None


FILE_KINDS = {
    ".xlsx": "XLSX",
    ".xlsm": "XLSX",
    ".csv": "CSV",
    ".txt": "CSV",
    ".yaml": "YAML",
    ".yml": "YAML",
    ".json": "JSON",
}
TABLE_KINDS = frozenset({"XLSX", "CSV", "YAML"})  # what read_sheets reads as sheets of rows


def file_kind(path: Path) -> str | None:
    """XLSX, CSV, YAML or JSON by the file's name; None for a format Samordna does not read."""
    return FILE_KINDS.get(path.suffix.casefold())


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of ``path``; raises ImportFailedError with a Swedish message on unreadable input."""
    where = Location(path)
    if not path.exists():
        raise ImportFailedError([Problem(where, "filen finns inte.")])
    if not path.is_file():
        raise ImportFailedError([Problem(where, "är ingen fil.")])
    kind = file_kind(path)
    if kind not in TABLE_KINDS:
        known = ", ".join(
            sorted(suffix.lstrip(".") for suffix, found in FILE_KINDS.items() if found in TABLE_KINDS)
        )
        raise ImportFailedError(
            [
                Problem(
                    where, f'okänt filformat "{path.suffix or "(ingen filändelse)"}"; kända format: {known}.'
                )
            ]
        )
    if kind == "XLSX":
        return _read_xlsx(path)
    if kind == "CSV":
        return [_read_csv(path)]
    return _read_yaml(path)


def _read_xlsx(path: Path) -> list[Sheet]:
    try:
        workbook = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ImportFailedError(
            [
                Problem(
                    Location(path),
                    f"filen går inte att läsa som en Excel-arbetsbok (XLSX) ({type(error).__name__}).",
                )
            ]
        ) from error
    sheets = []
    for worksheet in workbook.worksheets:
        continuations = set()
        for merged in worksheet.merged_cells.ranges:
            for row in range(merged.min_row + 1, merged.max_row + 1):
                for column in range(merged.min_col, merged.max_col + 1):
                    continuations.add((row, column))
        rows = []
        for row_index, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            rows.append(
                [
                    Cell(_cell_value(value), (row_index, column_index) in continuations)
                    for column_index, value in enumerate(row, start=1)
                ]
            )
        sheets.append(Sheet(worksheet.title, rows, in_workbook=True))
    return sheets


def _cell_value(value: Any) -> CellValue:
    """A workbook's or a YAML file's value as a cell: dates stay dates, 2025.0 reads as "2025", lists
    are joined, blank text is no value."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value).strip() or None


def _read_csv(path: Path) -> Sheet:
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportFailedError([Problem(Location(path), "filen är tom.")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Swedish Windows saves "CSV" as Windows-1252.
        text = raw.decode("cp1252")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if text.count(";") > text.count(",") else ","
    rows = [[Cell(value.strip() or None) for value in row] for row in csv.reader(io.StringIO(text), dialect)]
    return Sheet(path.stem, rows)


def _read_yaml(path: Path) -> list[Sheet]:
    """A YAML plan: ``plan:`` facts and ``fokusområden:`` each with ``åtgärder:`` as mappings.

    It becomes a "Plan" sheet of key/value rows and one sheet per focus area whose header is the union
    of the measures' keys, so YAML goes through the same column matching as a workbook.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise ImportFailedError([Problem(Location(path, row=row), "filen är inte giltig YAML.")]) from error
    if not isinstance(document, dict):
        raise ImportFailedError(
            [Problem(Location(path), "YAML-filen ska innehålla nycklarna plan och fokusområden.")]
        )
    sheets: list[Sheet] = []
    facts = document.get("plan") or {}
    if not isinstance(facts, dict):
        raise ImportFailedError(
            [Problem(Location(path, sheet="plan"), "plan ska vara en samling nyckel: värde.")]
        )
    sheets.append(Sheet("Plan", [[Cell(str(key)), Cell(_cell_value(value))] for key, value in facts.items()]))
    areas = document.get("fokusområden", document.get("fokusomraden"))
    if not isinstance(areas, list):
        raise ImportFailedError(
            [Problem(Location(path), "nyckeln fokusområden saknas eller är ingen lista.")]
        )
    for number, area in enumerate(areas, start=1):
        where = Location(path, sheet=f"fokusområde {number}")
        if not isinstance(area, dict) or not isinstance(area.get("åtgärder", area.get("atgarder")), list):
            raise ImportFailedError([Problem(where, "ska ha titel och en lista åtgärder.")])
        measures: list[Any] = area.get("åtgärder", area.get("atgarder")) or []
        header: list[str] = []
        for item in measures:
            if not isinstance(item, dict):
                raise ImportFailedError([Problem(where, "varje åtgärd ska vara en samling nyckel: värde.")])
            header.extend(str(key) for key in item if str(key) not in header)
        title_rows = [[Cell(f"Fokusområde: {area.get('titel', f'Fokusområde {number}')}")]]
        if area.get("mål"):
            title_rows.append([Cell(f"Övergripande mål: {area['mål']}")])
        rows = [
            *title_rows,
            [Cell(key) for key in header],
            *[[Cell(_cell_value(item.get(key))) for key in header] for item in measures],
        ]
        numbers = [0] * len(title_rows) + [0] + list(range(1, len(measures) + 1))
        sheets.append(Sheet(str(area.get("titel", f"Fokusområde {number}")), rows, numbers, "åtgärd nr"))
    return sheets


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index."""
    return str(get_column_letter(index + 1))
