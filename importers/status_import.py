"""The status sheet: the classic "fill in the sheet" round of status reports.

``write_status_sheet`` writes an XLSX with one row per measure that has an open status-report task
(the earliest due date when it has several): Id (the measure's id), Åtgärd, Ansvarig, Senast (the due
date), Status (empty; an Excel list of the six statuses), Framsteg %, Kommentar, Nästa steg and
Datum (the report's date; empty means the day of the import).

``read_status_rows`` reads such a sheet back, as XLSX or CSV. Headers are found by name, whatever
their case, diacritics or order, in the first rows of every sheet; Id and Status are required, the
other columns optional and unknown columns ignored. A row without a status is skipped (not
answered yet). Every row is checked before anything is written: an unknown measure id, the same
measure twice, a status that is not one of planerad, pågående, försenad, avstannad, genomförd,
avbruten, a progress that is not a whole number from 0 to 100, an impossible or future date. Any
problem raises ImportFailedError with every problem found, each with its file, sheet, row and
column. ``services.status.import_status_sheet`` then records each row (which closes the tasks it
answers and resolves the escalations whose cause is gone). The reporter's name is the row's Ansvarig.
Nothing here writes to the database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from core.clock import STOCKHOLM, local_day
from core.text import fold, swedish_date
from documents.spreadsheet import text_cells_only
from importers.periods import InvalidDateError, parse_period
from importers.problems import ImportFailedError, Location, Problem
from importers.schema import too_long
from importers.tables import Cell, Sheet, column_letter, read_sheets
from models.directory import Person
from models.enums import MeasureStatus
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.task import Task, TaskKind, TaskState

__all__ = [
    "HEADERS",
    "SOURCE",
    "StatusRow",
    "parse_report_date",
    "parse_status",
    "read_status_rows",
    "write_status_sheet",
]

SOURCE = "statusmall"
HEADERS = ("Id", "Åtgärd", "Ansvarig", "Senast", "Status", "Framsteg %", "Kommentar", "Nästa steg", "Datum")
HEADER_SEARCH_ROWS = 20
HEADER_ROW = 4  # under a title and a line of instructions
MAX_PERCENT = 100
# Characters per column: narrow enough that the sheet prints one A4 page wide at a legible size
# (``_print_on_a4``); the text columns wrap.
_WIDTHS = (7, 45, 22, 11, 13, 11, 35, 30, 11)
_WRAPPED = (2, 3, 7, 8)
_PERCENT = re.compile(r"^(\d{1,4})\s*%?$")

# Folded header → the field it fills.
_COLUMNS: dict[str, str] = {
    "id": "id",
    "atgard": "title",
    "ansvarig": "reporter",
    "senast": "due",
    "status": "status",
    "framsteg": "progress",
    "framsteg procent": "progress",
    "kommentar": "comment",
    "nasta steg": "next_step",
    "datum": "date",
    "rapportdatum": "date",
}
_STATUSES = {fold(status.value): status for status in MeasureStatus}
STATUS_NAMES = ", ".join(status.value for status in MeasureStatus)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One checked row of a status sheet, ready to record."""

    location: Location
    measure_id: int
    status: MeasureStatus
    reported_on: date
    progress_percent: int | None
    comment: str
    next_step: str
    reporter_name: str


# ---------------------------------------------------------------------------------------------------
# Values


def parse_status(text: str) -> MeasureStatus:
    """A status as a person writes it ("Pågående", "pagaende"); ValueError in Swedish otherwise."""
    found = _STATUSES.get(fold(text))
    if found is None:
        raise ValueError(f'"{text}" är ingen status; skriv en av {STATUS_NAMES}.')
    return found


