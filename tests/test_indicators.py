"""Indicators: defined, imported per period from CSV/XLSX in one transaction, errors named by place."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import Session, func, select

from models.indicator import IndicatorValue
from tests.conftest import EXAMPLES


def _values(url: str) -> int:
    engine = sa.create_engine(url)
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(IndicatorValue)).one()
    engine.dispose()
    return int(count)


def test_example_file_imports_and_lists_trends(falun_cli) -> None:  # type: ignore[no-untyped-def]
    """The Falun example imports 13 values of 5 indicators, idempotently; the list shows trends."""
    code, out, _ = falun_cli("indikator", "import", EXAMPLES / "falun-indikatorer.csv", "--kommun", "2080")
    assert code == 0
    assert "nya värden: 13" in out
    code, out, _ = falun_cli("indikator", "import", EXAMPLES / "falun-indikatorer.csv", "--kommun", "2080")
    assert "oförändrade värden: 13" in out
    code, out, _ = falun_cli("indikator", "lista", "--kommun", "2080")
    assert "Anmälda butiksstölder i centrum (Anmälda brott, antal, lägre är bättre, mål 180)" in out
    assert "senaste: 198 (första halvåret 2025), 3 värden, trend: förbättrad, målet ej uppnått" in out


def test_errors_name_file_row_and_column_and_nothing_is_written(falun_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bad period, number or indicator is named by file, sheet, row and column; nothing is saved."""
    falun_cli("indikator", "skapa", "--namn", "Trygghet", "--kalla", "ntu", "--kommun", "2080")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Värden"
    sheet.append(["Indikator", "Period", "Värde"])
    sheet.append(["Trygghet", "2024", "71"])
    sheet.append(["Trygghet", "våren", "72"])
    sheet.append(["Trygghet", "2025H1", "sjuttio"])
    sheet.append(["Okänd", "2025", "3"])
    path = tmp_path / "varden.xlsx"
    workbook.save(path)
    code, _, err = falun_cli("indikator", "import", path, "--kommun", "2080")
    assert code == 1
    assert 'varden.xlsx, blad "Värden", rad 3, kolumn "Period" (B): perioden "våren" förstås inte' in err
    assert 'varden.xlsx, blad "Värden", rad 4, kolumn "Värde" (C): "sjuttio" är inget tal' in err
    assert 'varden.xlsx, blad "Värden", rad 5: indikatorn "Okänd" finns inte' in err
    assert _values(falun_cli.url) == 0


def test_dry_run_saves_nothing(falun_cli) -> None:  # type: ignore[no-untyped-def]
    """--dry-run reports what would be read and leaves the database as it was."""
    code, out, _ = falun_cli(
        "indikator", "import", EXAMPLES / "falun-indikatorer.csv", "--dry-run", "--kommun", "2080"
    )
    assert code == 0
    assert "Provläsning" in out
    assert "nya värden: 13" in out
    assert _values(falun_cli.url) == 0
