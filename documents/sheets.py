"""Spreadsheets that print: A4 landscape, one page wide, the header rows on every page.

Excel and LibreOffice print a sheet at 100 % unless told otherwise, so a status sheet of nine columns
came out four pages wide. ``print_setup`` gives a sheet the page setup a kommun's printer needs:
A4, landscape, fit to one page wide (as many pages tall as it takes), the header rows repeated on
every page, a print area that ends at the last filled column, and a page footer "Sida N av M"; the
words of the header and footer come from the caller.
"""

from __future__ import annotations

import math
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

A4_PAPER = 9  # the paper size code for A4 in SpreadsheetML
LINE_POINTS = 13.0  # one line of 11 pt text


def print_setup(
    sheet: Any,
    *,
    header_row: int,
    header_left: str = "",
    header_right: str = "",
    page_label: str = "Sida &P av &N",
    wrap_columns: tuple[int, ...] = (),
) -> None:
    """A4 landscape, one page wide, rows 1..``header_row`` repeated on each page; the given columns
    (1-based) wrap their text so a long cell makes a taller row instead of a wider page."""
    sheet.page_setup.paperSize = A4_PAPER
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.print_title_rows = f"{header_row}:{header_row}"
    last_column = get_column_letter(max(1, sheet.max_column))
    sheet.print_area = f"A1:{last_column}{max(sheet.max_row, header_row)}"
    sheet.oddHeader.left.text = header_left
    sheet.oddHeader.right.text = header_right
    sheet.oddFooter.right.text = page_label
    for row in range(header_row, sheet.max_row + 1):
        lines = 1
        for column in range(1, sheet.max_column + 1):
            sheet.cell(row=row, column=column).alignment = Alignment(
                wrap_text=column in wrap_columns, vertical="top"
            )
        for column in wrap_columns:
            cell = sheet.cell(row=row, column=column)
            width = sheet.column_dimensions[get_column_letter(column)].width or 10
            lines = max(lines, math.ceil(len(str(cell.value or "")) / max(1.0, width - 2)))
        # Neither openpyxl nor every spreadsheet program sizes a wrapped row by itself: without a
        # height the wrapped lines print on top of the next row.
        sheet.row_dimensions[row].height = LINE_POINTS * lines + 2
