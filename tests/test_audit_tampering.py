"""The SSPF audit chain resists its database's owner: edits, a cut tail and a dropped trigger show.

The owner of the database can do what the application cannot: switch the append-only triggers off,
edit an entry and compute every later hash again, delete the newest entries, drop a trigger. Each is
done here, on SQLite and PostgreSQL, behind the application's back, and ``samordna sspf logg`` must
report it and exit non-zero. The chain is sealed with an audit key from the environment and anchored
in an append-only file outside the database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import Session, col, select

from models import audit
from models.audit import AuditAction, AuditEntry, AuditRecord, _digest, _record_of
from models.db import transaction
from models.municipality import find_municipality
from tests.conftest import Cli
from tests.sspf_support import (
    ADMIN,
    COORDINATOR,
    as_user,
    grant_roles,
    import_directory,
    keys,  # noqa: F401 - fixture
    ok,
    seed_case,
)

REFUSAL = "granskningsloggen sspf_audit_entry kan inte ändras eller raderas"
SQLITE_TRIGGERS = {
    "sspf_audit_no_update": f"CREATE TRIGGER sspf_audit_no_update BEFORE UPDATE ON sspf_audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    "sspf_audit_no_delete": f"CREATE TRIGGER sspf_audit_no_delete BEFORE DELETE ON sspf_audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
}
TAIL = 20


@pytest.fixture
def sealed(cli: Cli, engine: sa.Engine, keys: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:  # noqa: F811 - the fixture above
    """Falun's SSPF with an audit key and an anchor file, a case, 30 reads of it in the log, and the last
    one made through the CLI (which anchors the chain)."""
    del keys
    monkeypatch.setenv("SAMORDNA_AUDIT_ANCHOR_FILE", str(tmp_path / "granskning" / "ankare.jsonl"))
    import_directory(engine)
    grant_roles(cli)
    case = seed_case(cli)
    with transaction(engine) as session:
        kommun = find_municipality(session, "2080")
        assert kommun is not None
        for _ in range(29):  # as `arende visa` writes them, sealed with the environment's key
            audit.append(
                session,
                AuditRecord(
                    municipality_id=kommun.id or 0,
                    actor_person_id=None,
                    actor=COORDINATOR,
                    action=AuditAction.READ,
                    command="arende visa",
                    purpose="uppföljning",
                    within_assignment=True,
                    case_code=case.code,
                ),
            )
    ok(cli, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code)
    return cli


def logg(cli: Cli) -> tuple[int, str]:
    month = date.today().replace(day=1).isoformat()  # noqa: DTZ011 - relative to the CLI's today
    code, out, err = as_user(cli, ADMIN, "logg", "--fran", month, "--till", "2099-12-31")
    assert err == "" or code != 0, err
    return code, out


def _behind_the_back(engine: sa.Engine, *statements: str | tuple[str, list[dict[str, object]]]) -> None:
    """Run ``statements`` (text, or text with parameter sets) as the database's owner: triggers off,
    the statements, triggers on again."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE sspf_audit_entry DISABLE TRIGGER USER"))
        else:
            for name in SQLITE_TRIGGERS:
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
        for statement in statements:
            if isinstance(statement, tuple):
                connection.execute(sa.text(statement[0]), statement[1])
            else:
                connection.execute(sa.text(statement))
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE sspf_audit_entry ENABLE TRIGGER USER"))
        else:
            for create in SQLITE_TRIGGERS.values():
                connection.execute(sa.text(create))


