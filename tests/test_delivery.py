"""Delivery of the outbox through apprise to real peers on loopback (aiosmtpd, an HTTP receiver).

Every test runs on SQLite and PostgreSQL. Time is simulated: ``deliver_due`` takes ``now``.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import random
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.settings import Settings, get_settings
from flows.delivery import delivery_flow
from models.db import make_engine, transaction
from models.directory import Person
from models.escalation import Escalation, EscalationReason
from models.municipality import Municipality
from models.outbox import (
    ChannelState,
    DeliveryAttempt,
    DeliveryChannel,
    MessageKind,
    MessageState,
    OutboxMessage,
)
from models.task import Reminder, ReminderKind, Task, TaskKind, TaskState
from notifications.channels import mail_target, notify_target, send
from notifications.delivery import LEASE, deliver_due
from tests.smtp import SmtpServer, WebhookReceiver, free_port

START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
FROM = "samordna@example.se"


def settings_for(mail_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "mail_url": mail_url,
        "fallback_url": "",
        "max_attempts": 5,
        "retry_base_seconds": 300,
        "messages_per_hour": 10,
    }
    values |= overrides
    return Settings(**values)  # type: ignore[arg-type]


def mail_url(server: SmtpServer) -> str:
    return f"mailto://127.0.0.1:{server.port}?from={FROM}"


def setup_people(
    engine: sa.Engine, count: int = 1, *, targets: list[str] | None = None
) -> tuple[int, list[int]]:
    """A kommun with ``count`` persons (anna0@…) and a BRÅ-samordnare; (kommun id, person ids)."""
    with transaction(engine) as session:
        municipality = Municipality(name="Falun", code="2080")
        session.add(municipality)
        session.flush()
        kommun = municipality.id or 0
        people = [
            Person(
                municipality_id=kommun,
                name=f"Anna Åberg {index}",
                email=f"anna{index}@example.se",
                notify_targets=targets or [],
            )
            for index in range(count)
        ]
        coordinator = Person(
            municipality_id=kommun, name="Sara Samordnare", email="sara@example.se", roles=["bra_samordnare"]
        )
        session.add_all([*people, coordinator])
        session.flush()
        return kommun, [person.id or 0 for person in people]


def add_message(
    session: Session, kommun: int, person: int | None, subject: str, *, at: datetime = START
) -> int:
    message = OutboxMessage(
        municipality_id=kommun,
        dedupe_key=f"test:{subject}",
        kind=MessageKind.DIGEST,
        recipient_person_id=person,
        subject=subject,
        body_text=f"Hej!\n\nDu har en uppgift: {subject}. Åtgärda före fredag.\n",
        body_html=f"<p>Hej!</p><p>Du har en uppgift: <b>{subject}</b>. Åtgärda före fredag.</p>",
        created_at=at,
        next_attempt_at=at,
    )
    session.add(message)
    session.flush()
    return message.id or 0


def messages(engine: sa.Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def attempts(engine: sa.Engine) -> list[DeliveryAttempt]:
    with Session(engine) as session:
        return list(session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.id))))


def test_mail_reaches_the_smtp_server_once_and_parses(engine: sa.Engine) -> None:
    """A message arrives once with From/To/Subject, å/ä/ö intact, HTML and text parts; it is SENT."""
    kommun, (anna,) = setup_people(engine)
    with transaction(engine) as session:
        message_id = add_message(session, kommun, anna, "Rapportera status för åtgärd 3 – Öppen förskola")
    with SmtpServer() as server:
        settings = settings_for(mail_url(server))
        report = deliver_due(engine, START, settings)
        again = deliver_due(engine, START + timedelta(hours=1), settings)
        received = server.received()
    assert (report.sent, again.sent, again.claimed) == (1, 0, 0)
    assert len(received) == 1
    mail = received[0]
    assert mail["From"] == FROM
    assert mail["To"] == "anna0@example.se"
    assert mail["Subject"] == "Rapportera status för åtgärd 3 – Öppen förskola"
    assert mail.get_content_type() == "multipart/alternative"
    html_part, text_part = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html_part is not None
    assert text_part is not None
    assert "<b>Rapportera status för åtgärd 3 – Öppen förskola</b>" in html_part.get_content()
    assert "Åtgärda före fredag." in text_part.get_content()
    assert "<b>" not in text_part.get_content()
    (stored,) = messages(engine)
    assert (stored.id, stored.state, stored.attempts, stored.sent_at) == (
        message_id,
        MessageState.SENT,
        1,
        START,
    )
    (attempt,) = attempts(engine)
    assert (attempt.message_id, attempt.attempt, attempt.ok, attempt.detail) == (
        message_id,
        1,
        True,
        "levererat",
    )
    assert attempt.target == "mailto://127.0.0.1/anna0@example.se"


def _task_with_reminder(session: Session, kommun: int, person: int, message_id: int, name: str) -> Task:
    task = Task(
        municipality_id=kommun,
        idempotency_key=f"test:{name}",
        kind=TaskKind.STATUS_REPORT,
        subject=name,
        due_date=START.date(),
        assignee_person_id=person,
    )
    session.add(task)
    session.flush()
    session.add(
        Reminder(
            municipality_id=kommun,
            task_id=task.id or 0,
            recipient_person_id=person,
            kind=ReminderKind.DUE_DAY,
            subject=name,
            remind_on=START.date(),
            dedupe_key=f"påminnelse:{name}",
            outbox_message_id=message_id,
        )
    )
    return task


def test_settled_digests_and_escalations_are_not_sent(engine: sa.Engine) -> None:
    """A digest whose tasks were all answered, or an escalation already resolved, is not sent before
    its turn comes; a digest with one item still open is sent whole."""
    kommun, (anna, bo) = setup_people(engine, 2)
    with transaction(engine) as session:
        answered = add_message(session, kommun, anna, "Sammandrag Anna")
        half_open = add_message(session, kommun, bo, "Sammandrag Bo")
        escalation_message = add_message(session, kommun, bo, "ESKALERING åtgärd 7")
        session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id) == escalation_message)
            .values(kind="eskalering")
        )
        done = _task_with_reminder(session, kommun, anna, answered, "åtgärd 1")
        done.state = TaskState.DONE
        _task_with_reminder(session, kommun, bo, half_open, "åtgärd 2").state = TaskState.DONE
        _task_with_reminder(session, kommun, bo, half_open, "åtgärd 3")
        session.add(
            Escalation(
                municipality_id=kommun,
                level=1,
                reason=EscalationReason.TASK_OVERDUE,
                subject="åtgärd 7",
                cause_since=START.date(),
                opened_on=START.date(),
                resolved_on=START.date(),
                dedupe_key="eskalering:7",
                outbox_message_id=escalation_message,
            )
        )
    with SmtpServer() as server:
        report = deliver_due(engine, START, settings_for(mail_url(server)))
        received = server.received()
    assert [mail["Subject"] for mail in received] == ["Sammandrag Bo"]
    assert (report.sent, report.obsolete) == (1, 2)
    states = {message.id: message.state for message in messages(engine)}
    assert states == {
        answered: MessageState.OBSOLETE,
        half_open: MessageState.SENT,
        escalation_message: MessageState.OBSOLETE,
    }
    assert attempts(engine)[0].message_id == half_open
    assert len(attempts(engine)) == 1


def test_json_webhook_target_receives_the_json_body(engine: sa.Engine) -> None:
    """A json:// target gets a POST whose JSON carries the subject and the plain-text body."""
    with WebhookReceiver() as receiver:
        kommun, (anna,) = setup_people(engine, targets=[f"json://127.0.0.1:{receiver.port}/hook"])
        with transaction(engine) as session:
            add_message(session, kommun, anna, "Påminnelse: lägesbild")
        report = deliver_due(engine, START, settings_for(""))
    assert report.sent == 1
    (body,) = receiver.bodies
    assert body["title"] == "Påminnelse: lägesbild"
    # apprise trims the body's trailing newline.
    assert body["message"] == "Hej!\n\nDu har en uppgift: Påminnelse: lägesbild. Åtgärda före fredag."
    assert receiver.paths == ["/hook"]
    (attempt,) = attempts(engine)
    assert (attempt.target, attempt.ok) == (f"json://127.0.0.1:{receiver.port}/hook", True)


