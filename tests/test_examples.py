"""The example plans and directories in examples/: transcription, seed fidelity and consistency."""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from datetime import date
from pathlib import Path

import holidays
import pytest
import yaml
from openpyxl import load_workbook

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
DIRECTORIES = ["falun-katalog.yaml", "orsa-katalog.yaml"]
FALUN_MEASURES_PER_AREA = [16, 12, 5]


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_examples", EXAMPLES / "build_examples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _snapshot(path: Path) -> list[tuple[str, list[tuple[object, ...]], list[str]]]:
    """Every sheet's name, cell values and merged ranges, in workbook order."""
    workbook = load_workbook(path)
    return [
        (
            sheet.title,
            list(sheet.iter_rows(values_only=True)),
            sorted(str(merged) for merged in sheet.merged_cells.ranges),
        )
        for sheet in workbook.worksheets
    ]


def _measure_sheets(path: Path) -> dict[str, list[str]]:
    """Focus-area sheet name → the Åtgärd texts of its measure rows (rows under the "Åtgärd" header)."""
    workbook = load_workbook(path)
    sheets: dict[str, list[str]] = {}
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = next((index for index, row in enumerate(rows) if row and row[0] == "Åtgärd"), None)
        if header is not None:
            sheets[sheet.title] = [str(row[0]) for row in rows[header + 1 :] if row[0] not in (None, "")]
    return sheets


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _load_directory(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def test_committed_workbooks_match_the_transcription(builder, tmp_path):
    """Rebuilding the workbooks from build_examples.py gives the committed files' sheets, cells and merges."""
    built = builder.build_all(tmp_path)
    assert sorted(path.name for path in built) == sorted(path.name for path in EXAMPLES.glob("*.xlsx"))
    for path in built:
        assert _snapshot(path) == _snapshot(EXAMPLES / path.name), (
            f"{path.name} differs: rerun build_examples.py"
        )


def test_falun_has_33_measures_in_three_focus_area_sheets():
    """The Falun workbook holds 16 + 12 + 5 measures, one focus-area sheet each, titled "Fokusområde: …"."""
    path = EXAMPLES / "falun-atgardsplan-2024.xlsx"
    sheets = _measure_sheets(path)
    assert [len(texts) for texts in sheets.values()] == FALUN_MEASURES_PER_AREA
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Plan", *sheets]
    for name in sheets:
        assert str(workbook[name]["A1"].value).startswith("Fokusområde: ")


def test_falun_measure_texts_come_from_the_seed():
    """Every Falun Åtgärd is a seed table cell, or one joined to its page-break continuation by a space."""
    seed = SEEDS / "falun-atgardsplan-2024.txt"
    if not SEEDS.is_dir():
        pytest.skip(f"the seed folder {SEEDS} is absent (it lives beside the repository, not in it)")
    # The first cell of every tab-separated seed row, HTML tags removed and whitespace normalised.
    first_cells = [
        _normalised(re.sub(r"<[^>]+>", " ", line.split("\t")[0]))
        for line in seed.read_text(encoding="utf-8").splitlines()
        if "\t" in line
    ]
    seed_cells = {cell for cell in first_cells if cell}
    joined = {f"{cell} {after}" for cell, after in itertools.pairwise(first_cells) if cell and after}
    texts = [
        text for area in _measure_sheets(EXAMPLES / "falun-atgardsplan-2024.xlsx").values() for text in area
    ]
    assert len(texts) == sum(FALUN_MEASURES_PER_AREA)
    for text in texts:
        normalised = _normalised(text)
        assert normalised in seed_cells or normalised in joined, f"not in the seed: {normalised[:80]}…"


def test_orsa_sub_rows_share_one_merged_atgard_cell():
    """Orsa's first measure has four sub-rows under one vertically merged Åtgärd cell, and no other merge."""
    workbook = load_workbook(EXAMPLES / "orsa-handlingsplan-2024-2025.xlsx")
    assert workbook.sheetnames == ["Plan", "1 Trygghetsskapande åtgärder", "2 Välfärdsbrott", "Indikatorer"]
    area = workbook["1 Trygghetsskapande åtgärder"]
    assert [str(merged) for merged in area.merged_cells.ranges] == ["A4:A7"]
    assert [area.cell(row, 2).value is not None for row in range(4, 9)] == [True] * 5
    assert _measure_sheets(EXAMPLES / "orsa-handlingsplan-2024-2025.xlsx") == {
        "1 Trygghetsskapande åtgärder": [
            "Systematisk kartläggning av otrygghet i det offentliga rummet Digital trygghetsvandring",
            "Förstärkt kommunikation av positiva budskap",
        ],
        "2 Välfärdsbrott": [
            "Identifiera risker och riskområden",
            "Skapa organisatoriska förutsättningar",
            "Kompetenshöjning",
        ],
    }
    indicators = list(workbook["Indikatorer"].iter_rows(values_only=True))
    assert indicators[0] == ("Fokusområde", "Indikator", "Källa")
    assert len(indicators) == 1 + 6 + 3


def test_stadsdel_template_keeps_its_ocr_headers_and_has_no_plan_sheet():
    """The stadsdel sheet has no Plan sheet, the OCR-damaged header row, and 6 to 10 measure rows."""
    workbook = load_workbook(EXAMPLES / "stadsdel-atgardsplan-2025.xlsx")
    assert workbook.sheetnames == ["Atgardsplan"]
    rows = list(workbook["Atgardsplan"].iter_rows(values_only=True))
    assert rows[0][0] == "Atgardsplan 2025"
    header = (
        "Prioriterat omrade",
        "Problemomrade",
        "Orsak",
        "Atgard",
        "Operativa mal",
        "Nar",
        "Ansvarig",
        "Uppfoljning",
    )
    index = rows.index(header)
    assert 6 <= len([row for row in rows[index + 1 :] if row[3]]) <= 10


@pytest.mark.parametrize("name", DIRECTORIES)
def test_directory_references_resolve_to_listed_example_addresses(name):
    """A directory loads; every chef and kontakt is a listed person's e-mail; every address is @example.se."""
    directory = _load_directory(name)
    emails = [person["epost"] for person in directory["personer"]]
    assert len(emails) == len(set(emails)), "two persons share an e-mail address"
    references = [person["chef"] for person in directory["personer"] if "chef" in person]
    references += [organisation["kontakt"] for organisation in directory["organisationer"]]
    for address in emails + references:
        assert address.endswith("@example.se"), address
    for address in references:
        assert address in emails, f"{address} is not a listed person"


@pytest.mark.parametrize("name", DIRECTORIES)
def test_directory_names_roles_and_kinds_are_known(name):
    """Persons belong to listed organisations and use known roles; forums use known kinds."""
    directory = _load_directory(name)
    assert set(directory["kommun"]) == {"namn", "kod"}
    assert isinstance(directory["kommun"]["kod"], str)
    organisations = {organisation["namn"] for organisation in directory["organisationer"]}
    for person in directory["personer"]:
        assert person["organisation"] in organisations, person["namn"]
        assert set(person.get("roller", [])) <= {
            "bra_samordnare",
            "kommunledning",
            "ansvarig",
            "administratör",
        }
    kinds = {"lokala_bra", "kommunstyrelsen", "kommunledningen", "est_grupp", "styrgrupp", "annat"}
    assert all(forum["typ"] in kinds for forum in directory["forum"])
    assert sum("bra_samordnare" in person.get("roller", []) for person in directory["personer"]) == 1


@pytest.mark.parametrize("name", DIRECTORIES)
def test_forum_meetings_fall_on_swedish_working_days(name):
    """Every invented forum meeting is a weekday that is no Swedish public or de facto holiday."""
    meetings = [meeting for forum in _load_directory(name)["forum"] for meeting in forum.get("moten", [])]
    assert all(isinstance(meeting, date) for meeting in meetings)
    years = sorted({meeting.year for meeting in meetings})
    days_off = holidays.country_holidays("SE", years=years, categories=("public", "de_facto"))
    for meeting in meetings:
        assert meeting.weekday() < 5, meeting
        assert meeting not in days_off, f"{meeting}: {days_off.get(meeting)}"