def _edit_and_recompute(engine: sa.Engine) -> None:
    """Change one read's actor, and compute that entry's and every later entry's hashes again, as
    anyone can: the chain's hash has no secret."""
    with Session(engine) as session:
        entries = list(session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence))))
    target = entries[len(entries) // 2].sequence
    updates = []
    previous = entries[target - 2].entry_hash
    for entry in entries[target - 1 :]:
        record = (
            replace(_record_of(entry), actor="ingen@example.se")
            if entry.sequence == target
            else _record_of(entry)
        )
        entry_hash = _digest(previous, entry.sequence, entry.at, record)
        updates.append(
            {"actor": record.actor, "previous": previous, "hash": entry_hash, "sequence": entry.sequence}
        )
        previous = entry_hash
    _behind_the_back(
        engine,
        (
            (
                "UPDATE sspf_audit_entry SET actor = :actor, previous_hash = :previous, entry_hash = :hash "
                "WHERE sequence = :sequence"
            ),
            updates,
        ),
    )


def _truncate_tail(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        newest = connection.execute(sa.text("SELECT max(sequence) FROM sspf_audit_entry")).scalar_one()
    _behind_the_back(
        engine, ("DELETE FROM sspf_audit_entry WHERE sequence > :last", [{"last": newest - TAIL}])
    )


def _drop_trigger(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP TRIGGER sspf_audit_no_truncate ON sspf_audit_entry"))
        else:
            connection.execute(sa.text("DROP TRIGGER sspf_audit_no_delete"))


TAMPERING = {
    "edit-and-recompute": (_edit_and_recompute, "MAC stämmer inte: posten har ändrats och räknats om"),
    "truncate-tail": (_truncate_tail, "poster har tagits bort"),
    "drop-trigger": (_drop_trigger, "saknas eller är avstängd"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_detected_and_logg_exits_non_zero(sealed: Cli, engine: sa.Engine, kind: str) -> None:
    """Edit + recompute, cut the newest 20 entries, drop a trigger: `sspf logg` finds each (exit 3)."""
    code, out = logg(sealed)
    assert (code, "obruten." in out) == (0, True), out
    tamper, reason = TAMPERING[kind]
    tamper(engine)
    code, out = logg(sealed)
    with sealed.capsys.disabled():
        print(f"\n{engine.dialect.name} {kind}: exit {code}, upptäckt: {reason in out}")  # noqa: T201 - the figure
    assert code == 3, out
    assert "BRUTEN" in out
    assert reason in out
    # And it stays found: the next check (after more entries and anchors) reports it again.
    code, out = logg(sealed)
    assert code == 3


def test_without_the_key_an_edit_with_recomputed_hashes_would_pass(
    cli: Cli,
    engine: sa.Engine,
    keys: str,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hole the key closes: with no audit key the same edit leaves an intact-looking chain, and
    `logg` says that it cannot tell (a warning, not a clean bill)."""
    del keys
    monkeypatch.delenv("SAMORDNA_AUDIT_KEYS")
    import_directory(engine)
    grant_roles(cli)
    case = seed_case(cli)
    for _ in range(5):
        ok(cli, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code)
    _edit_and_recompute(engine)
    code, out = logg(cli)
    assert code == 0
    assert "Varning: ingen nyckel för granskningsloggen (SAMORDNA_AUDIT_KEYS)" in out


def test_upgrade_seals_old_entries_and_stripped_macs_show(
    cli: Cli,
    engine: sa.Engine,
    keys: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries from before the audit key (no MAC) are anchored at `init`; later entries are sealed; the
    chain is intact; stripping the later MACs (so all look old) is a break."""
    del keys
    audit_key = Fernet.generate_key().decode()
    monkeypatch.delenv("SAMORDNA_AUDIT_KEYS")
    import_directory(engine)
    grant_roles(cli)
    case = seed_case(cli)
    monkeypatch.setenv("SAMORDNA_AUDIT_KEYS", audit_key)
    monkeypatch.setenv("SAMORDNA_AUDIT_ANCHOR_FILE", str(tmp_path / "ankare.jsonl"))
    ok(cli, "init")
    for _ in range(3):
        ok(cli, "sspf", "--anvandare", COORDINATOR, "--kommun", "2080", "arende", "visa", case.code)
    code, out = logg(cli)
    assert code == 0, out
    assert "obruten." in out
    _behind_the_back(engine, "UPDATE sspf_audit_entry SET mac = NULL")
    code, out = logg(cli)
    assert code == 3
    assert "MAC har tagits bort" in out
