"""SSPF test helpers: keys, the roles of a small Falun SSPF organisation, and a seeded case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from importers.directory_import import import_directory_file
from models.db import transaction
from models.personnummer import luhn_check_digit
from tests.conftest import EXAMPLES, Cli

ADMIN = "anna.lindqvist@example.se"  # BRÅ-samordnare and administratör in the Falun directory
COORDINATOR = "sara.holm@example.se"
OTHER_COORDINATOR = "eva.backman@example.se"
POLICE = "jonas.ek@example.se"  # operative group, Polisen; in the team
SCHOOL = "helena.strom@example.se"  # operative group, Skolan; not in the team
BRA = "karin.dahl@example.se"  # kommunledning: no SSPF role at all

NAME = "Wilma Testlund"
GUARDIAN_NAME = "Gunnel Testlund"


def import_directory(engine: sa.Engine) -> None:
    """Falun's directory (persons, organisations, roles) without the plan: all SSPF needs."""
    with transaction(engine) as session:
        import_directory_file(session, EXAMPLES / "falun-katalog.yaml")


def personnummer(born: date, serial: str = "238") -> str:
    """A valid personnummer (YYYYMMDD-NNNC) for ``born``."""
    nine = f"{born:%y%m%d}{serial}"
    return f"{born:%Y%m%d}-{serial}{luhn_check_digit(nine)}"


def years_ago(years: int, days: int = 0) -> date:
    today = date.today()  # noqa: DTZ011 - the CLI checks ages against today
    try:
        born = today.replace(year=today.year - years)
    except ValueError:
        born = date(today.year - years, 3, 1)
    return date.fromordinal(born.toordinal() - days)


@dataclass
class Seeded:
    code: str
    personnummer: str
    name: str = NAME


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SAMORDNA_SSPF_KEYS", key)
    monkeypatch.setenv("SAMORDNA_AUDIT_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("SAMORDNA_ANVANDARE", raising=False)
    return key


def ok(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 0, f"{args}: {err}"
    return out


def as_user(cli: Cli, user: str, *args: str) -> tuple[int, str, str]:
    return cli("sspf", "--anvandare", user, "--kommun", "2080", *args)


def grant_roles(cli: Cli) -> None:
    for person, role, org in (
        (COORDINATOR, "samordnare", None),
        (OTHER_COORDINATOR, "samordnare", None),
        (POLICE, "operativ", "Polisen"),
        (SCHOOL, "operativ", "Skolan"),
    ):
        extra = ("--organisation", org) if org else ()
        code, _, err = as_user(cli, ADMIN, "roll", "tilldela", "--person", person, "--roll", role, *extra)
        assert code == 0, err


def seed_case(cli: Cli, *, born: date | None = None, consent: bool = True) -> Seeded:
    """A case with the youth's name and personnummer, the police in its team, and (optionally) a consent."""
    number = personnummer(born or years_ago(15))
    code, out, err = as_user(
        cli,
        COORDINATOR,
        "arende",
        "skapa",
        "--hanvisare",
        "Skolan",
        "--orsak",
        "brott",
        "--risk",
        "hög",
        "--namn",
        NAME,
        "--personnummer",
        number,
        "--riskkommentar",
        f"Vårdnadshavaren {GUARDIAN_NAME} oroar sig",
    )
    assert code == 0, err
    case_code = out.split()[1]
    code, _, err = as_user(
        cli, COORDINATOR, "team", "lagg-till", case_code, "--person", POLICE, "--organisation", "Polisen"
    )
    assert code == 0, err
    if consent:
        register_consent(cli, case_code, ("ung", "vårdnadshavare_1", "vårdnadshavare_2"))
    return Seeded(case_code, number)


def register_consent(cli: Cli, case_code: str, signers: tuple[str, ...]) -> tuple[int, str, str]:
    args = [arg for signer in signers for arg in ("--undertecknare", signer)]
    review = date.today().replace(year=date.today().year + 1)  # noqa: DTZ011 - relative to the CLI's today
    return as_user(
        cli,
        COORDINATOR,
        "samtycke",
        "registrera",
        case_code,
        *args,
        "--organisation",
        "Polisen",
        "--organisation",
        "Fritid för unga",
        "--syfte",
        "Samverkan inom SSPF",
        "--omprovas",
        review.isoformat(),
    )


def audit_rows(url: str | sa.Engine, action: str | None = None) -> list[tuple[str, str, str, str]]:
    """(actor, action, command, case code) of every audit entry, in order."""
    engine = sa.create_engine(url) if isinstance(url, str) else url
    query = "SELECT actor, action, command, case_code FROM sspf_audit_entry ORDER BY sequence"
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(query))]
    if isinstance(url, str):
        engine.dispose()
    return [row for row in rows if action is None or row[1] == action]  # type: ignore[misc]


def dump(url: str) -> str:
    """Every row of every table as text: a pg_dump-like read, on SQLite and PostgreSQL alike."""
    engine = sa.create_engine(url)
    parts: list[str] = []
    with engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):  # noqa: S608 - table names from the schema
                parts.append(" ".join(str(value) for value in row))
    engine.dispose()
    return "\n".join(parts)


def secrets_of(seeded: Seeded) -> list[str]:
    """The seeded personal data in every form someone might search for."""
    digits = seeded.personnummer.replace("-", "")
    return [
        seeded.name,
        seeded.name.split()[1],
        GUARDIAN_NAME,
        seeded.personnummer,
        digits,
        digits[2:],
        seeded.personnummer[2:],
    ]