def parse_report_date(value: str | date) -> date:
    """A single day: a date cell, ``2026-03-03``, ``3 mars 2026`` or ``3/3 2026``; ValueError in Swedish
    (InvalidDateError for an impossible day such as "30 februari 2026")."""
    if isinstance(value, date):
        return value
    period = parse_period(value)
    if not period.understood or period.start is None or period.start != period.end:
        raise ValueError(f'"{value}" är inget datum (skriv t.ex. 2026-03-03 eller 3 mars 2026).')
    return period.start


def _parse_percent(text: str) -> int:
    match = _PERCENT.match(text.strip())
    if match is None:
        raise ValueError(f'"{text}" är inget heltal; skriv framsteget i procent, 0–100.')
    value = int(match.group(1))
    if value > MAX_PERCENT:
        raise ValueError(f"{value} är inte 0–100; framsteget anges i procent.")
    return value


# ---------------------------------------------------------------------------------------------------
# Writing the sheet


def _open_status_tasks(session: Session, municipality_id: int, as_of: date) -> list[Task]:
    """Open status tasks that exist on ``as_of`` (created before the next day began), by due date."""
    next_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return list(
        session.exec(
            select(Task)
            .where(
                Task.municipality_id == municipality_id,
                Task.kind == TaskKind.STATUS_REPORT,
                Task.state == TaskState.OPEN,
                col(Task.measure_id).is_not(None),
                Task.created_at < next_day,
            )
            .order_by(col(Task.due_date), col(Task.id))
        )
    )


A4_PAPER = 9  # the paper size code for A4 in SpreadsheetML
LINE_POINTS = 13.0  # one line of 11 pt text


def _print_on_a4(
    sheet: Any,
    *,
    header_row: int,
    header_left: str = "",
    header_right: str = "",
    page_label: str = "Sida &P av &N",
    wrap_columns: tuple[int, ...] = (),
) -> None:
    """A4 landscape, one page wide, the header row repeated on each page, a print area that ends at
    the last filled column, "Sida N av M" in the footer; the given columns (1-based) wrap their text
    so a long cell makes a taller row instead of a wider page. Excel and LibreOffice print a sheet at
    100 % unless told otherwise: this sheet came out four pages wide."""
    from openpyxl.styles import Alignment  # noqa: PLC0415 - openpyxl only when a sheet is written
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 - as above

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


def write_status_sheet(session: Session, municipality: Municipality, path: Path, as_of: date) -> int:
    """Write the status sheet of open status-report tasks to ``path`` (XLSX); the number of rows."""
    from openpyxl import Workbook  # noqa: PLC0415 - openpyxl only when a sheet is written
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415 - as above
    from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415 - as above

    tasks = _open_status_tasks(session, municipality.id or 0, as_of)
    first_task: dict[int, Task] = {}
    for task in tasks:
        if task.measure_id is not None:
            first_task.setdefault(task.measure_id, task)
    measures = {
        measure.id: measure
        for measure in session.exec(select(Measure).where(col(Measure.id).in_(list(first_task))))
    }
    person_ids = {task.assignee_person_id for task in first_task.values() if task.assignee_person_id}
    people = {
        person.id: person for person in session.exec(select(Person).where(col(Person.id).in_(person_ids)))
    }

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 - a new workbook always has an active sheet
    sheet.title = "Statusrapporter"
    sheet["A1"] = f"Statusrapporter för {municipality.name}, {swedish_date(as_of)}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = (
        f"Fyll i Status för varje åtgärd du rapporterar ({STATUS_NAMES}), gärna framsteg i procent, "
        "en kommentar och nästa steg. Rader utan status lämnas orörda. Datum: rapportens datum, tomt = "
        "importdagen. Spara filen och skicka tillbaka den till BRÅ-samordnaren."
    )
    header_row = HEADER_ROW
    for column, name in enumerate(HEADERS, start=1):
        sheet.cell(row=header_row, column=column, value=name).font = Font(bold=True)
    row_number = header_row
    for measure_id, task in first_task.items():
        measure = measures.get(measure_id)
        person = people.get(task.assignee_person_id) if task.assignee_person_id is not None else None
        row_number += 1
        sheet.cell(row=row_number, column=1, value=measure_id)
        sheet.cell(row=row_number, column=2, value=measure.title if measure is not None else task.subject)
        sheet.cell(row=row_number, column=3, value=person.name if person is not None else "")
        sheet.cell(row=row_number, column=4, value=task.due_date).number_format = "yyyy-mm-dd"
        sheet.cell(row=row_number, column=9).number_format = "yyyy-mm-dd"
    last_row = max(row_number, header_row + 1)
    statuses = DataValidation(
        type="list",
        formula1='"' + ",".join(status.value for status in MeasureStatus) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Okänd status",
        error="Välj en av: " + STATUS_NAMES,
    )
    statuses.add(f"E{header_row + 1}:E{last_row}")
    percent = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2=str(MAX_PERCENT),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Framsteg",
        error="Ett heltal 0–100.",
    )
    percent.add(f"F{header_row + 1}:F{last_row}")
    sheet.add_data_validation(statuses)
    sheet.add_data_validation(percent)
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADERS))
    sheet.row_dimensions[2].height = 45
    _print_on_a4(
        sheet,
        header_row=header_row,
        header_left=municipality.name,
        header_right=f"Statusrapporter {swedish_date(as_of, 'D MMMM YYYY')}",
        wrap_columns=_WRAPPED,
    )
    text_cells_only(workbook)  # a measure title beginning with "=" stays text
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return len(first_task)


