"""Importing the plans kommuner actually have: the examples, other formats, and bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlmodel import Session, SQLModel, select

from importers.columns import find_header
from importers.tables import Cell, Sheet
from models.db import make_engine, transaction
from models.enums import FollowUpFrequency, ForumKind, MeasureStatus
from models.plan import ActionPlan, Measure, MeasureForum, StatusReport
from tests.conftest import EXAMPLES, Cli

FALUN = EXAMPLES / "falun-atgardsplan-2024.xlsx"
FALUN_KATALOG = EXAMPLES / "falun-katalog.yaml"
ORSA = EXAMPLES / "orsa-handlingsplan-2024-2025.xlsx"
ORSA_KATALOG = EXAMPLES / "orsa-katalog.yaml"
STADSDEL = EXAMPLES / "stadsdel-atgardsplan-2025.xlsx"


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table: what 'nothing changed' is measured by."""
    engine = make_engine(url)
    with engine.connect() as connection:
        counts = {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
    engine.dispose()
    return counts


def measures_by_title(url: str) -> dict[str, Measure]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = {m.title: m for m in session.exec(select(Measure).order_by(Measure.position))}
    engine.dispose()
    return found


def _starting(found: dict[str, Measure], prefix: str) -> Measure:
    matches = [measure for title, measure in found.items() if title.startswith(prefix)]
    assert len(matches) == 1, prefix
    return matches[0]


# Falun's Tid column, as written, and what it says: (title prefix, start, end, ongoing).
FALUN_PERIODS = [
    ("Starta samverkansgrupper", date(2025, 1, 1), None, True),  # "Start våren 2025 Pågående"
    ("Införandet av SSPF", date(2024, 1, 1), None, False),  # "Start 2024"
    ("Tidiga samordnare insatser", None, None, True),  # "Pågående"
    ("Föräldrakurser för föräldrar med barn i åk F-9", date(2024, 8, 1), None, False),  # "Start hösten 2024"
    ("Aktiv fritid för elever", date(2025, 1, 1), date(2027, 12, 31), False),  # "Våren 2025 – 2027."
    ("Fortsatt arbete för att öka trygghet", date(2024, 8, 1), None, True),  # "Pågående Start hösten 2024-"
    ("Åtgärder i den fysiska miljön (inomhus", date(2025, 1, 1), None, True),
    ("Fortsatt arbete med att kartlägga", date(2025, 1, 1), date(2025, 12, 31), True),
    ("Trygghetsskapande och brottsförebyggande åtgärder", date(2024, 8, 1), None, True),
    ("Öka flödet med trygga människor", None, None, True),  # "Delsvis pågående"
    ("Se över möjlighet att införa förbud", date(2024, 12, 1), None, False),  # "Start december 2024"
    ("Utse representanter", date(2025, 1, 1), None, False),  # "Start 2025"
]


def test_falun_imports_every_measure(cli: Cli) -> None:
    """Falun's plan imports all 33 measures in its three focus areas, with the plan's facts."""
    assert cli("katalog", "import", FALUN_KATALOG)[0] == 0
    code, out, err = cli("plan", "import", FALUN)
    assert code == 0, err
    assert "Åtgärder:  33, i 3 fokusområden" in out
    code, out, _ = cli("plan", "list", "--kommun", "2080", "--format", "json")
    rows = json.loads(out)
    per_area: dict[str, int] = {}
    for row in rows:
        per_area[row["fokusomrade"]] = per_area.get(row["fokusomrade"], 0) + 1
    assert list(per_area.values()) == [16, 12, 5]
    assert next(iter(per_area)).startswith("1. Barn och unga – geografiska områden")
    assert len({row["atgard"] for row in rows}) == 33


@pytest.mark.parametrize(("prefix", "start", "end", "ongoing"), FALUN_PERIODS)
def test_falun_periods_are_parsed(
    sqlite_cli: Cli,
    sqlite_url: str,
    prefix: str,
    start: date | None,
    end: date | None,
    ongoing: bool,  # noqa: FBT001 - pytest passes parameters by name
) -> None:
    """Each of Falun's free-text periods becomes the start, end and ongoing flag the text states."""
    assert sqlite_cli("plan", "import", FALUN)[0] == 0
    measure = _starting(measures_by_title(sqlite_url), prefix)
    assert (measure.period_start, measure.period_end, measure.ongoing) == (start, end, ongoing)
    assert measure.period_understood


def test_falun_periods_parsed_wherever_stated(sqlite_cli: Cli, sqlite_url: str) -> None:
    """Every Falun period is understood except the one that states no time at all, which is flagged."""
    assert sqlite_cli("plan", "import", FALUN)[0] == 0
    not_understood = [m.raw_period for m in measures_by_title(sqlite_url).values() if not m.period_understood]
    assert not_understood == ["Ca 2,5 timmar/per tillfälle"]


def test_falun_follow_up_and_parties(sqlite_cli: Cli, sqlite_url: str) -> None:
    """Falun's follow-up text gives BRÅ and KS every half-year; ansvariga are matched to the directory."""
    assert sqlite_cli("katalog", "import", FALUN_KATALOG)[0] == 0
    assert sqlite_cli("plan", "import", FALUN)[0] == 0
    _, out, _ = sqlite_cli("plan", "list", "--kommun", "Falun", "--format", "json")
    rows = {row["atgard"]: row for row in json.loads(out)}
    krogar = rows["Krogar mot knark -samverkan -utbildning -rutiner"]
    assert krogar["uppfoljning_frekvens"] == "halvårsvis"
    assert krogar["uppfoljning_forum"] == ["Faluns BRÅ", "Kommunstyrelsen"]
    assert [party["namn"] for party in krogar["ansvariga"]][:1] == ["Falu kommun"]
    assert krogar["text"]["tid"] == "Start hösten 2024"
    assert krogar["period_start"] == "2024-08-01"
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        forums = session.exec(select(MeasureForum).where(MeasureForum.kind == ForumKind.LOCAL_BRA)).all()
        assert len(forums) >= 30
        assert all(forum.forum_id is not None for forum in forums)
    engine.dispose()


def test_orsa_sub_rows_indicators_and_facts(cli: Cli, database_url: str) -> None:
    """Orsa: merged åtgärd cells become sub-activities, deadlines come from Uppföljning, facts from Plan."""
    assert cli("katalog", "import", ORSA_KATALOG)[0] == 0
    code, out, err = cli("plan", "import", ORSA)
    assert code == 0, err
    assert "varav 3 delaktiviteter" in out
    engine = make_engine(database_url)
    with Session(engine) as session:
        plan = session.exec(select(ActionPlan)).one()
        rows = list(session.exec(select(Measure).order_by(Measure.position)))
    engine.dispose()
    assert (plan.decided_on, plan.revision_due) == (date(2024, 6, 17), date(2026, 6, 17))
    assert plan.extra["Diarienummer"] == "KS 2024/274"
    first = rows[0]
    assert [m.parent_id for m in rows[1:4]] == [first.id] * 3
    assert (first.period_start, first.period_end) == (date(2024, 9, 1), date(2024, 9, 30))  # "Sept. 2024"
    assert (rows[1].period_start, rows[1].period_end) == (
        date(2024, 8, 1),
        date(2024, 12, 31),
    )  # "Hösten 2024"
    assert rows[4].follow_up_frequency is FollowUpFrequency.CONTINUOUS  # "Löpande rapportering …"
    assert "Indikatorer: 9" in out


def test_stadsdel_template_with_ocr_headers(sqlite_cli: Cli, sqlite_url: str) -> None:
    """The stadsdel template's OCR-damaged headers map, its area column makes focus areas, problems link."""
    assert sqlite_cli("kommun", "skapa", "--namn", "Stadsdel", "--kod", "0180")[0] == 0
    code, out, err = sqlite_cli("plan", "import", STADSDEL, "--kommun", "0180", "--titel", "Åtgärdsplan 2025")
    assert code == 0, err
    assert "varning" not in out.casefold() or "okänd kolumn" not in out
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        measures = connection.execute(sa.text("SELECT count(*), count(cause_id) FROM measure")).one()
        areas = connection.execute(sa.text("SELECT count(*) FROM focus_area")).scalar_one()
    engine.dispose()
    assert measures[0] == measures[1] > 0  # every measure linked to a problem and cause
    assert areas >= 3


def test_dry_run_writes_nothing(cli: Cli, database_url: str) -> None:
    """--dry-run shows the summary and leaves every table as it was."""
    before = row_counts(database_url)
    code, out, _ = cli("plan", "import", FALUN, "--dry-run")
    assert code == 0
    assert out.startswith("Provkörning (--dry-run): inget sparades.")
    assert row_counts(database_url) == before


def test_same_plan_twice_needs_ersatt(sqlite_cli: Cli, sqlite_url: str) -> None:
    """A second import of the same plan is refused; --ersatt replaces it; history forbids replacing."""
    assert sqlite_cli("plan", "import", FALUN)[0] == 0
    once = row_counts(sqlite_url)
    code, _, err = sqlite_cli("plan", "import", FALUN)
    assert code == 1
    assert "--ersatt" in err
    assert sqlite_cli("plan", "import", FALUN, "--ersatt")[0] == 0
    assert row_counts(sqlite_url)["measure"] == once["measure"] == 33
    engine = make_engine(sqlite_url)
    with transaction(engine) as session:
        measure = session.exec(select(Measure)).first()
        assert measure is not None
        session.add(
            StatusReport(
                municipality_id=measure.municipality_id,
                measure_id=measure.id or 0,
                reported_on=date(2025, 5, 1),
                status=MeasureStatus.ONGOING,
            )
        )
    engine.dispose()
    code, _, err = sqlite_cli("plan", "import", FALUN, "--ersatt")
    assert code == 1
    assert "statusrapporter" in err


def _workbook(path: Path, rows: list[list[object]], *, title: str = "Fokus 1") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


HEADER = ["Åtgärd", "Tid", "Ansvarig", "Uppföljning"]
GOOD_ROW = ["Trygghetsvandring", "Hösten 2025", "Polisen", "BRÅ en gång per halvår"]


def _bad_inputs(tmp: Path) -> list[tuple[Path, list[str], list[str]]]:
    """(file, extra args, fragments the message must contain)."""
    corrupt = tmp / "trasig.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a workbook")
    empty = _workbook(tmp / "tom.xlsx", [])
    word = tmp / "plan.docx"
    word.write_bytes(b"whatever")
    no_measure = _workbook(
        tmp / "utan-atgard.xlsx", [["Plan 2025"], [], HEADER, GOOD_ROW, ["", "Våren 2026", "Polisen", ""]]
    )
    bad_date = _workbook(
        tmp / "datum.xlsx", [HEADER, GOOD_ROW, ["Belysning", "30 februari 2025", "Kommunen", ""]]
    )
    bad_status = _workbook(tmp / "status.xlsx", [[*HEADER, "Status"], [*GOOD_ROW, "klar typ"]])
    unknown_headers = _workbook(
        tmp / "okand.xlsx", [["Vad ska göras", "Klart när", "Vem"], ["Belysning", "2025", "Kommunen"]]
    )
    late_error = _workbook(
        tmp / "sent-fel.xlsx", [HEADER, *([GOOD_ROW] * 40), ["Sista", "2025-13-01", "Polisen", ""]]
    )
    bad_csv = tmp / "plan.csv"
    bad_csv.write_text("Åtgärd;Tid\nBelysning;31/4 2025\n", encoding="utf-8")
    bad_yaml = tmp / "plan.yaml"
    bad_yaml.write_text("plan: [\n", encoding="utf-8")
    bad_kommun = _workbook(tmp / "kommun.xlsx", [HEADER, GOOD_ROW])
    return [
        (tmp / "finns-inte.xlsx", ["--kommun", "2080"], ["finns-inte.xlsx", "filen finns inte"]),
        (word, ["--kommun", "2080"], ["plan.docx", "okänt filformat", "xlsx"]),
        (corrupt, ["--kommun", "2080"], ["trasig.xlsx", "går inte att läsa som en Excel-arbetsbok"]),
        (empty, ["--kommun", "2080"], ["tom.xlsx", "ingen tabell"]),
        (no_measure, ["--kommun", "2080"], ['blad "Fokus 1", rad 5, kolumn "Åtgärd" (A)', "ingen åtgärd"]),
        (
            bad_date,
            ["--kommun", "2080"],
            ['rad 3, kolumn "Tid" (B)', "30 februari 2025", "inget giltigt datum"],
        ),
        (
            bad_status,
            ["--kommun", "2080"],
            ['rad 2, kolumn "Status" (E)', 'okänd status "klar typ"', "pågående"],
        ),
        (
            unknown_headers,
            ["--kommun", "2080"],
            ["rad 1", '"Vad ska göras"', '"Klart när"', '"Vem"', "--map"],
        ),
        (late_error, ["--kommun", "2080"], ['rad 42, kolumn "Tid" (B)', "2025-13-01"]),
        (bad_csv, ["--kommun", "2080"], ['plan.csv, blad "plan", rad 2, kolumn "Tid" (B)', "31/4 2025"]),
        (bad_yaml, ["--kommun", "2080"], ["plan.yaml", "inte giltig YAML"]),
        (bad_kommun, ["--kommun", "Atlantis"], ['kommunen "Atlantis" finns inte']),
        (bad_kommun, ["--kommun", "2080", "--map", "Vem"], ['--map "Vem" ska skrivas "Kolumnnamn=fält"']),
        (bad_kommun, ["--kommun", "2080", "--map", "Vem=chef"], ['okänt fält "chef"']),
        (
            bad_kommun,
            ["--kommun", "2080", "--beslutsdatum", "30 februari 2025"],
            ["--beslutsdatum", "inget giltigt datum"],
        ),
    ]


