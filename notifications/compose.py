"""Composing the outbox: reminders become one digest per person and day, escalations a message each.

``enqueue_messages(session, municipality, as_of)`` runs in the caller's transaction, right after the
daily sweep (``flows.daily_sweep.sweep_and_notify``), reads no clock and never commits. On a working
day ``as_of`` it writes:

- **Digests** (MessageKind.DIGEST). Every Reminder of the kommun that no message has taken yet
  (``outbox_message_id IS NULL``), with ``remind_on <= as_of``, a recipient person, and a task that is
  still open, is grouped by recipient: one message per recipient and call, dedupe key
  ``sammandrag:<person>:<as_of>:<smallest reminder id in it>``. It lists each task once (several
  untaken reminders of one task, left by missed days, make one item), overdue items first, with what to
  do and how to answer. A reminder of a task closed since it was made is left untaken: nothing is owed.
- **Escalations** (MessageKind.ESCALATION). Every Escalation of the kommun that is open
  (``resolved_on IS NULL``), not yet taken, opened on or before ``as_of``, and has a recipient, gets a
  message of its own, dedupe key ``eskalering:<escalation key>`` (hashed down to 300 characters when
  longer). An escalation with no recipient (nobody in the kommun fits) gets no message: there is
  nobody to send it to, and the escalation itself still records the cause.

Messages are inserted with INSERT … ON CONFLICT DO NOTHING on the dedupe key; the rows they carry are
then linked to the message found by that key, with a conditional UPDATE (only rows still untaken), so a
call that is retried, or races another, links every row to exactly one message and writes no message
twice. Events ("meddelande") are returned only for messages this call inserted.

The texts are rendered here, when the message is written (the outbox holds fixed text), from the
templates in ``templates/notifications/``: plain text and HTML (autoescaped). Templates receive only
the values they print: the recipient's own name, task subjects (an SSPF task carries only its case
code), dates, counts, and measure ids. No other person's name reaches a digest.

Like every module here it imports only models/ (records, working days) and templates, never flows/.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.directory import Person
from models.escalation import Escalation, EscalationLevel, EscalationReason
from models.municipality import Municipality
from models.outbox import MessageKind, MessageState, OutboxMessage, message_ids_by_key
from models.records import Event, insert_many, moment_of
from models.rhythm import rhythm_from_json
from models.task import Reminder, Task, TaskKind, TaskState
from models.working_days import is_working_day, previous_working_day, working_days_between
from samordna.text import render

__all__ = [
    "EVENT_KIND",
    "KEY_LIMIT",
    "DigestItem",
    "DigestMergeError",
    "EscalationNotice",
    "Rendered",
    "digest_key",
    "digest_subject",
    "enqueue_messages",
    "escalation_key",
    "escalation_subject",
    "merge_digests",
    "render_digest",
    "render_escalation",
]

EVENT_KIND = "meddelande"
KEY_LIMIT = 300  # OutboxMessage.dedupe_key
SUBJECT_LIMIT = 500  # OutboxMessage.subject
HASH_LENGTH = 64  # sha256 in hex
KEY_CHUNK = 1000  # dedupe keys looked up per IN (...) query

# What the task asks of its ansvarig, by kind: the first line under each item.
INSTRUCTIONS: dict[TaskKind, str] = {
    TaskKind.STATUS_REPORT: (
        "Rapportera åtgärdens status: hur arbetet går, och vad som hindrar det om det har stannat."
    ),
    TaskKind.REPORT_INCIDENTS: "Rapportera händelser i ditt område till EST-gruppen inför nästa möte.",
    TaskKind.INTERVENTION_FOLLOW_UP: "Följ upp insatsen och meddela om den är genomförd.",
    TaskKind.SITUATION_ASSESSMENT_STEP: "Gör ditt steg i arbetet med lägesbilden.",
    TaskKind.PLAN_REVISION: "Se över åtgärdsplanen och föreslå ändringar.",
    TaskKind.SSPF_ACTION: "Genomför åtgärden i ärendet enligt SSPF-gruppens överenskommelse.",
}

# How to answer, by kind; a status report also gets the exact command (see the templates).
STATUS_ANSWER = (
    "Svara BRÅ-samordnaren med åtgärdens status (planerad, pågående, försenad, avstannad, genomförd "
    "eller avbruten) och en kort kommentar. Samordnaren registrerar svaret så här:"
)
SSPF_ANSWER = (
    "Meddela SSPF-gruppen när åtgärden är gjord. Ange bara ärendekoden: skriv aldrig namn eller "
    "personnummer i e-post."
)
OTHER_ANSWER = "Meddela BRÅ-samordnaren när uppgiften är gjord, så markeras den som klar."
ANSWERS: dict[TaskKind, str] = {TaskKind.STATUS_REPORT: STATUS_ANSWER, TaskKind.SSPF_ACTION: SSPF_ANSWER}

# What the recipient of an escalation is asked to do, by level and reason.
ASKS: dict[EscalationReason, str] = {
    EscalationReason.TASK_OVERDUE: (
        "Ta kontakt med den ansvarige och se till att uppgiften blir gjord, "
        "eller utse någon annan som gör den."
    ),
    EscalationReason.INTERVENTION_OVERDUE: (
        "Ta reda på varför insatsen dröjer och se till att den genomförs, omplaneras eller avslutas."
    ),
    EscalationReason.PERSISTING_PROBLEM: (
        "Ta upp problemet på nästa möte och besluta om mer omfattande insatser; perioderna och antalen "
        "finns i EST-dagordningen och i samordna est arenden."
    ),
}
MEASURE_ASK = (
    "Besluta om åtgärden ska fortsätta som planerat, få nya resurser eller en ny ansvarig, "
    "eller avbrytas, och meddela BRÅ-samordnaren beslutet."
)
MANAGEMENT_ASK = (
    "Kommunledningen ombeds besluta hur arbetet ska gå vidare och meddela BRÅ-samordnaren beslutet."
)


# ---------------------------------------------------------------------------------------------------
# Rendering: plain values in, text out


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message's subject and bodies, as written to the outbox."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One task in a digest: only what the digest prints."""

    subject: str
    due_date: date
    overdue_working_days: int  # 0 when not overdue on the digest's day
    instruction: str
    answer: str  # how to answer, besides the status command
    measure_id: int | None  # set for a status report: the answer command names the measure


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """One escalation: only what its message prints."""

    level: int
    subject: str
    detail: str
    cause_since: date
    opened_on: date
    ask: str
    measure_id: int | None


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def digest_subject(items: Sequence[DigestItem]) -> str:
    """``Samordna: 3 uppgifter att göra – 1 försenad``: what to do, and how much of it is late."""
    overdue = sum(1 for item in items if item.overdue_working_days > 0)
    subject = f"Samordna: {_plural(len(items), 'uppgift', 'uppgifter')} att göra"
    if overdue:
        subject += f" – {_plural(overdue, 'försenad', 'försenade')}"
    return subject