# ---------------------------------------------------------------------------------------------------
# Reading it back


@dataclass(frozen=True, slots=True)
class _Columns:
    index: int  # 0-based header row
    by_field: dict[str, int]  # field → 0-based column
    names: dict[int, str]  # column → header as written


def _find_header(sheet: Sheet) -> _Columns | None:
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        by_field: dict[str, int] = {}
        names: dict[int, str] = {}
        for column, cell in enumerate(row):
            name = _COLUMNS.get(fold(cell.text))
            if name is not None and name not in by_field:
                by_field[name] = column
                names[column] = cell.text
        if "id" in by_field and "status" in by_field:
            return _Columns(index, by_field, names)
    return None


def _cell(row: list[Cell], column: int | None) -> Cell:
    return row[column] if column is not None and column < len(row) else Cell(None)


class _Checker:
    """Checks a sheet's rows, collecting every problem."""

    def __init__(self, session: Session, municipality: Municipality, path: Path, today: date) -> None:
        self.session = session
        self.municipality = municipality
        self.path = path
        self.today = today
        self.problems: list[Problem] = []
        self.seen: dict[int, int] = {}  # measure id → the row it was first reported on
        self.known = set(
            session.exec(select(Measure.id).where(Measure.municipality_id == (municipality.id or 0)))
        )

    def where(self, sheet: Sheet | None, row: int, columns: _Columns, name: str | None) -> Location:
        column = columns.by_field.get(name) if name is not None else None
        return Location(
            self.path,
            sheet.name if sheet is not None else None,
            row,
            columns.names[column] if column is not None else None,
            column_letter(column) if column is not None else None,
        )

    def problem(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))

    def measure_id(self, text: str, location: Location) -> int | None:
        if not re.fullmatch(r"\d+", text):
            self.problem(location, f'"{text}" är inget åtgärds-id (ett heltal, se samordna plan list).')
            return None
        measure_id = int(text)
        if measure_id not in self.known:
            self.problem(location, f"åtgärden {measure_id} finns inte i {self.municipality.name}.")
            return None
        return measure_id

    def check_lengths(self, row: list[Cell], shown: Sheet | None, number: int, columns: _Columns) -> None:
        """The texts a report stores fit their columns (the same refusal on SQLite and PostgreSQL)."""
        for name, column in (
            ("comment", "comment"),
            ("next_step", "next_step"),
            ("reporter", "reporter_name"),
        ):
            text = _cell(row, columns.by_field.get(name)).text
            problem = too_long(self.where(shown, number, columns, name), StatusReport, column, text)
            if problem is not None:
                self.problems.append(problem)

    def check_row(  # noqa: C901 - one branch per column, each simple
        self, sheet: Sheet, shown: Sheet | None, columns: _Columns, index: int
    ) -> StatusRow | None:
        row = sheet.rows[index]
        number = sheet.row_number(index)
        by_field = columns.by_field
        id_text = _cell(row, by_field["id"]).text
        status_text = _cell(row, by_field["status"]).text
        if not status_text:
            return None
        found = len(self.problems)
        measure_id = None
        if not id_text:
            self.problem(self.where(shown, number, columns, "id"), "raden har status men inget åtgärds-id.")
        else:
            measure_id = self.measure_id(id_text, self.where(shown, number, columns, "id"))
        if measure_id is not None and measure_id in self.seen:
            self.problem(
                self.where(shown, number, columns, "id"),
                f"åtgärden {measure_id} rapporteras redan på rad {self.seen[measure_id]}; en rad per åtgärd.",
            )
        elif measure_id is not None:
            self.seen[measure_id] = number
        status = None
        try:
            status = parse_status(status_text)
        except ValueError as error:
            self.problem(self.where(shown, number, columns, "status"), str(error))
        progress = None
        progress_text = _cell(row, by_field.get("progress")).text
        if progress_text:
            try:
                progress = _parse_percent(progress_text)
            except ValueError as error:
                self.problem(self.where(shown, number, columns, "progress"), str(error))
        reported_on = self.today
        date_cell = _cell(row, by_field.get("date"))
        if date_cell.value is not None:
            try:
                reported_on = parse_report_date(
                    date_cell.value if isinstance(date_cell.value, date) else date_cell.text
                )
            except (InvalidDateError, ValueError) as error:
                self.problem(self.where(shown, number, columns, "date"), str(error))
            else:
                if reported_on > self.today:
                    self.problem(
                        self.where(shown, number, columns, "date"),
                        f"{reported_on.isoformat()} ligger i framtiden.",
                    )
        self.check_lengths(row, shown, number, columns)
        if len(self.problems) > found or measure_id is None or status is None:
            return None
        return StatusRow(
            location=self.where(shown, number, columns, None),
            measure_id=measure_id,
            status=status,
            reported_on=reported_on,
            progress_percent=progress,
            comment=_cell(row, by_field.get("comment")).text,
            next_step=_cell(row, by_field.get("next_step")).text,
            reporter_name=_cell(row, by_field.get("reporter")).text,
        )


def read_status_rows(
    session: Session, municipality: Municipality, path: Path, *, now: datetime
) -> tuple[list[StatusRow], int]:
    """Every answered row of the sheet, checked; raises ImportFailedError with every problem found.

    Also returns how many rows had an id but no status.
    """
    sheets = read_sheets(path)
    checker = _Checker(session, municipality, path, local_day(now))
    rows: list[StatusRow] = []
    skipped = 0
    any_header = False
    for sheet in sheets:
        columns = _find_header(sheet)
        if columns is None:
            continue
        any_header = True
        shown = sheet if sheet.in_workbook else None
        for index in range(columns.index + 1, len(sheet.rows)):
            checked = checker.check_row(sheet, shown, columns, index)
            if checked is not None:
                rows.append(checked)
            elif (
                not _cell(sheet.rows[index], columns.by_field["status"]).text
                and _cell(sheet.rows[index], columns.by_field["id"]).text
            ):
                skipped += 1
    if not any_header:
        checker.problem(
            Location(path),
            "hittar ingen rubrikrad med kolumnerna Id och Status (skapa mallen med samordna status mall).",
        )
    if checker.problems:
        raise ImportFailedError(checker.problems)
    return rows, skipped
