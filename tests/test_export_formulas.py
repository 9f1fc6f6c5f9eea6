"""Exports neutralise formulas: imported text that starts like a formula stays text everywhere.

A plan whose texts begin with =, +, - and @ goes through every export (the measure register, the
status sheet, ``plan list --format csv``): no cell is a live formula, LibreOffice reads every text as
written, and the register still re-imports to the same plan.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from documents.spreadsheet import FORMULA_STARTS, csv_text, live_formula_count, unescape_formula
from importers.directory_import import import_directory_file
from importers.plan_draft import PlanFacts
from importers.plan_import import import_plan_file
from importers.status_import import write_status_sheet
from models.db import transaction
from models.municipality import find_municipality
from models.plan import FocusArea, Measure
from models.task import Task, TaskKind
from reports.plan_export import export_plan_xlsx
from tests.conftest import EXAMPLES, Cli
from tests.office import libreoffice_convert

FORMULA_PLAN = """\
plan:
  Kommun: Falun
  Kommunkod: "2080"
  Titel: Formelplanen
  Beslutad av: '=HYPERLINK("http://exempel.se";"klicka")'
fokusområden:
  - titel: "+Trygghet i centrum"
    mål: "@mål: färre anmälningar"
    åtgärder:
      - åtgärd: "=1+1"
        beskrivning: "-kvällstid, två gånger i veckan"
        tid: "2025"
        ansvarig: "-Polisen"
        mål: "@SUM(A1:A2)"
        uppföljning: "=BRÅ en gång per halvår"
      - åtgärd: "+46 70 123 45 67 ringer in"
        tid: "Pågående"
        ansvarig: "Polisen"
        mål: "=A1*2"
      - åtgärd: "@Trygghetsvandring"
        tid: "Start hösten 2025"
        ansvarig: "Polisen"
"""
TEXT_COLUMNS = ("title", "description", "raw_period", "raw_responsible", "raw_goal", "raw_follow_up")


def _formula_like(text: object) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_STARTS)


def _plan(session: Session, plan_id: int) -> list[tuple[str, ...]]:
    measures = session.exec(select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position)))
    areas = session.exec(
        select(FocusArea).where(FocusArea.plan_id == plan_id).order_by(col(FocusArea.position))
    )
    return [(area.title, area.overall_goal) for area in areas] + [
        tuple(getattr(measure, column) for column in TEXT_COLUMNS) for measure in measures
    ]


def _xml_formulas(data: bytes) -> int:
    """``<f>`` elements in the workbook's sheet parts: what a spreadsheet would calculate."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(
            archive.read(name).count(b"<f>") + archive.read(name).count(b"<f ")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


@pytest.fixture
def formula_plan(engine: sa.Engine, tmp_path: Path) -> int:
    """Falun's directory and a plan whose texts begin with =, +, - and @; the plan's id."""
    source = tmp_path / "formelplan.yaml"
    source.write_text(FORMULA_PLAN, encoding="utf-8")
    with transaction(engine) as session:
        import_directory_file(session, EXAMPLES / "falun-katalog.yaml")
        report = import_plan_file(session, source)
    assert report.plan_id is not None
    return report.plan_id


def test_register_has_no_live_formula_and_reimports_to_the_same_plan(
    engine: sa.Engine, formula_plan: int, tmp_path: Path
) -> None:
    """The register (XLSX): 0 formula cells, every text as written, and re-imported it is the same plan."""
    with transaction(engine) as session:
        original = _plan(session, formula_plan)
        data = export_plan_xlsx(session, formula_plan, created=datetime(2026, 3, 3, tzinfo=UTC))
    register = tmp_path / "register.xlsx"
    register.write_bytes(data)
    workbook = load_workbook(register)
    written = {cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row}
    # Measure texts stand alone in their cells; area titles and goals follow "Fokusområde: " and
    # "Övergripande mål: " (the register's layout), so they are checked by the re-import below.
    formula_texts = {text for row in original[1:] for text in row if _formula_like(text)}
    assert len(formula_texts) >= 7
    assert formula_texts <= written
    assert (live_formula_count(workbook), _xml_formulas(data)) == (0, 0)
    with transaction(engine) as session:
        again = import_plan_file(session, register, facts=PlanFacts(title="Formelplanen (återläst)"))
        assert again.plan_id is not None
        assert _plan(session, again.plan_id) == original