def test_three_days_of_smtp_downtime_lose_nothing_and_duplicate_nothing(engine: sa.Engine) -> None:
    """SMTP down for 72 simulated hours: the mail server is paused and probed with backoff, no message
    spends an attempt or fails (even with max_attempts=5), and after recovery each message arrives once."""
    kommun, people = setup_people(engine, 3)
    with transaction(engine) as session:
        for index, person in enumerate(people):
            add_message(session, kommun, person, f"Uppgift {index} för åtgärd")
    server = SmtpServer()  # down: nothing listens on its port yet
    settings = settings_for(
        mail_url(server), max_attempts=5, retry_base_seconds=300, channel_retry_max_seconds=4 * 3600
    )
    now = START
    probed: list[datetime] = []
    for _ in range(72):
        if deliver_due(engine, now, settings).probes:
            probed.append(now)
        now += timedelta(hours=1)
    down = messages(engine)
    assert {(message.state, message.rejections) for message in down} == {(MessageState.PENDING, 0)}
    # One send found the server down (the first message's); after that the channel was only probed.
    assert [(attempt.ok, attempt.detail) for attempt in attempts(engine)] == [
        (False, "kanalen kunde inte nås: ingen anslutning")
    ]
    # Probed with backoff: every hourly pass while the pause is under an hour, then ever further
    # apart up to the four-hour cap.
    gaps = [later - earlier for earlier, later in itertools.pairwise(probed)]
    assert gaps == sorted(gaps)
    assert (gaps[0], gaps[-1]) == (timedelta(hours=1), timedelta(hours=4))
    assert len(probed) < 25
    with Session(engine) as session:
        (channel,) = session.exec(select(DeliveryChannel)).all()
    assert (channel.key, channel.state, channel.down_since) == (
        f"e-post mailto://127.0.0.1:{server.port}",
        ChannelState.PAUSED,
        START,
    )
    server.start()
    try:
        for _ in range(72):
            deliver_due(engine, now, settings)
            now += timedelta(hours=1)
        subjects = server.subjects()
    finally:
        server.stop()
    # Without a fallback URL the coordinator's notices waited for the mail server too (never failed).
    server_name = f"E-postservern mailto://127.0.0.1:{server.port}"
    assert subjects == Counter(
        {f"Uppgift {index} för åtgärd": 1 for index in range(3)}
        | {f"Driftstörning: {server_name} kan inte nås": 1, f"{server_name} fungerar igen": 1}
    )
    assert {message.state for message in messages(engine)} == {MessageState.SENT}


