"""EST incidents: reporting, the actors' lists, the police's open events, and no personal data."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from importers.incidents import parse_police_datetime
from models.db import make_engine
from models.incident import looks_like_name_list, personal_data_problem
from models.personnummer import luhn_check_digit
from samordna.cli_common import EXAMPLES
from tests.conftest import Cli

POLICE = EXAMPLES / "polisen-handelser-dalarna-2025-03.json"
ACTORS = EXAMPLES / "est-handelser-kopparstaden-2025-03.csv"
BAD = EXAMPLES / "est-handelser-felaktig.csv"


def incident_count(engine: sa.Engine, where: str = "1 = 1") -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM incident WHERE {where}")).scalar_one())  # noqa: S608 - test-only literal conditions


def valid_personnummer() -> str:
    nine = "850709123"
    return f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


@pytest.mark.usefixtures("falun")
def test_report_with_flags_is_stored_once(cli: Cli, engine: sa.Engine) -> None:
    """`est rapportera` with flags stores the incident; the same report again is not stored twice."""
    args = (
        "est", "rapportera", "--kommun", "2080", "--datum", "2025-03-04", "--tid", "21:40",
        "--omrade", "bojsenburg", "--plats", "Tvättstugan", "--kategori", "klotter",
        "--organisation", "Kopparstaden", "--roll", "Bovärd", "--allvarlighet", "2",
        "--polisanmald", "--beskrivning", "Klotter på dörren.",
    )  # fmt: skip
    code, out, err = cli(*args)
    assert (code, err) == (0, "")
    assert "Händelsen är sparad: klotter i Bojsenburg, 2025-03-04 kl. 21:40" in out
    code, out, _ = cli(*args)
    assert code == 0
    assert "finns redan" in out
    assert incident_count(engine, "area = 'Bojsenburg' AND hour = 21 AND weekday = 1 AND severity = 2") == 1


@pytest.mark.usefixtures("falun")
def test_personnummer_in_text_is_refused_and_nothing_stored(cli: Cli, engine: sa.Engine) -> None:
    """A description holding a personnummer is refused with a message that does not repeat it."""
    number = valid_personnummer()
    code, out, err = cli(
        "est", "rapportera", "--kommun", "2080", "--datum", "2025-03-04", "--kategori", "klotter",
        "--omrade", "Järnet", "--beskrivning", f"Gärningsperson {number} sprejade.",
    )  # fmt: skip
    assert code == 1
    assert "personnummer" in err
    assert number not in err + out
    assert number.replace("-", "") not in err + out
    assert incident_count(engine) == 0


def test_unknown_category_and_area_are_named(falun_cli: Cli) -> None:
    """An unknown category or area is refused with the kommun's own lists."""
    code, _, err = falun_cli(
        "est", "rapportera", "--kommun", "2080", "--datum", "2025-03-04", "--kategori", "graffiti",
        "--omrade", "Tisken",
    )  # fmt: skip
    assert code == 1
    assert "okänd kategori" in err
    assert "klotter" in err
    assert "okänt område" in err
    assert "Bojsenburg" in err


@pytest.mark.usefixtures("falun")
def test_police_events_import_once(cli: Cli, engine: sa.Engine) -> None:
    """A saved police events file imports as source Polisen; importing it twice adds nothing."""
    code, out, err = cli("est", "import", POLICE, "--kommun", "2080")
    assert (code, err) == (0, "")
    assert "14 händelser från Polisen" in out
    assert "14 nya sparades" in out
    assert "annan kommun (3)" in out  # Borlänge, Mora and the county's night summary
    assert "Trafikolycka (1)" in out
    code, out, _ = cli("est", "import", POLICE, "--kommun", "2080")
    assert code == 0
    assert "0 nya sparades, 14 fanns redan" in out
    assert incident_count(engine) == 14
    assert incident_count(engine, "source = 'Polisen' AND reported_to_police") == 14
    # Areas by name in the summary (Bojsenburg), by gps circle (Britsarvet), else the place.
    assert incident_count(engine, "area = 'Bojsenburg' AND category = 'skadegorelse'") == 1
    assert incident_count(engine, "area = 'Britsarvet' AND category = 'stold_inbrott'") == 1
    assert incident_count(engine, "area = 'Nedre Norslund' AND category = 'narkotika'") == 1
    assert incident_count(engine, "area = 'Stadskärnan' AND category = 'vald_hot' AND severity = 3") == 1
    assert incident_count(engine, "category = 'annat' AND area = 'Stadskärnan'") == 1  # Bedrägeri


