"""The SSPF cycle: follow-up, consent, 18-year re-consent, retention; Prefect sees no personal data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect.settings import get_current_settings, temporary_settings

from core.settings import get_settings
from models.db import transaction
from services.cycles import run_chunk
from tests.conftest import Cli, import_falun
from tests.sspf_support import (
    COORDINATOR,
    as_user,
    grant_roles,
    import_directory,
    keys,  # noqa: F401 - fixture
    secrets_of,
    seed_case,
    years_ago,
)


def _tasks(engine: sa.Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT idempotency_key, subject, state FROM task ORDER BY id"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _run(cli: Cli, day: date) -> str:
    code, out, err = as_user(cli, COORDINATOR, "kor", "--utan-prefect", "--as-of", day.isoformat())
    assert code == 0, err
    return out


def test_cycle_follow_up_consent_and_retention(cli: Cli, engine: sa.Engine, keys: str) -> None:  # noqa: F811
    """Follow-up and 18-year tasks are created once, with only the code in their subject; a meeting answers
    the follow-up; a closed case is gone after its retention period, with a record that it was."""
    del keys
    import_directory(engine)
    grant_roles(cli)
    today = date.today()  # noqa: DTZ011 - the CLI's today
    case = seed_case(cli, born=years_ago(18, days=-20))  # turns 18 in 20 days
    _run(cli, today)
    _run(cli, today)  # twice: nothing new
    tasks = _tasks(engine)
    reconsent = [t for t in tasks if t[0].startswith("sspf-18:")]
    assert len(reconsent) == 1
    assert reconsent[0][1] == f"{case.code}: nytt samtycke från den unga (18 år)"
    out = _run(cli, today + timedelta(weeks=5))
    assert "uppgift: 1" in out
    follow_ups = [t for t in _tasks(engine) if t[0].startswith("sspf-uppfoljning:")]
    assert [(t[1], t[2]) for t in follow_ups] == [(f"{case.code}: uppföljningsmöte enligt planen", "öppen")]
    code, _, err = as_user(
        cli, COORDINATOR, "mote", "registrera", case.code, "--datum", today.isoformat(), "--beslut", "Plan"
    )
    assert code == 0, err
    assert [t[2] for t in _tasks(engine) if t[0].startswith("sspf-uppfoljning:")] == ["klar"]
    for _, subject, _ in _tasks(engine):
        assert all(secret not in subject for secret in secrets_of(case))
    code, _, err = as_user(cli, COORDINATOR, "arende", "stang", case.code, "--orsak", "mal_uppnatt")
    assert code == 0, err
    _run(cli, today + timedelta(days=300))  # inside the 12 months: kept
    assert as_user(cli, COORDINATOR, "arende", "visa", case.code)[0] == 0
    out = _run(cli, today + timedelta(days=370))
    assert "gallrad: 1" in out
    code, out, err = as_user(cli, COORDINATOR, "arende", "visa", case.code)
    assert (code, out) == (1, "")
    assert "finns inte" in err
    with engine.connect() as connection:
        left = connection.execute(sa.text("SELECT count(*) FROM sspf_case")).scalar_one()
        record = connection.execute(sa.text("SELECT case_code, method FROM sspf_retention_record")).one()
        consents = connection.execute(sa.text("SELECT count(*) FROM sspf_consent")).scalar_one()
    assert (left, consents, tuple(record)) == (0, 0, (case.code, "radera"))
    # The number is never reused.
    code, out, _ = as_user(
        cli, COORDINATOR, "arende", "skapa", "--hanvisare", "Skolan", "--orsak", "brott", "--risk", "låg",
        "--fodelsedatum", years_ago(14).isoformat(),
    )  # fmt: skip
    assert code == 0
    assert case.code not in out


@pytest.mark.slow
def test_prefect_never_sees_personal_data(
    sqlite_cli: Cli,
    sqlite_url: str,
    keys: str,  # noqa: F811 - fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SSPF flow runs under real Prefect (creates tasks, gallrar a case); Prefect's database and logs
    then hold none of the seeded names or personnummer, and the work was done."""
    del keys
    engine = sa.create_engine(sqlite_url)
    import_directory(engine)
    grant_roles(sqlite_cli)
    kept = seed_case(sqlite_cli, born=years_ago(18, days=-10))
    gone = seed_case(sqlite_cli)
    code, _, err = as_user(sqlite_cli, COORDINATOR, "arende", "stang", gone.code, "--orsak", "flyttat")
    assert code == 0, err
    monkeypatch.setenv("SAMORDNA_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        from flows.sspf import sspf_flow  # noqa: PLC0415 - Prefect after the environment is set

        with temporary_settings(updates={"flows.heartbeat_frequency": None}):  # type: ignore[dict-item]
            totals = sspf_flow("2080", (date.today() + timedelta(days=400)).isoformat())  # noqa: DTZ011
    finally:
        get_settings.cache_clear()
    assert totals.get("gallrad") == 1
    assert totals.get("uppgift", 0) >= 1
    home = Path(get_current_settings().home)  # the home Prefect actually uses (its database, its logs)
    files = [path for path in home.rglob("*") if path.is_file()]
    assert any(path.name.startswith("prefect.db") for path in files)
    content = b"".join(path.read_bytes() for path in files).decode("utf-8", errors="replace")
    assert "sspf-cykel" in content  # the flow run is in Prefect's database
    for secret in [*secrets_of(kept), *secrets_of(gone)]:
        assert secret not in content, secret
    with engine.connect() as connection:
        codes = [row[0] for row in connection.execute(sa.text("SELECT code FROM sspf_case"))]
    engine.dispose()
    assert codes == [kept.code]


def test_a_kommun_without_cases_needs_no_keys(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The weekly SSPF run of a kommun with no cases succeeds without any key: it has nothing to open."""
    with transaction(engine) as session:
        import_falun(session)
    monkeypatch.setenv("SAMORDNA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("SAMORDNA_SSPF_KEYS", raising=False)
    monkeypatch.delenv("SAMORDNA_SSPF_KEY_FILE", raising=False)
    get_settings.cache_clear()
    try:
        # What the national flow's chunk task runs for the kommun.
        assert run_chunk(engine, "sspf", ["2080"], date(2026, 11, 30)) == {}
    finally:
        get_settings.cache_clear()
