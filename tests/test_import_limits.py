"""The shared reader trusts no file: encodings, delimiters, limits and formula apostrophes."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.settings import Settings
from importers.limits import ImportLimits
from importers.problems import ImportFailedError
from importers.safe_yaml import load_yaml
from importers.tables import read_sheets

LIMITS = ImportLimits.from_settings(Settings(database_url="sqlite://"))
PLAN_ROWS = [
    ["Fokusområde: Trygghet i centrum"],
    ["Åtgärd", "Tid", "Ansvarig"],
    ["Trygghetsvandring, kvällstid", "Start hösten 2024; pågående", "Polisen, kommunen"],
    ["Ökad belysning", "2025", "Tekniska förvaltningen"],
]


def _csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    import csv  # noqa: PLC0415 - only here

    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _texts(path: Path, limits: ImportLimits = LIMITS) -> list[list[str]]:
    (sheet,) = read_sheets(path, limits)
    return [[cell.text for cell in row] for row in sheet.rows]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "cp1252"])
def test_csv_in_every_encoding_excel_writes_reads_the_same(tmp_path: Path, encoding: str) -> None:
    """UTF-16 with and without a BOM, UTF-8 with a BOM and Windows-1252 give the same cells (å, ä, ö)."""
    path = tmp_path / "plan.csv"
    path.write_bytes(_csv(PLAN_ROWS, ";").encode(encoding))
    assert _texts(path)[1:] == PLAN_ROWS[1:]
    assert _texts(path)[0][0] == PLAN_ROWS[0][0]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_found_with_other_delimiters_inside_quoted_cells(tmp_path: Path, delimiter: str) -> None:
    """Quoted cells full of the other delimiters (and of this one) do not mislead the sniffing."""
    rows = [[*row, "; , \t alla tre"] if len(row) > 1 else row for row in PLAN_ROWS]
    rows[1][-1] = "Not; a, delimiter"
    path = tmp_path / "plan.csv"
    path.write_text(_csv(rows, delimiter), encoding="utf-8")
    assert _texts(path)[1:] == [[" ".join(cell.split()) for cell in row] for row in rows[1:]]


def test_csv_apostrophe_before_a_formula_start_is_taken_off(tmp_path: Path) -> None:
    """The apostrophe an export puts before =, +, -, @ goes again on import; other apostrophes stay."""
    path = tmp_path / "lista.csv"
    path.write_text("Åtgärd;Not\n'=1+1;'-5\n'+46;'citat'\n'@SUMMA;'\n", encoding="utf-8")
    assert _texts(path) == [["Åtgärd", "Not"], ["=1+1", "-5"], ["+46", "'citat'"], ["@SUMMA", "'"]]


def test_each_limit_is_named_with_its_setting_and_place(tmp_path: Path) -> None:
    """Rows, columns, cell length and file size: the message names file, place, limit and setting."""
    path = tmp_path / "plan.csv"
    path.write_text(_csv(PLAN_ROWS, ";"), encoding="utf-8")
    cases = {
        replace(LIMITS, rows=3): "plan.csv, rad 4: för många rader; gränsen är 3 (SAMORDNA_IMPORT_MAX_ROWS).",
        replace(LIMITS, columns=2): (
            'plan.csv, rad 2, kolumn "C": raden har 3 kolumner; gränsen är 2 (SAMORDNA_IMPORT_MAX_COLUMNS).'
        ),
        replace(LIMITS, cell_chars=20): (
            'plan.csv, rad 1, kolumn "A": cellen har 31 tecken; '
            "gränsen är 20 (SAMORDNA_IMPORT_MAX_CELL_CHARS)."
        ),
        replace(
            LIMITS, file_bytes=100
        ): "plan.csv: filen är 185 byte; gränsen är 100 (SAMORDNA_IMPORT_MAX_FILE_BYTES).",
    }
    for limits, message in cases.items():
        with pytest.raises(ImportFailedError) as failed:
            read_sheets(path, limits)
        assert [str(problem) for problem in failed.value.problems] == [message]


def test_a_workbook_is_read_by_its_cells_not_its_declared_range(tmp_path: Path) -> None:
    """A workbook that declares a small range but has a cell far outside it is refused at that cell;
    an honest one reads with its merged continuation cells marked."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in PLAN_ROWS:
        sheet.append(row)
    sheet.append(["", "2026", "BRÅ"])
    sheet.merge_cells("A4:A5")
    honest = tmp_path / "plan.xlsx"
    workbook.save(honest)
    (read,) = read_sheets(honest, LIMITS)
    assert [cell.text for cell in read.rows[3]] == PLAN_ROWS[3]
    assert read.rows[4][0].merged_continuation
    assert not read.rows[3][0].merged_continuation
    sheet.cell(row=40, column=300, value="långt bort")
    far = tmp_path / "far.xlsx"
    workbook.save(far)
    with pytest.raises(ImportFailedError) as failed:
        read_sheets(far, LIMITS)
    assert "gränsen är 200 (SAMORDNA_IMPORT_MAX_COLUMNS)" in str(failed.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: &x 1\nb: *x\n",
            "plan.yaml, rad 1: ankare (&x) är inte tillåtna; skriv ut värdena där de används.",
        ),
        ("a: [1, 2]\nb: 2025-02-30\n", 'plan.yaml, rad 2: "2025-02-30" är inget giltigt datum.'),
        (
            "a: " + "[" * 40 + "]" * 40 + "\n",
            (
                "plan.yaml, rad 1: värdena är nästlade för djupt; "
                "gränsen är 30 (SAMORDNA_IMPORT_MAX_YAML_DEPTH)."
            ),
        ),
        ("a: !!python/name:os.system\n", "plan.yaml, rad 1: filen är inte giltig YAML."),
    ],
)
def test_yaml_refuses_aliases_impossible_dates_and_depth_at_their_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """Anchors, an impossible date, too deep nesting and Python tags are Swedish messages with the line."""
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailedError) as failed:
        load_yaml(path, LIMITS)
    assert [str(problem) for problem in failed.value.problems] == [message]
