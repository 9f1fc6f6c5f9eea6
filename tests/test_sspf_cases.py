"""SSPF cases on SQLite and PostgreSQL: refusals, consent, encryption at rest, the audit log, keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from cycles.daily_sweep import run_daily_sweep
from models.municipality import find_municipality
from models.outbox import OutboxMessage
from models.task import Task, TaskKind
from models.working_days import add_working_days
from notifications.compose import enqueue_messages
from tests.conftest import Cli
from tests.sspf_support import (
    ADMIN,
    COORDINATOR,
    POLICE,
    as_user,
    audit_rows,
    dump,
    grant_roles,
    import_directory,
    keys,  # noqa: F401 - fixture
    ok,
    personnummer,
    register_consent,
    secrets_of,
    seed_case,
    years_ago,
)


@pytest.fixture
def sspf(cli: Cli, engine: sa.Engine, keys: str) -> Cli:  # noqa: F811 - the fixture above
    """The CLI on a database with Falun's directory, SSPF keys and roles granted."""
    del keys
    import_directory(engine)
    grant_roles(cli)
    return cli


def _create(cli: Cli, *extra: str) -> tuple[int, str, str]:
    return as_user(
        cli,
        COORDINATOR,
        "arende",
        "skapa",
        "--hanvisare",
        "Polisen",
        "--orsak",
        "brott",
        "--risk",
        "medel",
        *extra,
    )


def test_invalid_personnummer_is_refused(sspf: Cli) -> None:
    """A personnummer with a wrong check digit or an impossible date is refused, and no case is made."""
    good = personnummer(years_ago(14))
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    for bad, message in ((wrong_check, "kontrollsiffra"), ("20110231-1234", "födelsedatum")):
        code, _, err = _create(sspf, "--personnummer", bad)
        assert code == 1
        assert message in err
        assert bad not in err  # the message never repeats the number
    assert "SSPF-" not in ok(sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "lista")


def test_age_outside_the_target_group_needs_a_reason(sspf: Cli) -> None:
    """A youth of 25 is refused with the target group named; with --undantag the case is opened."""
    born = years_ago(25).isoformat()
    code, _, err = _create(sspf, "--fodelsedatum", born)
    assert code == 1
    assert "utanför målgruppen 12–20 år" in err
    code, out, err = _create(sspf, "--fodelsedatum", born, "--undantag", "Syskon i pågående ärende")
    assert code == 0, err
    assert "utanför målgruppens ålder" in out


def test_missing_and_withdrawn_consent_block_disclosure(sspf: Cli) -> None:
    """No consent: the disclosure is refused; with one it is recorded; withdrawn, the next is refused."""
    case = seed_case(sspf, consent=False)
    code, _, err = as_user(sspf, COORDINATOR, "utlamna", case.code, "--organisation", "Polisen")
    assert code == 1
    assert "inget samtycke som omfattar organisationen" in err
    code, _, err = register_consent(sspf, case.code, ("ung", "vårdnadshavare_1"))
    assert code == 1
    assert "saknar underskrift av: vårdnadshavare_2" in err
    assert register_consent(sspf, case.code, ("ung", "vårdnadshavare_1", "vårdnadshavare_2"))[0] == 0
    code, out, err = as_user(sspf, COORDINATOR, "utlamna", case.code, "--organisation", "Polisen")
    assert code == 0, err
    # The police member reads while the consent covers Polisen.
    assert case.name in ok(
        sspf, "sspf", "--anvandare", POLICE, "--kommun", "2080", "arende", "visa", case.code
    )
    consent_id = out.split("samtycke ")[1].split(")")[0]
    ok(sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "samtycke", "aterkalla", consent_id)
    code, _, err = as_user(sspf, COORDINATOR, "utlamna", case.code, "--organisation", "Polisen")
    assert code == 1
    assert "samtycket återkallades" in err
    code, out, err = as_user(sspf, POLICE, "arende", "visa", case.code)
    assert (code, out) == (1, "")
    assert "samtycket återkallades" in err
    # Not covered by any consent: an organisation the youth never agreed to.
    code, _, err = as_user(sspf, COORDINATOR, "utlamna", case.code, "--organisation", "Skolan")
    assert code == 1
    # A legal basis instead of consent is recorded with its motivation.
    code, out, err = as_user(
        sspf, COORDINATOR, "utlamna", case.code, "--organisation", "Polisen", "--lagrum", "osl-10-18a",
        "--motivering", "Risk för fortsatt brottslighet",
    )  # fmt: skip
    assert code == 0, err
    assert "lagrum osl-10-18a" in out


