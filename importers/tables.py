"""Read XLSX, CSV and YAML files into one shape: sheets of rows of cells.

Everything after this module works on ``Sheet`` objects and never on a file format. A cell remembers
whether it is the continuation of a vertically merged cell, because that is how a workbook says
"this row belongs to the åtgärd above" (Orsa writes four activities under one åtgärd that way).

No file is trusted (importers/limits.py): its size is checked before it is opened, a workbook's unpacked
size and declared range before a cell is read, and rows, columns, cells and each cell's length while it
is read, each breach a Swedish message with the file and the place. A workbook is streamed in
openpyxl's read-only mode with its declared range reset, so only cells that exist are read. CSV is read
as UTF-8, UTF-16 (with a BOM, or recognised by its zero bytes) or Windows-1252; the delimiter is the one
under which the first rows agree on a number of cells, quoted cells read as quoted. A NUL character is
refused everywhere (PostgreSQL cannot store one, SQLite can: both must refuse the same files).
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from core.text import swedish_number
from documents.spreadsheet import unescape_formula
from importers.limits import ImportLimits, check_file, current_limits, decode_text, limit_problem
from importers.problems import ImportFailedError, Location, Problem
from importers.safe_yaml import load_yaml

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

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


# Shared cells for the empty places of a row: a padded sheet holds one object, not one per place.
_EMPTY = Cell(None)
_EMPTY_CONTINUATION = Cell(None, merged_continuation=True)
_CANDIDATE_DELIMITERS = (";", ",", "\t")
_SNIFF_CHARS = 65_536
_SNIFF_ROWS = 50
_UTF16_ZERO_SHARE = 0.4  # of the bytes at odd (or even) positions: text in UTF-16 without a BOM


def read_sheets(path: Path, limits: ImportLimits | None = None) -> list[Sheet]:
    """Every sheet of ``path``; raises ImportFailedError with a Swedish message on unreadable input or
    on a breach of ``limits`` (default: the settings' ``import_max_*``), checked before reading."""
    limits = limits or current_limits()
    where = Location(path)
    kind = file_kind(path)
    if kind not in TABLE_KINDS and path.is_file():
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
    check_file(path, limits)
    if kind == "XLSX":
        return _read_xlsx(path, limits)
    if kind == "CSV":
        return [_read_csv(path, limits)]
    return _read_yaml(path, limits)


class _Budget:
    """Counts what a file has given so far against the limits; raises at the first breach."""

    def __init__(self, path: Path, limits: ImportLimits) -> None:
        self.path = path
        self.limits = limits
        self.cells = 0

    def row(self, sheet: str | None, number: int, width: int) -> None:
        if number > self.limits.rows:
            raise limit_problem(
                Location(self.path, sheet, number), "för många rader", self.limits.rows, "IMPORT_MAX_ROWS"
            )
        if width > self.limits.columns:
            raise limit_problem(
                Location(self.path, sheet, number, column_letter(width - 1)),
                f"raden har {swedish_number(width)} kolumner",
                self.limits.columns,
                "IMPORT_MAX_COLUMNS",
            )
        self.cells += width
        if self.cells > self.limits.cells:
            raise limit_problem(
                Location(self.path, sheet, number),
                "filen har för många celler",
                self.limits.cells,
                "IMPORT_MAX_CELLS",
            )

    def text(self, value: str, sheet: str | None, number: int, column: int) -> str:
        if len(value) > self.limits.cell_chars:
            raise limit_problem(
                Location(self.path, sheet, number, column_letter(column)),
                f"cellen har {swedish_number(len(value))} tecken",
                self.limits.cell_chars,
                "IMPORT_MAX_CELL_CHARS",
            )
        if "\x00" in value:
            raise ImportFailedError(
                [
                    Problem(
                        Location(self.path, sheet, number, column_letter(column)),
                        "cellen innehåller ett NUL-tecken, som inte kan sparas.",
                    )
                ]
            )
        return value


def _unreadable_workbook(path: Path, error: Exception) -> ImportFailedError:
    return ImportFailedError(
        [
            Problem(
                Location(path),
                f"filen går inte att läsa som en Excel-arbetsbok (XLSX) ({type(error).__name__}).",
            )
        ]
    )


def _check_archive(path: Path, limits: ImportLimits) -> None:
    """The workbook's parts, unpacked, fit ``decompressed_bytes``. zipfile never unpacks more of a part
    than its declared size (a part that claims less fails its check), so the declared sum is a bound."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _unreadable_workbook(path, error) from error
    if unpacked > limits.decompressed_bytes:
        raise limit_problem(
            Location(path),
            f"arbetsboken är {swedish_number(unpacked)} byte uppackad",
            limits.decompressed_bytes,
            "IMPORT_MAX_DECOMPRESSED_BYTES",
        )


def _read_xlsx(path: Path, limits: ImportLimits) -> list[Sheet]:
    """Each worksheet's actual cells, streamed (openpyxl's read-only mode with its dimensions reset):
    a sheet is never walked over the range it declares, which a 5 KB file can set to XFD1048576."""
    _check_archive(path, limits)
    # openpyxl fails on a broken workbook in many ways (a missing part: KeyError; a shared string that
    # is not there: IndexError; malformed XML or an entity expansion expat refuses: ParseError, …):
    # whatever it raises while reading this file means the file cannot be read, never a crash.
    from openpyxl import load_workbook  # noqa: PLC0415 - openpyxl only when a workbook is read

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise _unreadable_workbook(path, error) from error
    budget = _Budget(path, limits)
    try:
        return _read_worksheets(path, workbook, budget)
    except ImportFailedError:
        raise
    except Exception as error:
        raise _unreadable_workbook(path, error) from error
    finally:
        workbook.close()


def _read_worksheets(path: Path, workbook: Workbook, budget: _Budget) -> list[Sheet]:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet  # noqa: PLC0415 - as in _read_xlsx

    worksheets = [ws for ws in workbook.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    if len(worksheets) > budget.limits.sheets:
        raise limit_problem(
            Location(path),
            f"arbetsboken har {len(worksheets)} blad",
            budget.limits.sheets,
            "IMPORT_MAX_SHEETS",
        )
    return [_read_worksheet(path, worksheet, budget) for worksheet in worksheets]


def _read_worksheet(path: Path, worksheet: ReadOnlyWorksheet, budget: _Budget) -> Sheet:
    limits = budget.limits
    title = worksheet.title
    declared_rows, declared_columns = worksheet.max_row or 0, worksheet.max_column or 0
    if declared_rows > limits.rows or declared_columns > limits.columns:
        corner = f"{column_letter(max(declared_columns, 1) - 1)}{max(declared_rows, 1)}"
        raise limit_problem(
            Location(path, title),
            f"bladet anger området A1:{corner} ({swedish_number(declared_rows)} rader, "
            f"{swedish_number(declared_columns)} kolumner)",
            limits.rows if declared_rows > limits.rows else limits.columns,
            "IMPORT_MAX_ROWS" if declared_rows > limits.rows else "IMPORT_MAX_COLUMNS",
        )
    worksheet.reset_dimensions()  # the declared range is not trusted: only cells present are read
    values_by_row: list[tuple[object, ...]] = []
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        width = len(values)
        while width and values[width - 1] is None:
            width -= 1
        budget.row(title, number, width)
        values_by_row.append(tuple(values[:width]))
    while values_by_row and not values_by_row[-1]:
        values_by_row.pop()
    width = max((len(values) for values in values_by_row), default=0)
    if len(values_by_row) * width > limits.cells:
        raise limit_problem(
            Location(path, title),
            f"bladet är {swedish_number(len(values_by_row))} rader × {swedish_number(width)} kolumner",
            limits.cells,
            "IMPORT_MAX_CELLS",
        )
    spans = _merged_spans(worksheet, len(values_by_row), width)
    rows = []
    for number, values in enumerate(values_by_row, start=1):
        merged = spans.get(number, ())
        row = []
        for column in range(1, width + 1):
            continuation = any(low <= column <= high for low, high in merged)
            value = values[column - 1] if column <= len(values) else None
            if value is None:
                row.append(_EMPTY_CONTINUATION if continuation else _EMPTY)
                continue
            cell_value = _cell_value(value)
            if isinstance(cell_value, str):
                cell_value = budget.text(cell_value, title, number, column - 1)
            row.append(Cell(cell_value, continuation))
        rows.append(row)
    return Sheet(title, rows, in_workbook=True)


def _merged_spans(worksheet: ReadOnlyWorksheet, rows: int, width: int) -> dict[int, list[tuple[int, int]]]:
    """Per row, the column spans that continue a merged cell from a row above (read-only worksheets do
    not parse merged cells: read the ``mergeCell`` elements of the sheet's XML), clipped to the data."""
    from openpyxl.utils import range_boundaries  # noqa: PLC0415 - as in _read_xlsx

    spans: dict[int, list[tuple[int, int]]] = {}
    with worksheet._get_source() as source:  # noqa: SLF001 - openpyxl's read-only sheet gives no other way to its XML
        # expat (≥ 2.4) refuses entity-expansion bombs and ElementTree fetches no external entity;
        # openpyxl parses the same XML the same way.
        for _event, element in ET.iterparse(source, events=("end",)):  # noqa: S314 - see above
            if element.tag.endswith("}mergeCell"):
                try:
                    low_col, low_row, high_col, high_row = range_boundaries(element.get("ref", ""))
                except (ValueError, TypeError):
                    continue
                if low_row is None or high_row is None or low_col is None or high_col is None:
                    continue
                for row in range(low_row + 1, min(high_row, rows) + 1):
                    spans.setdefault(row, []).append((low_col, min(high_col, width)))
            elif element.tag.endswith("}row"):
                element.clear()
    return spans


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


def _utf16_without_bom(raw: bytes) -> str | None:
    """The text of a UTF-16 file saved without a BOM (zeros in every other byte), else None."""
    head = raw[:4096]
    if len(head) < 2 or b"\x00" not in head:  # noqa: PLR2004 - two bytes make one UTF-16 unit
        return None
    even, odd = head[0::2], head[1::2]
    for zeros, encoding in (
        (odd.count(0) / max(len(odd), 1), "utf-16-le"),
        (even.count(0) / max(len(even), 1), "utf-16-be"),
    ):
        if zeros > _UTF16_ZERO_SHARE:
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _sniff_delimiter(text: str) -> str:
    """The delimiter (; , or tab) under which most of the first rows have the same number of cells
    (more than one); quoted cells are read as quoted, so a comma inside "…" does not count."""
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best, best_score = ";" if sample.count(";") >= sample.count(",") else ",", (0, 0)
    for delimiter in _CANDIDATE_DELIMITERS:
        try:
            rows = list(
                itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter), _SNIFF_ROWS + 1)
            )
        except csv.Error:
            continue
        if truncated or len(rows) > _SNIFF_ROWS:
            rows = rows[:-1]  # possibly cut in the middle
        widths = Counter(len(row) for row in rows if any(cell.strip() for cell in row))
        if not widths:
            continue
        width, count = widths.most_common(1)[0]
        score = (count, width) if width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(path: Path, limits: ImportLimits) -> Sheet:
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportFailedError([Problem(Location(path), "filen är tom.")])
    text = _utf16_without_bom(raw) if not raw.startswith((b"\xff\xfe", b"\xfe\xff")) else None
    if text is None:
        # Excel on Swedish Windows saves "CSV" as Windows-1252; UTF-16 comes with a BOM.
        text = decode_text(path, raw, legacy=True)
    if "\x00" in text:
        raise ImportFailedError(
            [Problem(Location(path), "filen innehåller NUL-tecken (är den en binärfil?).")]
        )
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    budget = _Budget(path, limits)
    rows: list[list[Cell]] = []
    # The csv module has its own limit on a cell (process-wide, 131,072 characters by default) and would
    # end a longer one with its own error: lift it to the file's size for this read, so that our limit
    # decides, with the cell's place, and put it back after.
    previous_limit = csv.field_size_limit(max(len(text), limits.cell_chars) + 1)
    try:
        for number, values in enumerate(reader, start=1):
            budget.row(None, number, len(values))
            row = []
            for column, value in enumerate(values):
                stripped = unescape_formula(value.strip())
                row.append(Cell(budget.text(stripped, None, number, column)) if stripped else _EMPTY)
            rows.append(row)
    except csv.Error as error:
        raise ImportFailedError(
            [
                Problem(
                    Location(path, row=reader.line_num or None), f"raden går inte att läsa som CSV ({error})."
                )
            ]
        ) from None
    finally:
        csv.field_size_limit(previous_limit)
    return Sheet(path.stem, rows)


