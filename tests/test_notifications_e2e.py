"""A simulated half-year of Falun, delivered to a real SMTP server on loopback.

Every cycle runs at its scheduled instants (prefect.yaml and Falun's rhythm); after each daily sweep
the outbox is delivered to an aiosmtpd server. Nobody answers except one ansvarig, who reports on one
measure in May: from then on that measure's task must not appear in anybody's mail.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from core.settings import Settings
from flows.simulation import scheduled_instants
from models.db import make_engine, transaction
from models.directory import Person
from models.enums import MeasureStatus
from models.municipality import find_municipality
from models.outbox import MessageState, OutboxMessage
from models.task import Task, TaskKind, TaskState
from notifications.delivery import deliver_due
from services.cycles import CYCLES, run_cycle
from services.status import StatusReportCommand, record_status_report
from tests.conftest import REPO
from tests.smtp import SmtpServer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SWEDISH_WORDS = {"och", "att", "för", "senast", "uppgift", "uppgifter", "åtgärd", "ansvarig"}
REPORT_DAY = date(2025, 5, 5)


def _text(message: object) -> str:
    part = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    return str(part.get_content()) if part is not None else ""


def test_half_year_delivered_once_in_swedish_and_a_report_stops_reminders(
    falun_sqlite_file: Path, tmp_path: Path
) -> None:
    """Every message parses, is Swedish, reaches its person once; a report stops that measure's reminders."""
    database = tmp_path / "falun.db"
    shutil.copyfile(falun_sqlite_file, database)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    with transaction(engine) as session:
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        rhythm = dict(municipality.rhythm)
    instants = scheduled_instants(rhythm, date(2025, 1, 1), date(2025, 6, 30), REPO / "prefect.yaml")
    reported_subject = ""
    mark = 0  # how many mails had arrived when the report was recorded
    with SmtpServer() as smtp:
        settings = Settings(
            database_url=url,
            data_dir=tmp_path,
            mail_url=f"mailto://127.0.0.1:{smtp.port}?from=samordna@example.se",
        )
        for instant, cycle in instants:
            as_of = instant.astimezone(STOCKHOLM).date()
            if as_of >= REPORT_DAY and not reported_subject:
                reported_subject = _report_on_first_status_task(engine, as_of)
                mark = len(smtp.messages)
            run_cycle(engine, CYCLES[cycle].run, "2080", as_of)
            if cycle == "daglig":
                deliver_due(engine, instant + timedelta(minutes=5), settings)
        received = list(smtp.messages)
    with Session(engine) as session:
        sent = session.exec(select(OutboxMessage)).all()
        emails = {person.id: person.email for person in session.exec(select(Person))}
    engine.dispose()

    assert reported_subject
    assert len(sent) > 50
    assert {message.state for message in sent} == {MessageState.SENT}
    # Once: every outbox message arrived exactly once, at its recipient's address.
    expected = Counter((emails[message.recipient_person_id], message.subject) for message in sent)
    arrived = Counter((str(mail["To"]), str(mail["Subject"])) for mail in received)
    assert arrived == expected
    for mail in received:
        text = _text(mail)
        assert mail["Subject"]
        assert SWEDISH_WORDS & set(text.casefold().split()), mail["Subject"]
        assert "Traceback" not in text
    # After the report, no mail mentions the reported measure's task.
    after = received[mark:]
    assert after
    assert not [mail for mail in after if reported_subject in _text(mail)]


def _report_on_first_status_task(engine: sa.Engine, as_of: date) -> str:
    with transaction(engine) as session:
        task = session.exec(
            select(Task)
            .where(Task.kind == TaskKind.STATUS_REPORT, Task.state == TaskState.OPEN)
            .order_by(Task.id)  # type: ignore[arg-type]
        ).first()
        if task is None or task.measure_id is None:
            return ""
        municipality = find_municipality(session, "2080")
        assert municipality is not None
        record_status_report(
            session,
            municipality,
            StatusReportCommand(
                task.measure_id,
                status=MeasureStatus.ONGOING,
                reported_on=as_of,
                comment="Arbetet pågår enligt plan.",
            ),
            now=datetime.combine(as_of, datetime.min.time(), tzinfo=UTC),
        )
        return task.subject