def render_digest(recipient_name: str, as_of: date, items: Sequence[DigestItem]) -> Rendered:
    """The digest for one person on ``as_of``: overdue items first (most overdue first), then by date."""
    ordered = sorted(items, key=lambda item: (-item.overdue_working_days, item.due_date, item.subject))
    context = {
        "recipient_name": recipient_name,
        "as_of": as_of,
        "overdue": [item for item in ordered if item.overdue_working_days > 0],
        "upcoming": [item for item in ordered if item.overdue_working_days == 0],
    }
    return Rendered(
        subject=_short(digest_subject(items), SUBJECT_LIMIT),
        text=render("notifications/digest.txt.j2", **context),
        html=render("notifications/digest.html.j2", **context),
    )


def escalation_subject(notice: EscalationNotice) -> str:
    """``ESKALERING: …`` at level 1, ``ESKALERING till kommunledningen: …`` at level 2."""
    prefix = "ESKALERING till kommunledningen" if notice.level >= EscalationLevel.MANAGEMENT else "ESKALERING"
    return _short(f"{prefix}: {notice.subject}", SUBJECT_LIMIT)


def render_escalation(recipient_name: str, notice: EscalationNotice) -> Rendered:
    """One escalation's message: what stalled, since when, who answers for it, what was tried, the ask."""
    context = {
        "recipient_name": recipient_name,
        "notice": notice,
        "to_management": notice.level >= EscalationLevel.MANAGEMENT,
    }
    return Rendered(
        subject=escalation_subject(notice),
        text=render("notifications/escalation.txt.j2", **context),
        html=render("notifications/escalation.html.j2", **context),
    )


