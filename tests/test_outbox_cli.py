"""``samordna utkorg``: the outbox per person and day, a delivery pass now, and sending a checked
message again; and the configuration warnings of ``samordna init``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import transaction
from models.directory import Person
from models.municipality import Municipality
from models.outbox import DeliveryAttempt, MessageKind, MessageState, OutboxMessage
from tests.conftest import Cli
from tests.smtp import SmtpServer

TODAY = datetime.now(UTC).replace(microsecond=0)


def _outbox(engine: sa.Engine) -> dict[str, int]:
    """Falun with Anna and Bo, and messages of three days in every state that matters; ids by subject."""
    with transaction(engine) as session:
        kommun = Municipality(name="Falun", code="2080")
        session.add(kommun)
        session.flush()
        anna = Person(municipality_id=kommun.id or 0, name="Anna Åberg", email="anna@example.se")
        bo = Person(municipality_id=kommun.id or 0, name="Bo Ek", email="bo@example.se")
        session.add_all([anna, bo])
        session.flush()
        rows = [
            ("Sammandrag 1", anna, MessageState.SENT, 2, 1),
            ("Sammandrag 2", anna, MessageState.FAILED, 1, 3),
            ("Sammandrag 3", bo, MessageState.UNKNOWN, 1, 1),
            ("Sammandrag 4", bo, MessageState.PENDING, 0, 0),
            ("Sammandrag 5", bo, MessageState.SENT, 0, 1),
        ]
        ids = {}
        for subject, person, state, days_ago, attempts in rows:
            message = OutboxMessage(
                municipality_id=kommun.id or 0,
                dedupe_key=f"test:{subject}",
                kind=MessageKind.OTHER,
                recipient_person_id=person.id,
                subject=subject,
                body_text=f"{subject}\n",
                created_at=TODAY - timedelta(days=days_ago),
                state=state,
                attempts=attempts,
                rejections=3 if state == MessageState.FAILED else 0,
                last_error="e-postservern nekade det" if state == MessageState.FAILED else "",
            )
            session.add(message)
            session.flush()
            ids[subject] = message.id or 0
        return ids


def test_list_counts_per_person_and_day_and_names_what_to_check(engine: sa.Engine, cli: Cli) -> None:
    """lista: per person and day the states, the failed and unknown messages with their ids, and the
    missing mail server and fallback channel as warnings."""
    ids = _outbox(engine)
    code, out, err = cli("utkorg", "lista", "--kommun", "2080")
    assert (code, err) == (0, "")
    assert "Varning: SAMORDNA_MAIL_URL är inte satt" in out
    assert "Varning: SAMORDNA_FALLBACK_URL är inte satt" in out
    today = TODAY.astimezone(ZoneInfo("Europe/Stockholm")).date()
    assert f"{today - timedelta(days=1)}  Bo Ek: 1 okänt" in out
    assert f"{today}  Bo Ek: 1 väntar, 1 skickat" in out
    assert "Totalt: 1 väntar, 0 skickas, 2 skickat, 1 misslyckat, 1 okänt, 0 inaktuellt." in out
    assert f"#{ids['Sammandrag 2']} " in out
    assert f"#{ids['Sammandrag 3']} " in out
    code, out, err = cli("utkorg", "lista", "--kommun", "2080", "--format", "json")
    data = json.loads(out)
    assert sorted(problem["id"] for problem in data["att_kontrollera"]) == sorted(
        [ids["Sammandrag 2"], ids["Sammandrag 3"]]
    )
    assert sum(row["skickat"] for row in data["per_dag"]) == 2


def test_resend_queues_failed_and_unknown_and_refuses_the_rest(engine: sa.Engine, cli: Cli) -> None:
    """skicka-om: FAILED and UNKNOWN become PENDING (the unknown attempt recorded, so the crash check
    stays true); a SENT or missing message is a Swedish error with exit 1 and nothing changes."""
    ids = _outbox(engine)
    code, out, err = cli("utkorg", "skicka-om", str(ids["Sammandrag 5"]), "--kommun", "2080")
    assert code == 1
    sent = ids["Sammandrag 5"]
    assert err == (
        f"Fel: Meddelande {sent} är skickat: bara misslyckade meddelanden och meddelanden med okänt "
        "utfall kan skickas om.\n"
    )
    code, out, err = cli("utkorg", "skicka-om", "999", "--kommun", "2080")
    assert (code, err) == (1, "Fel: Meddelande 999 finns inte i utkorgen.\n")
    code, out, err = cli(
        "utkorg", "skicka-om", str(ids["Sammandrag 2"]), str(ids["Sammandrag 3"]), "--kommun", "2080"
    )
    assert (code, err) == (0, "")
    assert f"Meddelande {ids['Sammandrag 2']} köas igen: Sammandrag 2" in out
    assert "samordna utkorg skicka" in out
    with Session(engine) as session:
        states = {
            message.subject: (message.state, message.rejections, message.requeues)
            for message in session.exec(select(OutboxMessage))
        }
        recorded = session.exec(
            select(DeliveryAttempt).where(DeliveryAttempt.message_id == ids["Sammandrag 3"])
        ).all()
    assert states["Sammandrag 2"] == (MessageState.PENDING, 0, 1)
    assert states["Sammandrag 3"] == (MessageState.PENDING, 0, 1)
    assert [(attempt.attempt, attempt.ok) for attempt in recorded] == [(1, False)]


def test_send_runs_a_pass_and_a_requeued_message_arrives_once(
    engine: sa.Engine, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """skicka: one delivery pass now, through the configured mail server; the requeued unknown message
    arrives once and a second pass sends nothing."""
    ids = _outbox(engine)
    with SmtpServer() as server:
        monkeypatch.setenv("SAMORDNA_MAIL_URL", f"mailto://127.0.0.1:{server.port}?from=samordna@example.se")
        assert cli("utkorg", "skicka-om", str(ids["Sammandrag 3"]), "--kommun", "2080")[0] == 0
        code, out, err = cli("utkorg", "skicka")
        again = cli("utkorg", "skicka")
        subjects = server.subjects()
    assert (code, err) == (0, "")
    assert out.startswith("Leverans: 2 skickade")
    assert again[1].startswith("Leverans: 0 skickade")
    assert subjects == {"Sammandrag 3": 1, "Sammandrag 4": 1}


def test_init_warns_and_production_requires_a_fallback(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """init warns about a missing mail server and fallback channel; in production a missing fallback
    channel is an error (exit 1), and with one it is fine."""
    code, _, err = sqlite_cli("init")
    assert code == 0
    assert "Varning: SAMORDNA_MAIL_URL är inte satt" in err
    assert "Varning: SAMORDNA_FALLBACK_URL är inte satt" in err
    monkeypatch.setenv("SAMORDNA_PRODUCTION", "true")
    code, _, err = sqlite_cli("init")
    assert code == 1
    assert "Fel: SAMORDNA_FALLBACK_URL krävs i produktion" in err
    monkeypatch.setenv("SAMORDNA_FALLBACK_URL", "json://127.0.0.1:9/reserv")
    monkeypatch.setenv("SAMORDNA_MAIL_URL", "mailto://127.0.0.1:9?from=a@example.se")
    code, _, err = sqlite_cli("init")
    assert (code, err) == (0, "")