def test_actor_list_imports_and_dry_run_writes_nothing(falun_cli: Cli) -> None:
    """An actor's CSV list with title rows imports; --dry-run checks it and writes nothing."""
    cli, engine = falun_cli, make_engine(falun_cli.url)
    code, out, _ = cli("est", "import", ACTORS, "--kommun", "2080", "--dry-run")
    assert code == 0
    assert "inget sparades" in out
    assert incident_count(engine) == 0
    code, out, _ = cli("est", "import", ACTORS, "--kommun", "2080")
    assert code == 0
    assert "8 nya sparades" in out
    assert incident_count(engine, "part_of_day = 'kväll' AND hour IS NULL") == 1
    code, out, _ = cli("est", "import", ACTORS, "--kommun", "2080")
    assert "0 nya sparades" in out
    assert incident_count(engine) == 8


def test_bad_rows_are_named_by_file_row_and_column(falun_cli: Cli) -> None:
    """Every bad row is named by file, row and column; nothing of the file is stored."""
    cli, engine = falun_cli, make_engine(falun_cli.url)
    code, out, err = cli("est", "import", BAD, "--kommun", "2080")
    assert code == 1
    assert out == ""
    expected = [
        'est-handelser-felaktig.csv, rad 3, kolumn "Datum" (A): ogiltigt datum',
        'est-handelser-felaktig.csv, rad 4, kolumn "Tid" (B): ogiltig tid',
        'est-handelser-felaktig.csv, rad 5, kolumn "Område" (C): okänt område',
        'est-handelser-felaktig.csv, rad 6, kolumn "Kategori" (D): okänd kategori',
        'est-handelser-felaktig.csv, rad 6, kolumn "Allvarlighet" (E): allvarlighetsgraden ska vara 1',
        'est-handelser-felaktig.csv, rad 6, kolumn "Polisanmäld" (F): skriv ja eller nej',
        'est-handelser-felaktig.csv, rad 7, kolumn "Beskrivning" (G): Beskrivning ser ut att innehålla namn',
    ]
    for line in expected:
        assert line in err
    assert "Anna Svensson" not in err
    assert incident_count(engine) == 0


def test_bad_police_file_is_named(falun_cli: Cli, tmp_path: Path) -> None:
    """A police file that is not JSON, or an event with a bad datetime, is named with its place."""
    cli = falun_cli
    broken = tmp_path / "polisen.json"
    broken.write_text("[{", encoding="utf-8")
    code, _, err = cli("est", "import", broken, "--kommun", "2080")
    assert code == 1
    assert "polisen.json" in err
    assert "inte giltig JSON" in err
    broken.write_text(
        '[{"id": 1, "datetime": "igår", "type": "Brand", "name": "x", "summary": "Brand.",'
        ' "location": {"name": "Falun", "gps": "60.6,15.6"}}]',
        encoding="utf-8",
    )
    code, _, err = cli("est", "import", broken, "--kommun", "2080")
    assert code == 1
    assert 'polisen.json, händelse 1, kolumn "datetime": ogiltig tid' in err


def test_police_datetime_keeps_its_offset() -> None:
    """The police's datetime ("2025-1-7 21:14:05 +01:00", padded or not) keeps its local time."""
    moment = parse_police_datetime("2025-1-7 21:14:05 +01:00")
    assert (moment.date().isoformat(), moment.hour, moment.utcoffset().total_seconds()) == (  # type: ignore[union-attr]
        "2025-01-07",
        21,
        3600,
    )