def test_refusals_count_and_the_notice_says_how_many(engine: sa.Engine) -> None:
    """A mailbox the (reachable) server refuses: each refusal counts, after max_attempts=3 the message is
    FAILED, and the coordinator's notice says "efter 3 försök" and arrives (by e-mail: the server is up)."""
    kommun, (anna,) = setup_people(engine)
    with transaction(engine) as session:
        message_id = add_message(session, kommun, anna, "Uppgift som inte når fram")
    with SmtpServer(refuse=frozenset({"anna0@example.se"})) as server:
        settings = settings_for(mail_url(server), max_attempts=3, retry_base_seconds=60)
        now = START
        for _ in range(8):
            deliver_due(engine, now, settings)
            now += timedelta(hours=1)
        received = server.received()
    original, *fallbacks = messages(engine)
    assert (original.state, original.attempts, original.rejections) == (MessageState.FAILED, 3, 3)
    assert original.last_error == (
        "mailto://127.0.0.1/anna0@example.se: mottagaren tog inte emot meddelandet (e-postservern nekade det)"
    )
    (fallback,) = fallbacks
    assert (fallback.kind, fallback.dedupe_key, fallback.recipient_person_id, fallback.state) == (
        MessageKind.FALLBACK,
        f"misslyckat:{message_id}",
        None,
        MessageState.SENT,
    )
    assert fallback.subject == f"Meddelande #{message_id} kunde inte levereras: Uppgift som inte når fram"
    assert "nekade det efter 3 försök" in fallback.body_text
    assert "Anna Åberg 0 <anna0@example.se>" in fallback.body_text
    assert [str(mail["To"]) for mail in received] == ["sara@example.se"]


