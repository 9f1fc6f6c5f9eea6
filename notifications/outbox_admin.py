"""The outbox for people: what is queued, sent, failed or unknown per person and day, and sending a
message again after someone checked it. Plain functions over a session (``samordna utkorg``).

Sending again (``requeue``) is for a message that FAILED (its channel refused it, or it had no address)
or whose fate is UNKNOWN (delivery was cut off while it was being sent): a person checked it with the
recipient, so it is queued as new (PENDING, its refusals forgotten) and the next delivery pass sends it.
An UNKNOWN message gets a DeliveryAttempt row for the attempt that was cut off, so that the crash
detection (attempts above the highest recorded attempt) stays true for its next send.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.clock import STOCKHOLM
from core.errors import InvalidInputError, NotFoundError
from models.directory import Person
from models.outbox import DeliveryAttempt, DeliveryChannel, MessageState, OutboxMessage, channels

__all__ = ["DayRow", "OutboxOverview", "Problem", "outbox_overview", "requeue_message"]

REQUEUABLE = frozenset({MessageState.FAILED, MessageState.UNKNOWN})
FALLBACK_NAME = "BRÅ-samordnaren (reservkanalen)"


@dataclass(frozen=True, slots=True)
class DayRow:
    """One person's messages written on one day, counted by state."""

    day: date
    recipient: str
    counts: dict[MessageState, int]


@dataclass(frozen=True, slots=True)
class Problem:
    """A message that FAILED or whose fate is UNKNOWN: what a person should look at."""

    message_id: int
    day: date
    recipient: str
    subject: str
    state: MessageState
    last_error: str


@dataclass(slots=True)
class OutboxOverview:
    start: date
    end: date
    rows: list[DayRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    totals: Counter[MessageState] = field(default_factory=Counter)
    channels: list[DeliveryChannel] = field(default_factory=list)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


def outbox_overview(session: Session, municipality_id: int, start: date, end: date) -> OutboxOverview:
    """The kommun's messages written from ``start`` to ``end`` (inclusive, Stockholm days), per day and
    person, and every FAILED or UNKNOWN one among them; the channels' states."""
    first = datetime.combine(start, time(0), tzinfo=STOCKHOLM)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    messages = session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.municipality_id == municipality_id,
            OutboxMessage.created_at >= first,
            OutboxMessage.created_at < after,
        )
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    ).all()
    names = {
        person.id: person.name
        for person in session.exec(select(Person).where(Person.municipality_id == municipality_id))
    }
    overview = OutboxOverview(start, end, channels=channels(session))
    grouped: dict[tuple[date, str], Counter[MessageState]] = defaultdict(Counter)
    for message in messages:
        recipient = (
            names.get(message.recipient_person_id, "?") if message.recipient_person_id else FALLBACK_NAME
        )
        day = _local_day(message.created_at)
        grouped[(day, recipient)][message.state] += 1
        overview.totals[message.state] += 1
        if message.state in REQUEUABLE:
            overview.problems.append(
                Problem(message.id or 0, day, recipient, message.subject, message.state, message.last_error)
            )
    overview.rows = [
        DayRow(day, recipient, dict(counts)) for (day, recipient), counts in sorted(grouped.items())
    ]
    return overview


def requeue_message(
    session: Session, message_id: int, now: datetime, *, municipality_id: int | None = None
) -> OutboxMessage:
    """Queue a FAILED or UNKNOWN message again, due at ``now``: the one rule for the dashboard's resend
    and `samordna utkorg skicka-om`.

    For a message whose fate was unknown, the person asking has checked that it did not arrive (its
    armed attempt is recorded as such); for a failed one, that its cause is put right. The message keeps
    its attempts, so the delivery's rule "armed but not recorded is unknown" still holds; its refusals
    start over. Targets that accepted it before are skipped, as on every retry. A conditional UPDATE:
    two requests at once queue it once. With ``municipality_id``, a message of another kommun is not
    found. Raises NotFoundError or InvalidInputError (Swedish); never commits.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None or (municipality_id is not None and message.municipality_id != municipality_id):
        raise NotFoundError(f"Meddelande {message_id} finns inte i utkorgen.")
    if message.state not in REQUEUABLE:
        raise InvalidInputError(
            f"Meddelande {message_id} är {message.state.value}: bara misslyckade meddelanden och "
            "meddelanden med okänt utfall kan skickas om."
        )
    was_unknown = message.state == MessageState.UNKNOWN
    changed = session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.state).in_(REQUEUABLE))
        .values(
            state=MessageState.PENDING,
            rejections=0,
            requeues=col(OutboxMessage.requeues) + 1,
            failed_at=None,
            leased_until=None,
            next_attempt_at=now,
            last_error="",
        )
        .returning(col(OutboxMessage.id)),
        execution_options={"synchronize_session": "fetch"},
    ).first()
    if changed is None:
        raise InvalidInputError(f"Meddelande {message_id} skickas redan om.")
    if was_unknown:
        recorded = session.exec(
            select(func.max(DeliveryAttempt.attempt)).where(DeliveryAttempt.message_id == message_id)
        ).one()
        if int(recorded or 0) < message.attempts:
            session.add(
                DeliveryAttempt(
                    message_id=message_id,
                    attempt=message.attempts,
                    target="(okänt utfall)",
                    ok=False,
                    detail="leveransen avbröts; kontrollerad och köad igen för hand",
                    at=now,
                )
            )
    session.flush()
    session.refresh(message)
    return message