def test_at_eighteen_only_the_youths_own_consent_counts(sspf: Cli) -> None:
    """A youth who has turned 18: the guardians' consent no longer counts; the youth alone must sign."""
    case = seed_case(sspf, born=years_ago(18, days=3), consent=False)
    code, _, err = register_consent(sspf, case.code, ("ung", "vårdnadshavare_1", "vårdnadshavare_2"))
    assert code == 1
    assert "fyllt 18 år" in err
    assert register_consent(sspf, case.code, ("ung",))[0] == 0
    ok(
        sspf,
        "sspf",
        "--anvandare",
        COORDINATOR,
        "--kommun",
        "2080",
        "utlamna",
        case.code,
        "--organisation",
        "Polisen",
    )


def test_raw_database_holds_no_name_or_personnummer(sspf: Cli) -> None:
    """Every byte of the SQLite file, or every row of every PostgreSQL table, is free of the seeded data."""
    case = seed_case(sspf)
    ok(sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code)
    ok(
        sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "mote", "registrera", case.code,
        "--datum", "2026-01-10", "--beslut", "Wilma börjar på fritidsgården",
    )  # fmt: skip
    text = dump(sspf.url)
    url = make_url(sspf.url)
    if url.get_backend_name() == "sqlite":
        raw = b"".join(
            path.read_bytes()
            for path in Path(url.database or "").parent.glob(Path(url.database or "").name + "*")
        )
        text += raw.decode("utf-8", errors="replace")
    assert "SSPF-" in text  # the dump did read the case
    for secret in [*secrets_of(case), "Wilma", "fritidsgården"]:
        assert secret not in text, secret