def test_bad_input_gets_swedish_message_and_changes_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    """Every malformed file gets a Swedish message naming file, row and column, exit 1, and no change."""
    assert cli("kommun", "skapa", "--namn", "Falun", "--kod", "2080")[0] == 0
    assert cli("katalog", "import", FALUN_KATALOG)[0] == 0
    before = row_counts(database_url)
    cases = _bad_inputs(tmp_path)
    for path, extra, fragments in cases:
        code, out, err = cli("plan", "import", path, *extra)
        assert code == 1, (path.name, err)
        assert out == ""
        assert "Traceback" not in err
        assert err.startswith("Fel: "), err
        for fragment in fragments:
            assert fragment in err, (path.name, fragment, err)
        assert row_counts(database_url) == before, path.name
    assert len(cases) == 15


def test_katalog_and_plan_fail_together(cli: Cli, database_url: str, tmp_path: Path) -> None:
    """With --katalog, a plan that fails also leaves the directory unwritten: one transaction."""
    before = row_counts(database_url)
    bad = _workbook(tmp_path / "fel.xlsx", [HEADER, ["Belysning", "30 februari 2025", "Kommunen", ""]])
    code, _, err = cli("plan", "import", bad, "--katalog", FALUN_KATALOG)
    assert code == 1
    assert "30 februari 2025" in err
    assert row_counts(database_url) == before