# ---------------------------------------------------------------------------------------------------
# Keys


def bounded_key(key: str) -> str:
    """``key`` itself when it fits the column, else its head and its sha256: still unique and stable."""
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: KEY_LIMIT - HASH_LENGTH - 1]}:{digest}"


def digest_key(person_id: int, as_of: date, first_reminder_id: int) -> str:
    """``sammandrag:<person>:<as_of>:<smallest reminder id>``: the same on a retried run."""
    return bounded_key(f"sammandrag:{person_id}:{as_of.isoformat()}:{first_reminder_id}")


def escalation_key(escalation_dedupe_key: str) -> str:
    """``eskalering:<escalation key>``, hashed down to the column's length when longer."""
    return bounded_key(f"eskalering:{escalation_dedupe_key}")


# ---------------------------------------------------------------------------------------------------
# The outbox


@dataclass(frozen=True, slots=True)
class _Planned:
    """A message to write and the ids of the rows it carries."""

    message: OutboxMessage
    recipient_name: str
    rows: Sequence[Reminder | Escalation]


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What every message of one call shares."""

    municipality_id: int
    moment: datetime


def _message(
    stamp: _Stamp, kind: MessageKind, key: str, person_id: int | None, rendered: Rendered
) -> OutboxMessage:
    return OutboxMessage(
        municipality_id=stamp.municipality_id,
        dedupe_key=key,
        kind=kind,
        recipient_person_id=person_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        created_at=stamp.moment,
        next_attempt_at=stamp.moment,
    )


def _answer(kind: TaskKind) -> str:
    """How to answer a task that names no measure (a status report without one is answered by hand)."""
    return OTHER_ANSWER if kind == TaskKind.STATUS_REPORT else ANSWERS.get(kind, OTHER_ANSWER)


def _item(task: Task, as_of: date) -> DigestItem:
    due = previous_working_day(task.due_date)
    measure_id = task.measure_id if task.kind == TaskKind.STATUS_REPORT else None
    return DigestItem(
        subject=task.subject,
        due_date=due,
        overdue_working_days=max(0, working_days_between(due, as_of)),
        instruction=INSTRUCTIONS.get(task.kind, "Gör uppgiften."),
        answer=ANSWERS.get(task.kind, OTHER_ANSWER) if measure_id is not None else _answer(task.kind),
        measure_id=measure_id,
    )


def _plan_digests(
    session: Session, municipality_id: int, as_of: date, people: dict[int, Person], stamp: _Stamp
) -> list[_Planned]:
    rows = session.exec(
        select(Reminder, Task)
        .join(Task, col(Task.id) == col(Reminder.task_id))
        .where(
            Reminder.municipality_id == municipality_id,
            col(Reminder.outbox_message_id).is_(None),
            col(Reminder.recipient_person_id).is_not(None),
            Reminder.remind_on <= as_of,
            Task.state == TaskState.OPEN,
        )
        .order_by(col(Reminder.recipient_person_id), col(Reminder.id))
    )
    reminders: dict[int, list[Reminder]] = defaultdict(list)
    tasks: dict[int, dict[int, Task]] = defaultdict(dict)
    for reminder, task in rows:
        person_id = reminder.recipient_person_id or 0
        reminders[person_id].append(reminder)
        tasks[person_id].setdefault(task.id or 0, task)
    planned: list[_Planned] = []
    for person_id, taken in reminders.items():
        person = people.get(person_id)
        if person is None:  # a person of another kommun: never mix kommuner in one message
            continue
        rendered = render_digest(
            person.name, as_of, [_item(task, as_of) for task in tasks[person_id].values()]
        )
        message = _message(
            stamp,
            MessageKind.DIGEST,
            digest_key(person_id, as_of, min(reminder.id or 0 for reminder in taken)),
            person_id,
            rendered,
        )
        planned.append(_Planned(message, person.name, taken))
    return planned


def _notice(escalation: Escalation) -> EscalationNotice:
    # A stalled measure asks for a decision already; an overdue task or insats raised to
    # kommunledningen asks for one on top of the chef's ask.
    ask = ASKS.get(escalation.reason, MEASURE_ASK)
    if escalation.reason in ASKS and escalation.level >= EscalationLevel.MANAGEMENT:
        ask = f"{ask} {MANAGEMENT_ASK}"
    return EscalationNotice(
        level=escalation.level,
        subject=escalation.subject,
        detail=escalation.detail,
        cause_since=escalation.cause_since,
        opened_on=escalation.opened_on,
        ask=ask,
        measure_id=escalation.measure_id,
    )


def _plan_escalations(
    session: Session, municipality_id: int, as_of: date, people: dict[int, Person], stamp: _Stamp
) -> list[_Planned]:
    escalations = session.exec(
        select(Escalation)
        .where(
            Escalation.municipality_id == municipality_id,
            col(Escalation.outbox_message_id).is_(None),
            col(Escalation.resolved_on).is_(None),
            col(Escalation.recipient_person_id).is_not(None),
            Escalation.opened_on <= as_of,
        )
        .order_by(col(Escalation.id))
    )
    planned: list[_Planned] = []
    for escalation in escalations:
        person = people.get(escalation.recipient_person_id or 0)
        if person is None:
            continue
        rendered = render_escalation(person.name, _notice(escalation))
        message = _message(
            stamp, MessageKind.ESCALATION, escalation_key(escalation.dedupe_key), person.id, rendered
        )
        planned.append(_Planned(message, person.name, [escalation]))
    return planned


def _link(session: Session, table: type[Reminder | Escalation], planned: Sequence[_Planned]) -> None:
    """Point every carried row at the message its key names, unless some message already took it."""
    keys = [item.message.dedupe_key for item in planned]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        ids.update(
            (key, message_id or 0)
            for message_id, key in session.exec(
                select(col(OutboxMessage.id), col(OutboxMessage.dedupe_key)).where(
                    col(OutboxMessage.dedupe_key).in_(keys[start : start + KEY_CHUNK])
                )
            )
        )
    core: sa.Table = table.__table__  # type: ignore[union-attr]
    columns = core.c
    statement = (
        sa.update(core)
        .where(columns.id == sa.bindparam("row_id"), columns.outbox_message_id.is_(None))
        .values(outbox_message_id=sa.bindparam("message_id"))
    )
    parameters = [
        {"row_id": row.id, "message_id": ids[item.message.dedupe_key]}
        for item in planned
        for row in item.rows
    ]
    if parameters:
        # One statement for all rows (executemany); the conditional keeps a row another message took.
        session.execute(statement, parameters)
    for item in planned:
        for row in item.rows:
            # Loaded before the UPDATE: read the column again from the database when next asked.
            session.expire(row, ["outbox_message_id"])


def _write(
    session: Session, table: type[Reminder | Escalation], planned: Sequence[_Planned], as_of: date
) -> list[Event]:
    inserted = insert_many(session, [item.message for item in planned], key="dedupe_key")
    _link(session, table, planned)
    return [
        Event(as_of, EVENT_KIND, item.message.subject, item.recipient_name)
        for item in planned
        if item.message.dedupe_key in inserted
    ]


def enqueue_messages(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Write the day's digests and escalation messages for one kommun (see the module docstring).

    Does nothing on a non-working day, as the daily sweep does. Never commits; flushes. The messages
    are stamped (created, first due for delivery) at the daily sweep's time on ``as_of``.
    """
    if not is_working_day(as_of):
        return []
    municipality_id = municipality.id or 0
    people = {
        person.id: person
        for person in session.exec(select(Person).where(Person.municipality_id == municipality_id))
        if person.id is not None
    }
    stamp = _Stamp(municipality_id, moment_of(as_of, rhythm_from_json(municipality.rhythm).daily_sweep_time))
    session.flush()
    digests = _plan_digests(session, municipality_id, as_of, people, stamp)
    escalations = _plan_escalations(session, municipality_id, as_of, people, stamp)
    events = _write(session, Reminder, digests, as_of) + _write(session, Escalation, escalations, as_of)
    session.flush()
    return events