def test_status_sheet_has_no_live_formula(engine: sa.Engine, formula_plan: int, tmp_path: Path) -> None:
    """The status sheet: a measure titled "=1+1" is the text "=1+1", not a formula."""
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        for measure in list(session.exec(select(Measure).where(Measure.plan_id == formula_plan))):
            session.add(
                Task(
                    municipality_id=municipality.id or 0,
                    idempotency_key=f"status:{measure.id}",
                    kind=TaskKind.STATUS_REPORT,
                    subject=measure.title,
                    due_date=date(2026, 3, 20),
                    measure_id=measure.id,
                    created_at=datetime(2026, 3, 1, tzinfo=UTC),
                )
            )
        session.flush()
        sheet_path = tmp_path / "status.xlsx"
        rows = write_status_sheet(session, municipality, sheet_path, date(2026, 3, 3))
    workbook = load_workbook(sheet_path)
    titles = [row[1].value for row in workbook.active.iter_rows(min_row=5)]  # type: ignore[union-attr]
    assert rows == 3
    assert sorted(titles) == sorted(["=1+1", "+46 70 123 45 67 ringer in", "@Trygghetsvandring"])
    assert (live_formula_count(workbook), _xml_formulas(sheet_path.read_bytes())) == (0, 0)


def test_plan_list_csv_writes_formula_starts_as_text(formula_plan: int, cli: Cli) -> None:
    """``plan list --format csv``: every cell that starts like a formula carries the apostrophe, and
    reading it back gives the text as written."""
    code, out, err = cli("plan", "list", "--kommun", "2080", "--plan", str(formula_plan), "--format", "csv")
    assert (code, err) == (0, "")
    cells = [cell for row in csv.reader(io.StringIO(out), delimiter=";") for cell in row]
    assert not [cell for cell in cells if _formula_like(cell)]
    titles = [row[3] for row in csv.reader(io.StringIO(out), delimiter=";")][1:]
    assert [unescape_formula(title) for title in titles] == [
        "=1+1",
        "+46 70 123 45 67 ringer in",
        "@Trygghetsvandring",
    ]
    assert {"'=1+1", "'+Trygghet i centrum", "'@Trygghetsvandring"} <= set(cells)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_gets_the_apostrophe_and_loses_it_again(start: str) -> None:
    """=, +, -, @, tab and carriage return at the start are escaped in CSV; the reader undoes exactly that."""
    text = f"{start}CMD|' /C calc'!A0"
    assert csv_text(text) == f"'{text}"
    assert unescape_formula(str(csv_text(text))) == text
    assert csv_text("Trygghetsvandring") == "Trygghetsvandring"
    assert csv_text(42) == 42


def test_libreoffice_reads_the_register_texts_as_text(
    engine: sa.Engine, formula_plan: int, tmp_path: Path
) -> None:
    """LibreOffice opens the register and saves it again: "=1+1" is still the text "=1+1", not 2."""
    with transaction(engine) as session:
        data = export_plan_xlsx(session, formula_plan, created=datetime(2026, 3, 3, tzinfo=UTC))
    source = tmp_path / "in" / "register.xlsx"
    source.parent.mkdir()
    source.write_bytes(data)
    converted = libreoffice_convert(source, "xlsx", tmp_path / "out")
    workbook = load_workbook(converted)
    values = {cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row}
    assert {"=1+1", "=A1*2", "@SUM(A1:A2)", "=BRÅ en gång per halvår"} <= values
    assert 2 not in values
    assert live_formula_count(workbook) == 0