def test_fallback_goes_through_the_fallback_url(engine: sa.Engine) -> None:
    """A recipient without any address fails at once, and the fallback reaches settings.fallback_url."""
    kommun, (anna,) = setup_people(engine)
    with transaction(engine) as session:
        person = session.get(Person, anna)
        assert person is not None
        person.email = ""
        message_id = add_message(session, kommun, anna, "Uppgift utan adress")
    with WebhookReceiver() as receiver:
        settings = settings_for("", fallback_url=f"json://127.0.0.1:{receiver.port}/reserv")
        report = deliver_due(engine, START, settings)
        deliver_due(engine, START + timedelta(minutes=1), settings)
    original, fallback = messages(engine)
    assert (original.state, original.attempts) == (MessageState.FAILED, 1)
    assert original.last_error == (
        "(ingen adress): konfigurationsfel: mottagaren har ingen e-postadress eller annan kanal"
    )
    assert (report.failed, report.fallbacks) == (1, 1)
    assert (fallback.dedupe_key, fallback.state) == (f"misslyckat:{message_id}", MessageState.SENT)
    assert [body["title"] for body in receiver.bodies] == [fallback.subject]
    assert "mottagaren har ingen adress att skicka till" in receiver.bodies[0]["message"]


def test_without_a_mail_server_messages_wait_warn_once_and_fail_none(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """No SAMORDNA_MAIL_URL: 60 queued messages to e-mail-only persons stay PENDING over a day of
    passes, none FAILED, one warning, one notice per kommun by the fallback URL; once a mail server is
    configured every one arrives once."""
    kommun, people = setup_people(engine, 12)
    with transaction(engine) as session:
        for index in range(60):
            add_message(session, kommun, people[index % 12], f"Meddelande {index:03}")
    caplog.set_level(logging.WARNING, logger="notifications.delivery")
    with WebhookReceiver() as receiver:
        settings = settings_for(
            "", fallback_url=f"json://127.0.0.1:{receiver.port}/reserv", messages_per_hour=100
        )
        now = START
        for _ in range(48):
            report = deliver_due(engine, now, settings)
            assert report.failed == 0
            now += timedelta(minutes=30)
        held = messages(engine)
        notices = list(receiver.bodies)
    warnings = [
        record for record in caplog.records if "SAMORDNA_MAIL_URL är inte satt" in record.getMessage()
    ]
    assert len(warnings) == 1
    assert Counter(message.state for message in held if message.kind != MessageKind.FALLBACK) == Counter(
        {MessageState.PENDING: 60}
    )
    assert [body["title"] for body in notices] == ["E-post är inte konfigurerad: meddelanden väntar"]
    assert "60 meddelanden till personer som bara nås med e-post väntar" in notices[0]["message"]
    with SmtpServer() as server:
        configured = settings_for(mail_url(server), messages_per_hour=100)
        for _ in range(3):
            deliver_due(engine, now, configured)
            now += timedelta(minutes=5)
        subjects = server.subjects()
    assert subjects == Counter({f"Meddelande {index:03}": 1 for index in range(60)})


def test_storm_guard_sends_ten_now_and_five_in_the_next_hour(engine: sa.Engine) -> None:
    """15 messages to one person, 10 per hour: 10 now, 5 postponed to the next hour, all 15 in the end."""
    kommun, (anna,) = setup_people(engine)
    with transaction(engine) as session:
        for index in range(15):
            add_message(session, kommun, anna, f"Uppgift {index:02}", at=START + timedelta(seconds=index))
    now = START + timedelta(minutes=1)
    with SmtpServer() as server:
        settings = settings_for(mail_url(server), messages_per_hour=10)
        first = deliver_due(engine, now, settings)
        waiting = messages(engine)
        halfway = deliver_due(engine, now + timedelta(minutes=30), settings)
        later = deliver_due(engine, now + timedelta(hours=1), settings)
        subjects = server.subjects()
    assert (first.sent, first.postponed) == (10, 5)
    assert [message.state for message in waiting] == [MessageState.SENT] * 10 + [MessageState.PENDING] * 5
    assert {message.next_attempt_at for message in waiting[10:]} == {now + timedelta(hours=1)}
    assert {message.attempts for message in waiting[10:]} == {0}
    assert (halfway.claimed, halfway.sent) == (0, 0)
    assert later.sent == 5
    assert subjects == Counter({f"Uppgift {index:02}": 1 for index in range(15)})


def test_expired_lease_makes_an_armed_message_unknown_and_releases_an_unarmed_one(engine: sa.Engine) -> None:
    """SENDING past its lease: armed → UNKNOWN, not sent, listed in one fallback; never armed → sent."""
    kommun, (anna, bertil) = setup_people(engine, 2)
    with transaction(engine) as session:
        armed = add_message(session, kommun, anna, "Armerat meddelande")
        unarmed = add_message(session, kommun, bertil, "Aldrig armerat meddelande")
        for message_id, tries in ((armed, 1), (unarmed, 0)):
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.state, message.attempts = MessageState.SENDING, tries
            message.leased_until = START - timedelta(minutes=1)
    with SmtpServer() as server:
        report = deliver_due(engine, START, settings_for(mail_url(server)))
        again = deliver_due(engine, START + timedelta(hours=2), settings_for(mail_url(server)))
        subjects = server.subjects()
    by_id = {message.id: message for message in messages(engine)}
    assert by_id[armed].state == MessageState.UNKNOWN
    assert by_id[unarmed].state == MessageState.SENT
    fallbacks = [message for message in by_id.values() if message.kind == MessageKind.FALLBACK]
    assert len(fallbacks) == 1
    assert fallbacks[0].dedupe_key == f"okänt:{armed}"
    assert f"#{armed} till Anna Åberg 0 <anna0@example.se>: Armerat meddelande" in fallbacks[0].body_text
    assert "Aldrig armerat" not in fallbacks[0].body_text
    assert (report.unknown, report.released, report.fallbacks, again.unknown) == (1, 1, 1, 0)
    assert subjects == Counter(
        {"Aldrig armerat meddelande": 1, f"Kontrollera om 1 meddelande kom fram (okänt:{armed})": 1}
    )


def test_credentials_never_reach_the_database_or_the_logs(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mail password and a webhook token appear in no DeliveryAttempt, last_error or log record."""
    token = "tok-7f3a9c41e2"  # noqa: S105 - a fake secret whose leaks the test looks for
    monkeypatch.setenv("SAMORDNA_TEST_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    dead = free_port()
    with WebhookReceiver() as receiver, SmtpServer(credentials=("user", "hemligt")) as server:
        kommun, (anna,) = setup_people(
            engine,
            targets=[
                f"json://127.0.0.1:{receiver.port}/?token={{env:SAMORDNA_TEST_TOKEN}}",
                f"json://127.0.0.1:{dead}/?token={{env:SAMORDNA_TEST_TOKEN}}",
            ],
        )
        with transaction(engine) as session:
            add_message(session, kommun, anna, "Hemlig test")
        deliver_due(engine, START, settings_for(f"mailto://user:hemligt@127.0.0.1:{server.port}?from={FROM}"))
        received = server.received()
    assert len(received) == 1
    assert len(receiver.bodies) == 1
    (message,) = messages(engine)
    assert message.state == MessageState.PENDING
    assert message.last_error == f"json://127.0.0.1:{dead}/: kanalen kunde inte nås: ingen anslutning"
    stored = [message.last_error] + [f"{attempt.target} {attempt.detail}" for attempt in attempts(engine)]
    assert len(stored) == 4
    for secret in ("hemligt", token):
        assert all(secret not in text for text in stored)
        assert secret not in caplog.text
    assert "apprise" in caplog.text  # the logs were captured at all


def test_channels_report_configuration_errors_in_swedish(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset secret and an unknown scheme fail as configuration errors, without calling a server."""
    monkeypatch.delenv("SAMORDNA_SAKNAS", raising=False)
    missing = notify_target("json://127.0.0.1:9/?token={env:SAMORDNA_SAKNAS}")
    assert (
        send(missing, "Ämne", "text", "").detail
        == "konfigurationsfel: miljövariabeln SAMORDNA_SAKNAS är inte satt"
    )
    unknown = notify_target("finnsinte://värd/x")
    assert unknown.error == "konfigurationsfel: apprise kan inte tolka adressen (finnsinte://…)"
    assert not send(unknown, "Ämne", "text", "").ok
    mail = mail_target(
        "mailtos://u:{env:SAMORDNA_SAKNAS}@smtp.kommun.se?from=a@kommun.se&cto=5", "b@kommun.se"
    )
    assert mail.label == "mailtos://smtp.kommun.se/b@kommun.se"
    assert mail.url.endswith("?from=a@kommun.se&cto=5&to=b@kommun.se&rto=3")
    assert "SAMORDNA_SAKNAS" in mail.error


def test_delivery_flow_runs_one_pass(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Prefect flow's function reads the settings and runs one pass (called without a Prefect server)."""
    engine = make_engine(sqlite_url)
    kommun, (anna,) = setup_people(engine)
    with transaction(engine) as session:
        add_message(session, kommun, anna, "Via flödet")
    with SmtpServer() as server:
        monkeypatch.setenv("SAMORDNA_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("SAMORDNA_MAIL_URL", mail_url(server))
        get_settings.cache_clear()
        try:
            result = delivery_flow.fn(now=START.isoformat())
        finally:
            get_settings.cache_clear()
        assert server.subjects() == Counter({"Via flödet": 1})
    engine.dispose()
    assert (result["claimed"], result["sent"]) == (1, 1)


# Kills --------------------------------------------------------------------------------------------------

KILLS = 50
BATCH = 30


def _child(url: str, now: datetime, settings: Settings) -> None:
    engine = make_engine(url)
    deliver_due(engine, now, settings)
    os._exit(0)


def _open_count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM outbox_message WHERE state IN (:pending, :sending)"),
                {"pending": MessageState.PENDING.value, "sending": MessageState.SENDING.value},
            ).scalar_one()
        )


def _tally(rows: list[OutboxMessage], subjects: Counter[str]) -> tuple[int, int, int, int]:
    """(delivered, unknown, duplicates, lost): SENT and received once; UNKNOWN; extra copies; the rest."""
    delivered = sum(
        1 for message in rows if message.state == MessageState.SENT and subjects[message.subject] == 1
    )
    unknown = sum(1 for message in rows if message.state == MessageState.UNKNOWN)
    duplicates = sum(count - 1 for count in subjects.values() if count > 1)
    lost = sum(
        1
        for message in rows
        if message.state not in {MessageState.SENT, MessageState.UNKNOWN}
        or (message.state == MessageState.SENT and subjects[message.subject] != 1)
    )
    return delivered, unknown, duplicates, lost


def _run_child(url: str, now: datetime, settings: Settings, kill_after: float | None) -> tuple[bool, float]:
    """Fork a child that runs one pass; SIGKILL it after ``kill_after`` s. (killed, seconds it ran)."""
    child = multiprocessing.get_context("fork").Process(target=_child, args=(url, now, settings))
    started = time.perf_counter()
    child.start()
    killed = False
    if kill_after is not None:
        time.sleep(kill_after)
        if child.is_alive():
            os.kill(child.pid or 0, signal.SIGKILL)
            killed = True
    child.join()
    assert killed or child.exitcode == 0
    return killed, time.perf_counter() - started


@pytest.mark.slow
def test_random_kills_send_no_duplicate_and_lose_nothing(database_url: str) -> None:
    """50 SIGKILLs during delivery to a real SMTP server: 0 duplicates, 0 lost (each SENT once or UNKNOWN)."""
    engine = make_engine(database_url)
    kommun, people = setup_people(engine, 5)
    batches = 0

    def add_batch() -> None:
        nonlocal batches
        with transaction(engine) as session:
            for index in range(BATCH):
                add_message(session, kommun, people[index % 5], f"Omgång {batches} meddelande {index} – åäö")
        batches += 1

    rng = random.Random(4)  # noqa: S311 - reproducible kill points, not security
    step = LEASE + timedelta(minutes=1)  # every attempt finds the previous attempt's leases expired
    now = START
    with SmtpServer() as server:
        settings = settings_for(
            mail_url(server), messages_per_hour=10_000, max_attempts=20, retry_base_seconds=60
        )
        add_batch()
        engine.dispose()  # no pooled connection crosses a fork
        _, full_run = _run_child(
            database_url, now, settings, None
        )  # calibration: a whole batch, uninterrupted
        kills = finished = 0
        while kills < KILLS and kills + finished < 4 * KILLS:
            open_messages = _open_count(engine)
            if open_messages == 0:
                add_batch()
                open_messages = BATCH
            now += step
            engine.dispose()
            window = full_run * min(1.0, open_messages / BATCH)  # the time the child has work for
            killed, _ = _run_child(database_url, now, settings, rng.uniform(0, window))
            kills += killed
            finished += not killed
        for _ in range(5):  # after the last kill: expire the leases and run to completion
            now += step
            deliver_due(engine, now, settings)
        subjects = server.subjects()
    rows = messages(engine)
    engine.dispose()
    delivered, unknown, duplicates, lost = _tally(rows, subjects)
    print(  # noqa: T201 - the figures the issue asks the suite to print
        f"\nkills={kills} finished_before_kill={finished} batches={batches} messages={len(rows)} "
        f"delivered={delivered} unknown={unknown} duplicates={duplicates} lost={lost} "
        f"full_run={full_run:.2f}s"
    )
    assert kills == KILLS
    assert duplicates == 0
    assert lost == 0
    assert delivered + unknown == len(rows)
    assert set(subjects) <= {message.subject for message in rows}


def test_failed_messages_are_queued_again_when_their_channel_recovers(engine: sa.Engine) -> None:
    """A message FAILED by refusals within the window is queued again once, by itself, when its mail
    server comes back after an outage, and then arrives; one outside the window stays FAILED."""
    kommun, (anna, bo) = setup_people(engine, 2)
    with transaction(engine) as session:
        recent = add_message(session, kommun, anna, "Nyligen misslyckat")
        old = add_message(session, kommun, anna, "Misslyckat för länge sedan", at=START - timedelta(days=10))
    server = SmtpServer(refuse=frozenset({"anna0@example.se"}))
    settings = settings_for(mail_url(server), max_attempts=1, requeue_window_hours=72)
    with server:
        deliver_due(engine, START - timedelta(days=10), settings)  # the old one fails, ten days ago
        deliver_due(engine, START, settings)  # the recent one fails now
    assert [message.state for message in messages(engine)[:2]] == [MessageState.FAILED] * 2
    with transaction(engine) as session:
        add_message(session, kommun, bo, "Under avbrottet", at=START + timedelta(hours=1))
    deliver_due(engine, START + timedelta(hours=1), settings)  # server down: the channel pauses
    recovered = SmtpServer(port=server.port)  # back, and now it knows Anna's mailbox
    with recovered:
        report = deliver_due(engine, START + timedelta(hours=2), settings)
        deliver_due(engine, START + timedelta(hours=3), settings)
        subjects = recovered.subjects()
    states = {message.id: (message.state, message.requeues) for message in messages(engine)}
    assert (report.recovered, report.requeued) == (1, 1)
    assert states[recent] == (MessageState.SENT, 1)
    assert states[old] == (MessageState.FAILED, 0)
    assert subjects["Nyligen misslyckat"] == 1
    assert subjects["Under avbrottet"] == 1
    assert "Misslyckat för länge sedan" not in subjects


def test_a_webhook_answering_503_is_paused_and_its_next_send_is_the_probe(engine: sa.Engine) -> None:
    """HTTP 503 from a webhook pauses that channel (no attempt counted, max_attempts=1 notwithstanding);
    once the pause is over the next send probes it, and when it answers the message is delivered once."""
    answers = [503, 503]
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(answers.pop(0) if answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        hook = f"json://127.0.0.1:{http.server_address[1]}/hook"
        kommun, (anna,) = setup_people(engine, targets=[hook])
        with transaction(engine) as session:
            add_message(session, kommun, anna, "Via webhook")
        settings = settings_for("", max_attempts=1, channel_retry_base_seconds=600)
        first = deliver_due(engine, START, settings)
        early = deliver_due(engine, START + timedelta(minutes=5), settings)  # paused: not even tried
        second = deliver_due(engine, START + timedelta(minutes=11), settings)  # the probe: 503 again
        third = deliver_due(engine, START + timedelta(minutes=35), settings)  # 20 min pause over: 200
    finally:
        http.shutdown()
        http.server_close()
    (message,) = messages(engine)
    assert (first.waiting + first.retrying, early.claimed, second.retrying, third.sent) == (1, 0, 1, 1)
    assert (message.state, message.rejections) == (MessageState.SENT, 0)
    assert len(bodies) == 3
    details = [attempt.detail for attempt in attempts(engine)]
    assert details == ["kanalen kunde inte nås: servern svarade 503"] * 2 + ["levererat"]
