"""The EST agenda by e-mail: HTML body, DOCX and ICS attached, once; webhooks get it without files."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import docx
import icalendar
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.clock import moment_of
from core.settings import Settings
from cycles.est import est_members
from models.db import transaction
from models.directory import Person
from models.incident import store_incidents
from models.municipality import Municipality
from models.outbox import OutboxAttachment, OutboxMessage
from models.rhythm import rhythm_from_json
from notifications.delivery import deliver_due
from reports.est_agenda import agenda_send_day, send_agendas
from services.demo import generate_incidents
from tests.smtp import SmtpServer, WebhookReceiver

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SUBJECT = "Dagordning EST-möte 10, Falun – 13 maj 2025"
MEMBERS = 7


def _counts(engine: sa.Engine) -> tuple[int, int]:
    """(agenda messages, their attachments) in the outbox."""
    with Session(engine) as session:
        agenda = col(OutboxMessage.dedupe_key).startswith("est-dagordning:")
        messages = session.exec(select(func.count()).select_from(OutboxMessage).where(agenda)).one()
        attachments = session.exec(
            select(func.count())
            .select_from(OutboxAttachment)
            .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxAttachment.message_id))
            .where(agenda)
        ).one()
    return int(messages), int(attachments)


def _send(engine: sa.Engine, kommun: int, day: date) -> int:
    with transaction(engine) as session:
        municipality = session.get(Municipality, kommun)
        assert municipality is not None
        return len(send_agendas(session, municipality, day))


def _attachments(message: EmailMessage) -> dict[str, EmailMessage]:
    """The files to download: parts with Content-Disposition attachment, by file name."""
    return {
        str(part.get_filename()): part
        for part in message.walk()
        if isinstance(part, EmailMessage) and part.get_content_disposition() == "attachment"
    }


def _inline_images(message: EmailMessage) -> dict[str, EmailMessage]:
    """The images shown in the HTML: inline parts by Content-ID (without the angle brackets)."""
    return {
        str(part["Content-ID"]).strip("<>"): part
        for part in message.walk()
        if isinstance(part, EmailMessage)
        and part["Content-ID"]
        and part.get_content_disposition() == "inline"
    }


def _assert_charts_inline(mail: EmailMessage, html: str) -> None:
    """multipart/related, each chart a PNG part whose Content-ID the HTML names as cid:."""
    assert mail.get_content_type() == "multipart/related"
    images = _inline_images(mail)
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(images) == {"EST-10-kategorier.png", "EST-10-omraden.png", "EST-10-tider.png"}
    assert all(part.get_content_type() == "image/png" for part in images.values())
    assert all(part.get_content()[:4] == b"\x89PNG" for part in images.values())


def test_agenda_mail_carries_docx_and_invitation_once(engine: sa.Engine, falun: int) -> None:
    """Each EST member gets one mail with the agenda as HTML, a DOCX and a text/calendar invitation at
    09:00 Stockholm time; re-runs add nothing; a webhook gets the text, no files, and a line on them."""
    with transaction(engine) as session:
        store_incidents(session, generate_incidents(falun, date(2025, 4, 1), date(2025, 5, 8), seed=3))
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        send_day = agenda_send_day(rhythm_from_json(municipality.rhythm), 10)
    with SmtpServer() as smtp, WebhookReceiver() as receiver:
        with transaction(engine) as session:
            anna = est_members(session, falun)[0]
            anna.notify_targets = [f"json://127.0.0.1:{receiver.port}/est"]
            session.add(anna)
        assert _send(engine, falun, date(2025, 5, 8)) == 0  # the day before the send day
        assert _send(engine, falun, send_day) == MEMBERS
        settings = Settings(
            database_url=str(engine.url),
            mail_url=f"mailto://127.0.0.1:{smtp.port}?from=samordna@example.se",
            fallback_url="",
            messages_per_hour=10,
        )
        assert deliver_due(engine, moment_of(send_day, time(7, 5)), settings).sent == MEMBERS
        assert _send(engine, falun, send_day) == 0
        assert _send(engine, falun, date(2025, 5, 12)) == 0
        assert deliver_due(engine, moment_of(date(2025, 5, 12), time(7, 5)), settings).sent == 0
        received = smtp.received()
        hooks = list(receiver.bodies)
    assert _counts(engine) == (MEMBERS, 5 * MEMBERS)  # DOCX, ICS and three charts each
    (hook,) = hooks
    assert hook["title"] == SUBJECT
    assert not hook.get("attachments")
    assert "Bilagor (dagordning-EST-10.docx, EST-10.ics) skickas bara med e-post" in hook["message"]
    assert ".png" not in hook["message"]  # the charts are the mail's pictures, not files to mention
    assert len(received) == MEMBERS
    assert Counter(str(message["To"]) for message in received).most_common(1)[0][1] == 1
    assert {str(message["Subject"]) for message in received} == {SUBJECT}
    mail = received[0]
    html = mail.get_body(preferencelist=("html",))
    assert html is not None
    assert 'id="total"' in html.get_content()
    assert "data:" not in html.get_content()
    _assert_charts_inline(mail, html.get_content())
    files = _attachments(mail)
    assert set(files) == {"dagordning-EST-10.docx", "EST-10.ics"}
    word = files["dagordning-EST-10.docx"]
    assert word.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    document = docx.Document(io.BytesIO(word.get_content()))
    assert document.core_properties.title == SUBJECT
    assert "2. Lägesbild för perioden" in [paragraph.text for paragraph in document.paragraphs]
    invitation = files["EST-10.ics"]
    assert invitation.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(invitation.get_content())
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart").astimezone(STOCKHOLM)
    assert (start.date(), start.time()) == (date(2025, 5, 13), time(9, 0))


def _invitation(mail: EmailMessage) -> icalendar.cal.Component:
    # The bytes: an iCalendar stream is UTF-8 (RFC 5545, 3.1.4), whatever a text/* default says.
    content = _attachments(mail)["EST-10.ics"].get_payload(decode=True)
    assert isinstance(content, bytes)
    (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
    return event


def _deliver(engine: sa.Engine, port: int, day: date) -> None:
    settings = Settings(
        database_url=str(engine.url),
        mail_url=f"mailto://127.0.0.1:{port}?from=samordna@example.se",
        fallback_url="",
        messages_per_hour=50,
    )
    deliver_due(engine, moment_of(day, time(7, 5)), settings)


def test_agenda_mail_reads_in_any_client_and_a_moved_meeting_updates_the_invitation(
    engine: sa.Engine, falun: int
) -> None:
    """Every part of the agenda mail is free of data: URIs; the plain-text part holds the tables as
    aligned rows; partners get no CLI command; the invitation names the coordinator as ORGANIZER and
    does not promise the agenda "separately". When the meeting moves, each member gets it again with
    the same UID and the next SEQUENCE, once."""
    with transaction(engine) as session:
        store_incidents(session, generate_incidents(falun, date(2025, 4, 1), date(2025, 5, 8), seed=3))
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        send_day = agenda_send_day(rhythm_from_json(municipality.rhythm), 10)
    with SmtpServer() as smtp:
        assert _send(engine, falun, send_day) == MEMBERS
        _deliver(engine, smtp.port, send_day)
        first = smtp.received()
        with transaction(engine) as session:
            municipality = session.get(Municipality, falun)
            assert municipality is not None
            rhythm = dict(municipality.rhythm)
            rhythm["est"] = {**rhythm["est"], "plats": "Rådhuset, sal B"}
            municipality.rhythm = rhythm  # a new dict: the JSON column sees the change
            session.add(municipality)
        moved_day = send_day + timedelta(days=3)
        assert _send(engine, falun, moved_day) == MEMBERS
        assert _send(engine, falun, moved_day) == 0
        _deliver(engine, smtp.port, moved_day)
        second = smtp.received()[len(first) :]
    assert len(first) == len(second) == MEMBERS
    with Session(engine) as session:
        coordinators = {
            person.email
            for person in session.exec(select(Person))
            if "bra_samordnare" in (person.roles or [])
        }
    assert coordinators == {"anna.lindqvist@example.se"}
    for mail in first:
        parts = [part for part in mail.walk() if part.get_content_maintype() == "text"]
        assert all("data:" not in str(part.get_content()) for part in parts)
        text = mail.get_body(preferencelist=("plain",))
        assert text is not None
        body = text.get_content()
        assert re.search(
            r"^Skadegörelse +\d+ +\d+ +\d+ +\S", body, re.MULTILINE
        )  # a row, not a cell per line
        assert "Kategori  " in body
        if str(mail["To"]) not in coordinators:
            html = mail.get_body(preferencelist=("html",))
            assert html is not None
            assert "samordna " not in body
            assert "samordna " not in html.get_content()
        event = _invitation(mail)
        assert str(event["organizer"]) == "mailto:anna.lindqvist@example.se"
        assert event["organizer"].params["CN"] == "Anna Lindqvist"
        assert int(event["sequence"]) == 0
        assert str(event["uid"]) == "est-2080-10@samordna"
        assert "separat" not in str(event["description"])
        assert "samma e-postmeddelande" in str(event["description"])
    for mail in second:
        event = _invitation(mail)
        assert (str(event["uid"]), int(event["sequence"])) == ("est-2080-10@samordna", 1)
        assert str(event["location"]) == "Rådhuset, sal B"
        assert event.decoded("dtstamp") > _invitation(first[0]).decoded("dtstamp")