FIRST = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Sara",
    "Per-Olof",
    "Åsa",
    "Öjvind",
    "Emma",
    "Ali",
]
LAST = ["Svensson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Öberg", "Åkesson", "Hussein"]
SEPARATORS = [", ", " och ", "; ", "\n", " samt "]
full_name = st.tuples(st.sampled_from(FIRST), st.sampled_from(LAST)).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(full_name, min_size=2, max_size=6, unique=True), separator=st.sampled_from(SEPARATORS))
def test_any_list_of_full_names_is_refused(names: list[str], separator: str) -> None:
    """Two or more full names, however they are joined, are seen as a name list and refused."""
    text = f"Inblandade: {separator.join(names)}."
    assert looks_like_name_list(text)
    message = personal_data_problem(text, "Beskrivning")
    assert message is not None
    assert all(name not in message for name in names)


WORDS = [
    "klotter", "på", "fasad", "vid", "busshållplatsen", "ungdomar", "samlades", "med", "hög", "musik",
    "krossade", "rutor", "i", "trapphus", "brand", "papperskorg", "mopeder", "körde", "på", "gångvägen",
    "misstänkt", "försäljning", "kanyler", "hittade", "belysning", "trasig", "kväll", "natt",
]  # fmt: skip
PLACES = ["Bojsenburg", "Nedre Norslund", "Stora torget", "Falu centrum", "Järnet", "Stadskärnan", "Polisen"]


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=3, max_size=25),
    places=st.lists(st.sampled_from(PLACES), max_size=3),
    capitalise=st.booleans(),
)
def test_ordinary_descriptions_pass(words: list[str], places: list[str], capitalise: bool) -> None:  # noqa: FBT001 - a hypothesis flag
    """Ordinary incident descriptions with place names (also at a sentence start) are not name lists."""
    text = " ".join(words + places)
    if capitalise:
        text = text[0].upper() + text[1:]
    known = ["Bojsenburg", "Nedre Norslund", "Stadskärnan", "Järnet", "Falu centrum"]
    assert personal_data_problem(text + ".", "Beskrivning", known) is None


def test_one_name_or_an_organisation_is_not_a_list() -> None:
    """One full name alone is not a list; organisations and places are not names."""
    assert not looks_like_name_list("Kontakt via Kopparstaden och Räddningstjänsten Dala Mitt.")
    assert not looks_like_name_list("Bråk vid Stora Torget och Nedre Norslund.", ["Nedre Norslund"])
    assert looks_like_name_list("Anna Svensson, Erik Johansson")


def test_report_prompts_at_a_terminal(falun_cli: Cli) -> None:
    """At a terminal `est rapportera` asks for what is missing, in Swedish, and re-asks a bad answer."""
    master, slave = pty.openpty()
    environment = {
        **os.environ,
        "SAMORDNA_DATABASE_URL": falun_cli.url,
        "SAMORDNA_DATA_DIR": str(falun_cli.data_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "samordna", "est", "rapportera", "--kommun", "2080"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    answers = ["2025-03-06", "kväll", "klotter", "Järnet", "Cykelrummet", "Kopparstaden", "Bovärd"]
    answers += ["5", "2", "kanske", "ja", "Klotter på väggen."]
    os.write(master, ("\n".join(answers) + "\n").encode())
    out, err = process.communicate(timeout=120)
    os.close(master)
    os.close(slave)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "Svara 1 eller 2 eller 3." in text
    assert "Svara ja eller nej." in text
    assert "Händelsen är sparad: klotter i Järnet, 2025-03-06 (kväll), allvarlighet 2." in text
    with make_engine(falun_cli.url).connect() as connection:
        row = connection.execute(sa.text("SELECT reported_to_police, place FROM incident")).one()
    assert tuple(row) == (True, "Cykelrummet")
