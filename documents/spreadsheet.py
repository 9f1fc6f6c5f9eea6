"""Spreadsheet cells that stay text: imported words must never become live formulas in an export.

A measure text beginning with ``=`` written into a workbook with openpyxl becomes a formula (openpyxl
types any string starting with "=" as one), and the same text in a CSV file is a formula to Excel
when the file is opened; ``+``, ``-``, ``@``, a tab or a carriage return at the start can be read as
one too (CSV injection). Every export runs its workbook through ``text_cells_only`` before saving
(the cell keeps its exact text, typed as a string, so nothing needs undoing on re-import), and every
CSV cell through ``csv_text`` (a leading apostrophe, which spreadsheet programs read as "this is
text"); ``unescape_formula`` takes that apostrophe off again when such a CSV file is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

__all__ = ["FORMULA_STARTS", "csv_text", "live_formula_count", "text_cells_only", "unescape_formula"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_APOSTROPHE = "'"


def text_cells_only(workbook: Workbook) -> int:
    """Type every formula cell of ``workbook`` as a string (its text unchanged); how many were."""
    changed = 0
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    changed += 1
    return changed


def live_formula_count(workbook: Workbook) -> int:
    """How many cells of ``workbook`` are formulas (an export must have none)."""
    return sum(
        1
        for worksheet in workbook.worksheets
        for row in worksheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    )


def csv_text(value: object) -> object:
    """``value`` for a CSV cell: text that a spreadsheet could read as a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return _APOSTROPHE + value
    return value


def unescape_formula(text: str) -> str:
    """``text`` without the apostrophe ``csv_text`` put before a formula-like start."""
    if text.startswith(_APOSTROPHE) and text[1:2] and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