# ---------------------------------------------------------------------------------------------------
# Merging digests a channel kept waiting


class DigestMergeError(RuntimeError):
    """One of the digests to merge was taken by another process first: the merge is undone."""


def merge_digests(session: Session, digests: Sequence[OutboxMessage], as_of: date, now: datetime) -> int:
    """Replace ``digests`` (one person's, all PENDING, none delivered anywhere) by one digest of their
    still-open tasks as of ``as_of``; how many were replaced (0 when they were not all written here).

    The merged digest keeps the earliest ``created_at`` of those it replaces, so delivery marks it as
    delayed; its key is ``sammandrag:<person>:<as_of>:samlat:<smallest id>``. The reminders move to it,
    and the replaced digests become OBSOLETE ("sammanslaget i #N"). If any of them is no longer
    PENDING, DigestMergeError is raised and the caller's transaction must be rolled back. Never commits.
    """
    ids = [digest.id or 0 for digest in digests]
    rows = session.exec(
        select(Reminder, Task)
        .join(Task, col(Task.id) == col(Reminder.task_id))
        .where(col(Reminder.outbox_message_id).in_(ids))
        .order_by(col(Reminder.id))
    ).all()
    if {reminder.outbox_message_id for reminder, _task in rows} != set(ids):
        return 0  # a digest not composed from reminders (or already emptied): leave them as they are
    person = session.get(Person, digests[0].recipient_person_id)
    if person is None:
        return 0
    replaced = session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.state) == MessageState.PENDING)
        .values(state=MessageState.OBSOLETE, last_error="sammanslaget i ett senare sammandrag")
        .execution_options(synchronize_session=False)
    )
    if replaced.rowcount != len(ids):  # type: ignore[attr-defined]
        raise DigestMergeError
    tasks = {task.id: task for _reminder, task in rows if task.state == TaskState.OPEN}
    if not tasks:
        return len(ids)  # everything they were about is done: nothing to send
    rendered = render_digest(person.name, as_of, [_item(task, as_of) for task in tasks.values()])
    key = bounded_key(f"sammandrag:{person.id}:{as_of.isoformat()}:samlat:{min(ids)}")
    message = OutboxMessage(
        municipality_id=digests[0].municipality_id,
        dedupe_key=key,
        kind=MessageKind.DIGEST,
        recipient_person_id=person.id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        created_at=min(digest.created_at for digest in digests),
        next_attempt_at=now,
    )
    insert_many(session, [message], key="dedupe_key")
    merged_id = message_ids_by_key(session, [key])[key]
    session.execute(
        sa.update(Reminder)
        .where(col(Reminder.outbox_message_id).in_(ids))
        .values(outbox_message_id=merged_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(last_error=f"sammanslaget i #{merged_id}")
        .execution_options(synchronize_session=False)
    )
    return len(ids)