def test_audit_log_refuses_update_and_delete(sspf: Cli) -> None:
    """The database itself refuses to change or remove an audit entry, on SQLite and PostgreSQL."""
    seed_case(sspf)
    engine = sa.create_engine(sspf.url)
    for statement in ("UPDATE sspf_audit_entry SET actor = 'x'", "DELETE FROM sspf_audit_entry"):
        with pytest.raises(sa.exc.DBAPIError, match="kan inte ändras"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    engine.dispose()
    assert len(audit_rows(sspf.url)) > 3


def test_a_read_is_refused_when_the_audit_write_fails(sspf: Cli) -> None:
    """With the audit insert failing in the database, `arende visa` prints nothing and exits 1."""
    case = seed_case(sspf)
    engine = sa.create_engine(sspf.url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                sa.text(
                    "CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            connection.execute(
                sa.text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON sspf_audit_entry "
                    "FOR EACH ROW EXECUTE FUNCTION fail_audit()"
                )
            )
        else:
            connection.execute(
                sa.text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON sspf_audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
    engine.dispose()
    before = len(audit_rows(sspf.url))
    code, out, err = as_user(sspf, COORDINATOR, "arende", "visa", case.code)
    assert code == 1
    assert out == ""
    assert "granskningsloggen kunde inte skrivas" in err
    assert case.name not in err
    # A write is refused the same way: nothing changes.
    code, _, _ = as_user(sspf, COORDINATOR, "faktor", "bedom", case.code, "--faktor", "RU7", "--niva", "2")
    assert code == 1
    assert len(audit_rows(sspf.url)) == before


def test_tampering_breaks_the_chain(sspf: Cli) -> None:
    """An entry altered behind the triggers' back shows as a break in `logg`, which exits 3."""
    case = seed_case(sspf)
    ok(sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code)
    month = date.today().replace(day=1).isoformat()  # noqa: DTZ011 - relative to the CLI's today
    out = ok(
        sspf,
        "sspf",
        "--anvandare",
        ADMIN,
        "--kommun",
        "2080",
        "logg",
        "--fran",
        month,
        "--till",
        "2099-12-31",
    )
    assert "obruten" in out
    engine = sa.create_engine(sspf.url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE sspf_audit_entry DISABLE TRIGGER USER"))
        else:
            connection.execute(sa.text("DROP TRIGGER sspf_audit_no_update"))
        connection.execute(sa.text("UPDATE sspf_audit_entry SET actor = 'ingen' WHERE sequence = 3"))
    engine.dispose()
    code, out, _ = as_user(sspf, ADMIN, "logg", "--fran", month, "--till", "2099-12-31")
    assert code == 3
    assert "BRUTEN vid post 3" in out


def test_key_rotation(sspf: Cli, monkeypatch: pytest.MonkeyPatch, keys: str) -> None:  # noqa: F811 - fixture
    """After `nyckel rotera` under a new key the old one can go; with only the old key nothing opens."""
    case = seed_case(sspf)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("SAMORDNA_SSPF_KEYS", f"{new},{keys}")
    out = ok(sspf, "sspf", "--anvandare", ADMIN, "--kommun", "2080", "nyckel", "rotera")
    assert "omkrypterade" in out
    monkeypatch.setenv("SAMORDNA_SSPF_KEYS", new)
    assert case.name in ok(
        sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code
    )
    monkeypatch.setenv("SAMORDNA_SSPF_KEYS", keys)
    code, out, err = as_user(sspf, COORDINATOR, "arende", "visa", case.code)
    assert (code, out) == (1, "")
    assert "kan inte öppnas" in err
    monkeypatch.delenv("SAMORDNA_SSPF_KEYS")
    code, _, err = as_user(sspf, COORDINATOR, "arende", "visa", case.code)
    assert code == 1
    assert "SAMORDNA_SSPF_KEYS" in err


def test_factors_show_change_over_time(sspf: Cli) -> None:
    """A factor assessed at two dates shows both levels side by side; an unknown code is refused."""
    case = seed_case(sspf)
    for day, level in (("2026-01-10", "3"), ("2026-03-10", "1")):
        ok(
            sspf, "sspf", "--anvandare", POLICE, "--kommun", "2080", "faktor", "bedom", case.code,
            "--faktor", "RU7", "--niva", level, "--datum", day,
        )  # fmt: skip
    out = ok(sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "faktor", "lista", case.code)
    assert "2026-01-10 2026-03-10" in out
    assert "RU7" in out
    assert "3          1" in out
    code, _, err = as_user(sspf, COORDINATOR, "faktor", "bedom", case.code, "--faktor", "XX9", "--niva", "1")
    assert code == 1
    assert "finns inte i katalogen" in err


def test_action_reminder_carries_only_code_and_action(sspf: Cli) -> None:
    """An action becomes a task; the daily sweep's digest to its owner names the case code and the action
    and nothing else about the youth; a text with the youth's name is refused."""
    case = seed_case(sspf)
    code, _, err = as_user(
        sspf, COORDINATOR, "atgard", "skapa", case.code, "--aktor", "polis", "--agare", POLICE,
        "--text", "Samtal med Wilma", "--senast", "2026-03-10",
    )  # fmt: skip
    assert code == 1
    assert "den ungas namn" in err
    ok(
        sspf, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "atgard", "skapa", case.code,
        "--aktor", "polis", "--agare", POLICE, "--text", "Orosamtal med familjen", "--senast", "2026-03-10",
    )  # fmt: skip
    engine = sa.create_engine(sspf.url)
    with Session(engine) as session, session.begin():
        task = session.exec(select(Task).where(Task.kind == TaskKind.SSPF_ACTION)).one()
        assert task.subject == f"{case.code}: Orosamtal med familjen"
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        day = add_working_days(task.due_date, -3)
        run_daily_sweep(session, municipality, day)
        enqueue_messages(session, municipality, day)
        texts = [m.subject + m.body_text + m.body_html for m in session.exec(select(OutboxMessage))]
    engine.dispose()
    digest = next(text for text in texts if case.code in text)
    assert "Orosamtal med familjen" in digest
    for secret in secrets_of(case):
        assert secret not in digest