def _read_yaml(path: Path, limits: ImportLimits) -> list[Sheet]:
    """A YAML plan: ``plan:`` facts and ``fokusområden:`` each with ``åtgärder:`` as mappings.

    It becomes a "Plan" sheet of key/value rows and one sheet per focus area whose header is the union
    of the measures' keys, so YAML goes through the same column matching as a workbook.
    """
    document = load_yaml(path, limits)
    budget = _Budget(path, limits)

    def cell(value: object, sheet: str, number: int, column: int) -> Cell:
        found = _cell_value(value)
        if isinstance(found, str):
            found = budget.text(found, sheet, number, column)
        return Cell(found)

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
    sheets.append(
        Sheet(
            "Plan",
            [
                [cell(str(key), "plan", number, 0), cell(value, "plan", number, 1)]
                for number, (key, value) in enumerate(facts.items(), start=1)
            ],
        )
    )
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
            *[
                [
                    cell(item.get(key), where.sheet or "", position, column)
                    for column, key in enumerate(header)
                ]
                for position, item in enumerate(measures, start=1)
            ],
        ]
        numbers = [0] * len(title_rows) + [0] + list(range(1, len(measures) + 1))
        sheets.append(Sheet(str(area.get("titel", f"Fokusområde {number}")), rows, numbers, "åtgärd nr"))
    return sheets


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index (A, …, Z, AA, …)."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
