"""The EST agenda: ICS at local time across DST, HTML in Chromium, DOCX in LibreOffice, sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from sqlmodel import select

from models.db import make_engine, transaction
from models.incident import store_incidents
from models.municipality import Municipality, find_municipality
from models.outbox import OutboxAttachment, OutboxMessage
from models.rhythm import rhythm_from_json
from notifications.documents import DOCX_TYPE
from reports.est_agenda import (
    agenda_send_day,
    compile_agenda,
    render_docx,
    render_html,
    render_ics,
    send_agendas,
)
from services.demo import generate_incidents
from tests.conftest import Cli
from tests.office import chromium, libreoffice_convert

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MEMBERS = {
    "anna.lindqvist@example.se",
    "jonas.ek@example.se",
    "sofia.engstrom@example.se",
    "maja.olsson@example.se",
    "mats.bjork@example.se",
    "henrik.jansson@example.se",
    "helena.strom@example.se",
}


@pytest.fixture
def falun_engine(falun_cli: Cli) -> sa.Engine:
    """A copy of the Falun example (SQLite) with a generated half year of incidents."""
    engine = make_engine(falun_cli.url)
    with transaction(engine) as session:
        store_incidents(session, generate_incidents(1, date(2025, 1, 1), date(2025, 7, 10), seed=11))
    return engine


def falun(session: sa.orm.Session) -> Municipality:
    found = find_municipality(session, "2080")  # type: ignore[arg-type]
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("number", "day", "utc_hour"),
    [(1, date(2025, 1, 7), 8), (14, date(2025, 7, 8), 7)],
    ids=["winter", "summer"],
)
def test_ics_holds_the_meeting_at_local_time(
    falun_engine: sa.Engine, number: int, day: date, utc_hour: int
) -> None:
    """The invitation parses with icalendar: 09:00 Stockholm time in winter and summer, members invited."""
    with transaction(falun_engine) as session:
        agenda = compile_agenda(session, falun(session), number)
    calendar = icalendar.Calendar.from_ical(render_ics(agenda))
    assert calendar["method"] == "REQUEST"
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None
    assert str(event["dtstart"].params["TZID"]) == "Europe/Stockholm"
    assert (start.astimezone(STOCKHOLM).date(), start.astimezone(STOCKHOLM).time()) == (day, time(9, 0))
    assert start.astimezone(UTC).hour == utc_hour
    assert event.decoded("dtend").astimezone(STOCKHOLM).time() == time(10, 30)
    assert str(event["location"]) == "Stadshuset, rum Kopparvägen"
    assert str(event["uid"]) == f"est-2080-{number}@samordna"
    assert {str(attendee).removeprefix("mailto:") for attendee in event["attendee"]} == MEMBERS
    assert list(calendar.walk("VTIMEZONE"))


def test_agenda_html_renders_in_chromium(falun_engine: sa.Engine, tmp_path: Path) -> None:
    """The agenda HTML opens in headless Chromium: every chart loads and the console stays clean."""
    with transaction(falun_engine) as session:
        agenda = compile_agenda(session, falun(session), 10)
    page_file = tmp_path / "dagordning.html"
    page_file.write_text(render_html(agenda), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        widths = page.eval_on_selector_all("img", "images => images.map(image => image.naturalWidth)")
        heading = page.inner_text("h1")
        total = page.inner_text("#total")
    assert len(widths) == 3
    assert all(width > 0 for width in widths)
    assert errors == []
    assert heading == "Dagordning EST-möte 10, Falun – 13 maj 2025"
    assert int(total) == agenda.situation.total > 0


def test_agenda_docx_opens_in_libreoffice(falun_engine: sa.Engine, tmp_path: Path) -> None:
    """The DOCX agenda converts to PDF in LibreOffice (a real office suite can open it)."""
    with transaction(falun_engine) as session:
        agenda = compile_agenda(session, falun(session), 10)
    source = tmp_path / "dagordning.docx"
    source.write_bytes(render_docx(agenda))
    pdf = libreoffice_convert(source, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 20_000  # three charts inside


def test_agenda_is_sent_once_per_meeting_and_member(
    falun_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agenda reaches the outbox on its send day, once per EST member with its DOCX and ICS attached
    and its charts as inline images (no data: URI), whatever the number of runs."""
    monkeypatch.setenv("SAMORDNA_DATA_DIR", str(tmp_path / "data"))
    with transaction(falun_engine) as session:
        rhythm = rhythm_from_json(falun(session).rhythm)
    send_day = agenda_send_day(rhythm, 10)
    assert send_day == date(2025, 5, 9)  # two working days before Tuesday 13 May
    with transaction(falun_engine) as session:
        assert send_agendas(session, falun(session), date(2025, 5, 8)) == []
    for day in (send_day, send_day, date(2025, 5, 12), date(2025, 5, 13)):
        with transaction(falun_engine) as session:
            events = send_agendas(session, falun(session), day)
            if day != send_day:
                assert events == []
    with transaction(falun_engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("est-dagordning:"))  # type: ignore[attr-defined]
        ).all()
    assert len(messages) == len(MEMBERS)
    assert {message.subject for message in messages} == {"Dagordning EST-möte 10, Falun – 13 maj 2025"}
    assert not any("data:" in message.body_html for message in messages)
    assert all('src="cid:EST-10-kategorier.png"' in message.body_html for message in messages)
    with transaction(falun_engine) as session:
        attached = session.exec(
            select(OutboxAttachment.message_id, OutboxAttachment.filename, OutboxAttachment.mime_type)
        ).all()
    assert sorted((name, mime) for message_id, name, mime in attached if message_id == messages[0].id) == [
        ("EST-10-kategorier.png", "image/png"),
        ("EST-10-omraden.png", "image/png"),
        ("EST-10-tider.png", "image/png"),
        ("EST-10.ics", "text/calendar"),
        ("dagordning-EST-10.docx", DOCX_TYPE),
    ]
    assert len(attached) == 5 * len(MEMBERS)
    assert all("Bifogat: dagordningen som Word-fil" in message.body_text for message in messages)
    assert all("EST-10.ics" in message.body_html for message in messages)
    assert not (tmp_path / "data" / "est").exists()  # nothing left on the server: it travels with the mail
    assert messages[0].created_at == datetime(2025, 5, 9, 5, 0, tzinfo=UTC)  # 07:00 in Stockholm


def test_dagordning_command_writes_each_format(falun_cli: Cli, tmp_path: Path) -> None:
    """`est dagordning --format F --ut FIL` writes HTML, DOCX, ICS and text; DOCX needs --ut."""
    for fmt, start in (
        ("html", b"<!DOCTYPE html>"),
        ("docx", b"PK"),
        ("ics", b"BEGIN:VCALENDAR"),
        ("text", b"Dag"),
    ):
        out = tmp_path / f"agenda.{fmt}"
        code, _, err = falun_cli(
            "est", "dagordning", "--kommun", "2080", "--cykel", "3", "--format", fmt, "--ut", out
        )
        assert (code, err) == (0, "")
        assert out.read_bytes().startswith(start)
    code, _, err = falun_cli("est", "dagordning", "--kommun", "2080", "--format", "docx")
    assert code == 1
    assert "--ut" in err