def test_unknown_headers_import_with_map(sqlite_cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    """A header set never seen imports once --map names its columns; an unmapped extra column is kept."""
    path = _workbook(
        tmp_path / "ny.xlsx",
        [
            ["Handlingsplan trygghet"],
            ["Vad ska göras", "Klart när", "Vem", "Färg"],
            ["Belysning i parken", "senast 2025-10-31", "Kommunen", "grön"],
        ],
    )
    args = [
        "--kommun",
        "2080",
        "--map",
        "Vad ska göras=åtgärd",
        "--map",
        "Klart när=tid",
        "--map",
        "vem=Ansvarig",
    ]
    assert sqlite_cli("kommun", "skapa", "--namn", "Falun", "--kod", "2080")[0] == 0
    code, out, err = sqlite_cli("plan", "import", path, *args)
    assert code == 0, err
    assert 'kolumn "Färg" (D): okänd kolumn' in out
    measure = _starting(measures_by_title(sqlite_url), "Belysning")
    assert (measure.period_start, measure.period_end) == (None, date(2025, 10, 31))
    assert measure.extra == {"Färg": "grön"}
    assert measure.raw_responsible == "Kommunen"


def test_csv_and_yaml_plans(sqlite_cli: Cli, sqlite_url: str, tmp_path: Path) -> None:
    """A Windows-1252 semicolon CSV and a YAML plan import like a workbook does."""
    assert sqlite_cli("kommun", "skapa", "--namn", "Orsa", "--kod", "2034")[0] == 0
    csv_path = tmp_path / "plan.csv"
    csv_path.write_bytes(
        "Fokusområde;Åtgärd;När;Ansvarig\nTrygghet;Trygghetsvandring;Hösten 2025;Polisen\n".encode("cp1252")
    )
    code, _, err = sqlite_cli("plan", "import", csv_path, "--kommun", "2034", "--titel", "CSV-plan")
    assert code == 0, err
    yaml_path = tmp_path / "plan.yaml"
    yaml_path.write_text(
        yaml.safe_dump(
            {
                "plan": {"Titel": "YAML-plan", "Kommunkod": "2034", "Revideras senast": "2026-07"},
                "fokusområden": [
                    {
                        "titel": "Välfärdsbrott",
                        "åtgärder": [{"Åtgärd": "Crime proofing", "Uppföljning": "2025"}],
                    }
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    code, _, err = sqlite_cli("plan", "import", yaml_path)
    assert code == 0, err
    found = measures_by_title(sqlite_url)
    assert found["Trygghetsvandring"].period_start == date(2025, 8, 1)
    assert (found["Crime proofing"].period_start, found["Crime proofing"].period_end) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
    )
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        yaml_plan = session.exec(select(ActionPlan).where(ActionPlan.title == "YAML-plan")).one()
    engine.dispose()
    assert yaml_plan.revision_due == date(2026, 7, 31)


def test_plan_list_csv_and_show(sqlite_cli: Cli) -> None:
    """`plan list --format csv` is a parseable register; `plan show` prints text beside what was parsed."""
    assert sqlite_cli("plan", "import", FALUN)[0] == 0
    code, out, _ = sqlite_cli("plan", "list", "--kommun", "2080", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    assert len(rows) == 33
    assert rows[0]["period_start"] == "2025-01-01"
    code, out, _ = sqlite_cli("plan", "show", "1", "--kommun", "2080")
    assert code == 0
    assert 'Tid:         "Start hösten 2024" → 2024-08-01 – …' in out
    assert "period ej tolkad" in out
    code, _, err = sqlite_cli("plan", "show", "99", "--kommun", "2080")
    assert code == 1
    assert "Planen 99 finns inte" in err


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title_rows=st.lists(st.text(alphabet="abcdefg åäö:", min_size=1, max_size=40), max_size=12),
    header=st.permutations(["Åtgärd", "Tid", "ANSVARIGA", "uppfoljning", "Kostnad"]),
)
def test_header_found_below_any_title_rows(title_rows: list[str], header: list[str]) -> None:
    """The header row is found wherever it stands among title rows, in any column order and case."""
    rows = [[Cell(text)] for text in title_rows] + [[Cell(name) for name in header]]
    found = find_header(Sheet("Blad", rows))
    assert found is not None
    assert found.index == len(title_rows)
    assert [column.header for column in found.columns] == header
