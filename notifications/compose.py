"""Composing the outbox: reminders become one digest per person and day, escalations a message each.

``enqueue_messages(session, municipality, as_of)`` runs in the caller's transaction, right after the
daily sweep (``cycles.daily_sweep.sweep_and_notify``), reads no clock and never commits. On a working
day ``as_of`` it writes:

- **Digests** (MessageKind.DIGEST). Every Reminder of the kommun that no message has taken yet
  (``outbox_message_id IS NULL``), with ``remind_on <= as_of``, a recipient person, and a task that is
  still open, is grouped by recipient: one message per recipient and call, dedupe key
  ``sammandrag:<person>:<as_of>:<smallest reminder id in it>``. It lists each task once (several
  untaken reminders of one task, left by missed days, make one item), overdue items first, with what to
  do and how to answer. A reminder of a task closed since it was made is left untaken: nothing is owed.
- **Escalations** (MessageKind.ESCALATION), one ESKALERING digest per recipient and working day. Every
  Escalation of the kommun that is open (``resolved_on IS NULL``), not yet taken, opened on or before
  ``as_of``, and has a recipient, is grouped by recipient: one message, dedupe key
  ``eskaleringar:<person>:<as_of>``, lists them by level (kommunledningen first) and by kind of cause
  (stalled measures, overdue tasks, overdue insatser, persisting EST problems), each item with what
  was tried and the earlier escalations of the same measure, insats or task. A recipient who already
  has that day's digest gets nothing more that day: escalations opened later wait, untaken, for the
  next working day, so nobody gets more than one escalation mail a day. An escalation is carried by
  exactly one message, so a recipient hears of each cause once, until the cause changes (a new level,
  a new start date: a new escalation). An escalation with no recipient (nobody in the kommun fits)
  gets no message: there is nobody to send it to, and the escalation itself still records the cause.

Messages are inserted with INSERT … ON CONFLICT DO NOTHING on the dedupe key; the rows they carry are
then linked to the message found by that key, with a conditional UPDATE (only rows still untaken), so a
call that is retried, or races another, links every row to exactly one message and writes no message
twice. Events ("meddelande") are returned only for messages this call inserted.

The texts are rendered here, when the message is written (the outbox holds fixed text), from the
templates in ``templates/notifications/``: plain text and HTML (autoescaped). Templates receive only
the values they print: the recipient's own name, task subjects (an SSPF task carries only its case
code), dates, counts, and measure ids, and the BRÅ-samordnare's name and address as the person to ask.
No other person's name reaches a digest.

**The way back** (issue 12): every digest and escalation carries the recipient's personal link to
their page in the web app (``notifications.personal_links``: a still-valid link is reused, a new one is
made in this transaction), where status reports are given and tasks marked done; no message shows a
command-line command. The message's Reply-To is the BRÅ-samordnare, so a reply by e-mail reaches her.
Without a link secret (``core.web_secret``) the messages carry no link and say to reply to her.

Like every module here it imports only models/ (records, working days) and templates, never flows/.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import moment_of
from core.settings import get_settings
from core.templating import render
from core.text import shorten, swedish_date
from core.web_secret import WebSecretError
from models.directory import Person, PersonRow, person_rows
from models.escalation import Escalation, EscalationLevel, EscalationReason
from models.municipality import Municipality
from models.outbox import MessageKind, MessageState, OutboxMessage, message_ids_by_key, new_message_row
from models.records import Event, fill_once, insert_many, insert_values, one_of
from models.responsibility import COORDINATOR_ROLE, bra_coordinator
from models.rhythm import rhythm_from_json
from models.task import Reminder, ReminderKind, Task, TaskKind, TaskState
from models.working_days import is_working_day, previous_working_day, working_days_between
from notifications.personal_links import LinkMaker, personal_links, personal_links_of

__all__ = [
    "EVENT_KIND",
    "KEY_LIMIT",
    "AdoptionSummary",
    "Contact",
    "DigestItem",
    "DigestMergeError",
    "EscalationGroup",
    "EscalationNotice",
    "LateMeasure",
    "Rendered",
    "adoption_summary_key",
    "digest_key",
    "digest_subject",
    "enqueue_adoption_summary",
    "enqueue_messages",
    "escalation_digest_key",
    "escalation_key",
    "escalation_subject",
    "group_escalations",
    "merge_digests",
    "render_digest",
    "render_escalation",
    "render_escalations",
]

logger = logging.getLogger(__name__)

EVENT_KIND = "meddelande"
KEY_LIMIT = 300  # OutboxMessage.dedupe_key
SUBJECT_LIMIT = 500  # OutboxMessage.subject
HASH_LENGTH = 64  # sha256 in hex
KEY_CHUNK = 1000  # dedupe keys looked up per IN (...) query
HISTORY_LISTED = 5  # earlier escalations of the same subject shown under an item

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

# How to answer, by kind, when the mail carries the recipient's personal link (issue 12) ...
STATUS_ANSWER = (
    "Öppna din sida i Samordna (länken ovan), välj åtgärdens status och skriv hur arbetet går och "
    "nästa steg. Uppgiften stängs så fort du har sparat."
)
SSPF_ANSWER = (
    "Meddela SSPF-gruppen när åtgärden är gjord. Ange bara ärendekoden: skriv aldrig namn eller "
    "personnummer i e-post."
)
OTHER_ANSWER = "Markera uppgiften som klar på din sida i Samordna (länken ovan) när den är gjord."
ANSWERS: dict[TaskKind, str] = {
    TaskKind.STATUS_REPORT: STATUS_ANSWER,
    TaskKind.SSPF_ACTION: SSPF_ANSWER,
    TaskKind.REPORT_INCIDENTS: (
        "Rapportera händelserna med formuläret på din sida i Samordna (länken ovan); det går bra i "
        "mobilen. Markera sedan uppgiften som klar."
    ),
    TaskKind.INTERVENTION_FOLLOW_UP: (
        "Markera insatsen som genomförd eller avbruten på din sida i Samordna (länken ovan)."
    ),
}
# ... and when it carries none (no link secret configured): the answer goes to the BRÅ-samordnare,
# by replying to the mail (its Reply-To is hers).
STATUS_ANSWER_BY_MAIL = (
    "Svara på det här mejlet med åtgärdens status (planerad, pågående, försenad, avstannad, genomförd "
    "eller avbruten) och en kort kommentar; svaret går till BRÅ-samordnaren, som registrerar det."
)
OTHER_ANSWER_BY_MAIL = "Svara på det här mejlet när uppgiften är gjord, så markerar BRÅ-samordnaren den klar."
ANSWERS_BY_MAIL: dict[TaskKind, str] = {
    TaskKind.STATUS_REPORT: STATUS_ANSWER_BY_MAIL,
    TaskKind.SSPF_ACTION: SSPF_ANSWER,
}

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
        "finns i EST-dagordningen."
    ),
}
MEASURE_ASK = (
    "Besluta om åtgärden ska fortsätta som planerat, få nya resurser eller en ny ansvarig, "
    "eller avbrytas, och meddela BRÅ-samordnaren beslutet."
)
# How an ESKALERING digest groups its items within a level: one heading and one ask per group.
STALLED_REASONS = (
    EscalationReason.MISSED_FOLLOW_UPS,
    EscalationReason.DELAYED_REPORTS,
    EscalationReason.REPORTED_STALLED,
    EscalationReason.PAST_END_DATE,
)
GROUP_TITLES: dict[EscalationReason, str] = {
    **dict.fromkeys(STALLED_REASONS, "Avstannade åtgärder"),
    EscalationReason.TASK_OVERDUE: "Försenade uppgifter",
    EscalationReason.INTERVENTION_OVERDUE: "Försenade insatser från EST",
    EscalationReason.PERSISTING_PROBLEM: "Ihållande problem från EST",
}
GROUP_ORDER = (
    "Avstannade åtgärder",
    "Försenade uppgifter",
    "Försenade insatser från EST",
    "Ihållande problem från EST",
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
class Contact:
    """The BRÅ-samordnare as a message names her: whom to ask, and where replies go."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One task in a digest: only what the digest prints."""

    subject: str
    due_date: date
    overdue_working_days: int  # 0 when not overdue on the digest's day
    instruction: str
    answer: str  # how to answer: on the recipient's page, or by replying to the mail
    measure_id: int | None  # set for a status report
    is_new: bool = False  # the first message about this task: it opened since the last digest


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """One escalation: only what its item in an ESKALERING digest prints."""

    level: int
    subject: str
    detail: str
    cause_since: date
    opened_on: date
    ask: str
    measure_id: int | None
    reason: EscalationReason = EscalationReason.MISSED_FOLLOW_UPS
    # Earlier escalations of the same measure, insats or task, oldest first, as Swedish lines.
    history: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EscalationGroup:
    """The items of one level and one kind of cause, with the one thing the recipient is asked."""

    level: int
    title: str
    ask: str
    items: tuple[EscalationNotice, ...]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def digest_subject(items: Sequence[DigestItem]) -> str:
    """``Samordna: 3 uppgifter att göra – 1 ny, 1 försenad``: what to do, what is new, what is late."""
    overdue = sum(1 for item in items if item.overdue_working_days > 0)
    new = sum(1 for item in items if item.is_new)
    subject = f"Samordna: {_plural(len(items), 'uppgift', 'uppgifter')} att göra"
    parts = []
    if new:
        parts.append(_plural(new, "ny", "nya"))
    if overdue:
        parts.append(_plural(overdue, "försenad", "försenade"))
    if parts:
        subject += " – " + ", ".join(parts)
    return subject


def render_digest(
    recipient_name: str,
    as_of: date,
    items: Sequence[DigestItem],
    *,
    link: str | None = None,
    coordinator: Contact | None = None,
) -> Rendered:
    """The digest for one person on ``as_of``: overdue items first (most overdue first), then by date;
    with the person's ``link`` to their page and the BRÅ-samordnare to ask."""
    ordered = sorted(items, key=lambda item: (-item.overdue_working_days, item.due_date, item.subject))
    context = {
        "recipient_name": recipient_name,
        "as_of": as_of,
        "link": link,
        "coordinator": coordinator,
        "overdue": [item for item in ordered if item.overdue_working_days > 0],
        "upcoming": [item for item in ordered if item.overdue_working_days == 0],
    }
    return Rendered(
        subject=shorten(digest_subject(items), SUBJECT_LIMIT),
        text=render("notifications/digest.txt.j2", **context),
        html=render("notifications/digest.html.j2", **context),
    )


def _level_prefix(level: int) -> str:
    return "ESKALERING till kommunledningen" if level >= EscalationLevel.MANAGEMENT else "ESKALERING"


def escalation_subject(notice: EscalationNotice) -> str:
    """``ESKALERING: …`` at level 1, ``ESKALERING till kommunledningen: …`` at level 2."""
    return shorten(f"{_level_prefix(notice.level)}: {notice.subject}", SUBJECT_LIMIT)


def group_escalations(notices: Sequence[EscalationNotice]) -> list[EscalationGroup]:
    """Level 2 before level 1; within a level the groups in GROUP_ORDER; within a group by measure,
    then by the day the cause began, so the items about one measure stand together."""
    grouped: dict[tuple[int, str], list[EscalationNotice]] = defaultdict(list)
    for notice in notices:
        grouped[(notice.level, GROUP_TITLES.get(notice.reason, "Övrigt"))].append(notice)
    order = {title: position for position, title in enumerate(GROUP_ORDER)}
    groups: list[EscalationGroup] = []
    for (level, title), items in sorted(grouped.items(), key=lambda kv: (-kv[0][0], order.get(kv[0][1], 99))):
        ordered = sorted(items, key=lambda item: (item.measure_id or 0, item.cause_since, item.subject))
        groups.append(EscalationGroup(level, title, ordered[0].ask, tuple(ordered)))
    return groups


# The groups' names for one item, for a digest's subject.
_SINGULAR = {
    "Avstannade åtgärder": "avstannad åtgärd",
    "Försenade uppgifter": "försenad uppgift",
    "Försenade insatser från EST": "försenad insats från EST",
    "Ihållande problem från EST": "ihållande problem från EST",
}


def _group_phrase(title: str, count: int) -> str:
    """``2 avstannade åtgärder`` or ``1 försenad uppgift``."""
    return f"{count} {title.lower() if count > 1 else _SINGULAR.get(title, title.lower())}"


def escalations_subject(notices: Sequence[EscalationNotice]) -> str:
    """One item: ``ESKALERING…: <its subject>``; several: ``ESKALERING…: 3 ärenden – 2 avstannade …``."""
    if len(notices) == 1:
        return escalation_subject(notices[0])
    counts: dict[str, int] = {}
    for group in group_escalations(notices):
        counts[group.title] = counts.get(group.title, 0) + len(group.items)
    parts = ", ".join(_group_phrase(title, count) for title, count in counts.items())
    top = max(notice.level for notice in notices)
    return shorten(f"{_level_prefix(top)}: {len(notices)} ärenden – {parts}", SUBJECT_LIMIT)


def render_escalations(
    recipient_name: str,
    as_of: date,
    notices: Sequence[EscalationNotice],
    *,
    link: str | None = None,
    coordinator: Contact | None = None,
) -> Rendered:
    """The day's ESKALERING digest for one person: every item once, grouped by level and cause; with
    the recipient's ``link`` to their page and the BRÅ-samordnare to reply to."""
    groups = group_escalations(notices)
    levels = sorted({group.level for group in groups}, reverse=True)
    context = {
        "recipient_name": recipient_name,
        "as_of": as_of,
        "count": len(notices),
        "groups": groups,
        "levels": levels,
        "to_management": levels[0] >= EscalationLevel.MANAGEMENT,
        "management_level": int(EscalationLevel.MANAGEMENT),
        "link": link,
        "coordinator": coordinator,
    }
    return Rendered(
        subject=escalations_subject(notices),
        text=render("notifications/escalation.txt.j2", **context),
        html=render("notifications/escalation.html.j2", **context),
    )


def render_escalation(
    recipient_name: str,
    notice: EscalationNotice,
    *,
    link: str | None = None,
    coordinator: Contact | None = None,
) -> Rendered:
    """A digest of one escalation: what stalled, since when, who answers for it, what was tried, the ask."""
    return render_escalations(recipient_name, notice.opened_on, [notice], link=link, coordinator=coordinator)


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


def escalation_digest_key(person_id: int, as_of: date) -> str:
    """``eskaleringar:<person>:<as_of>``: at most one ESKALERING digest per person and day."""
    return bounded_key(f"eskaleringar:{person_id}:{as_of.isoformat()}")


# ---------------------------------------------------------------------------------------------------
# The outbox


class Addressee(Protocol):
    """Whom a message goes to: a directory person, or the plain row a sweep loaded for one."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Planned:
    """A message to write (its column values) and the ids of the rows it carries."""

    message: dict[str, Any]
    recipient_name: str
    row_ids: Sequence[int]

    @property
    def key(self) -> str:
        return str(self.message["dedupe_key"])


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What every message to one kommun shares, and each recipient's personal link."""

    municipality_id: int
    moment: datetime
    coordinator: Contact | None = None
    links: Mapping[int, str] = field(default_factory=dict)


def _message(
    stamp: _Stamp, kind: MessageKind, key: str, person_id: int | None, rendered: Rendered
) -> dict[str, Any]:
    return new_message_row(
        municipality_id=stamp.municipality_id,
        dedupe_key=key,
        kind=kind,
        recipient_person_id=person_id,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        created_at=stamp.moment,
        reply_to=stamp.coordinator.email if stamp.coordinator else "",
    )


def _answer(kind: TaskKind, *, measure_id: int | None, linked: bool) -> str:
    """How to answer: on the person's page when the mail has a link, else by replying to the mail. A
    status report that names no measure cannot be given on the page: it is answered by mail."""
    if kind == TaskKind.STATUS_REPORT and measure_id is None:
        return OTHER_ANSWER_BY_MAIL
    if linked:
        return ANSWERS.get(kind, OTHER_ANSWER)
    return ANSWERS_BY_MAIL.get(kind, OTHER_ANSWER_BY_MAIL)


class _DigestTask(Protocol):
    """What a digest item reads of its task: a Task row, or the plain row a digest query loads."""

    @property
    def subject(self) -> str: ...
    @property
    def due_date(self) -> date: ...
    @property
    def kind(self) -> TaskKind: ...
    @property
    def measure_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class _TaskRow:
    id: int
    subject: str
    due_date: date
    kind: TaskKind
    measure_id: int | None


def _item(task: _DigestTask, as_of: date, *, linked: bool, is_new: bool = False) -> DigestItem:
    due = previous_working_day(task.due_date)
    measure_id = task.measure_id if task.kind == TaskKind.STATUS_REPORT else None
    return DigestItem(
        subject=task.subject,
        due_date=due,
        overdue_working_days=max(0, _late(due, as_of)),
        instruction=INSTRUCTIONS.get(task.kind, "Gör uppgiften."),
        answer=_answer(task.kind, measure_id=measure_id, linked=linked),
        measure_id=measure_id,
        is_new=is_new,
    )


@functools.lru_cache(maxsize=8192)
def _late(due: date, as_of: date) -> int:
    # Every digest of a day names the same few due dates.
    return working_days_between(due, as_of)


def _plan_digests(
    session: Session,
    municipality_ids: Sequence[int],
    as_of: date,
    people: _People,
    stamps: Mapping[int, _Stamp],
) -> list[_Planned]:
    """One digest per recipient of every untaken reminder of an open task: one query for all kommuner."""
    rows = session.execute(
        sa.select(
            col(Reminder.id),
            col(Reminder.recipient_person_id),
            col(Reminder.kind),
            col(Task.id),
            col(Task.subject),
            col(Task.due_date),
            col(Task.kind),
            col(Task.measure_id),
        )
        .join(Task, col(Task.id) == col(Reminder.task_id))
        .where(
            one_of(session, col(Reminder.municipality_id), municipality_ids),
            col(Reminder.outbox_message_id).is_(None),
            col(Reminder.recipient_person_id).is_not(None),
            col(Reminder.remind_on) <= as_of,
            col(Task.state) == TaskState.OPEN,
        )
        .order_by(col(Reminder.recipient_person_id), col(Reminder.id))
    )
    reminders: dict[int, list[int]] = defaultdict(list)
    tasks: dict[int, dict[int, _TaskRow]] = defaultdict(dict)
    new: dict[int, set[int]] = defaultdict(set)
    for reminder_id, person_id, reminder_kind, task_id, subject, due_date, task_kind, measure_id in rows:
        reminders[person_id].append(reminder_id)
        if task_id not in tasks[person_id]:
            tasks[person_id][task_id] = _TaskRow(task_id, subject, due_date, task_kind, measure_id)
        if reminder_kind == ReminderKind.NEW_TASK:
            new[person_id].add(task_id)
    planned: list[_Planned] = []
    for person_id, taken in reminders.items():
        person = people.get(person_id)
        if person is None:  # a person of another kommun: never mix kommuner in one message
            continue
        stamp = stamps[person.municipality_id]
        link = stamp.links.get(person_id)
        rendered = render_digest(
            person.name,
            as_of,
            [
                _item(task, as_of, linked=link is not None, is_new=task.id in new[person_id])
                for task in tasks[person_id].values()
            ],
            link=link,
            coordinator=stamp.coordinator,
        )
        message = _message(
            stamp, MessageKind.DIGEST, digest_key(person_id, as_of, min(taken)), person_id, rendered
        )
        planned.append(_Planned(message, person.name, taken))
    return planned


def _notice(escalation: Escalation, history: Sequence[str] = ()) -> EscalationNotice:
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
        reason=escalation.reason,
        history=tuple(history),
    )


def _subject_of(escalation: Escalation) -> tuple[str, int] | None:
    """What an escalation is about, for finding its earlier ones: a measure, an insats or a task."""
    if escalation.measure_id is not None:
        return ("measure", escalation.measure_id)
    if escalation.intervention_id is not None:
        return ("intervention", escalation.intervention_id)
    if escalation.task_id is not None:
        return ("task", escalation.task_id)
    return None


def _history_line(earlier: Escalation) -> str:
    state = (
        f"löst {swedish_date(earlier.resolved_on, 'D MMMM YYYY')}: {earlier.resolution}"
        if earlier.resolved_on is not None
        else "fortfarande öppen"
    )
    level = "kommunledningen" if earlier.level >= EscalationLevel.MANAGEMENT else "chef eller BRÅ-samordnare"
    return f"{swedish_date(earlier.opened_on, 'D MMMM YYYY')} till {level}: {earlier.subject} ({state})"


def _histories(session: Session, carried: Sequence[Escalation]) -> dict[int, list[str]]:
    """For each escalation, its kommun's earlier escalations of the same subject (any recipient, once
    per cause), oldest first, at most HISTORY_LISTED of the latest. A query per KEY_CHUNK subjects."""
    subjects = sorted({subject for escalation in carried if (subject := _subject_of(escalation)) is not None})
    by_subject: dict[tuple[str, int], list[Escalation]] = defaultdict(list)
    columns = {
        "measure": col(Escalation.measure_id),
        "intervention": col(Escalation.intervention_id),
        "task": col(Escalation.task_id),
    }
    kommuner = sorted({escalation.municipality_id for escalation in carried})
    for start in range(0, len(subjects), KEY_CHUNK):
        chunk = subjects[start : start + KEY_CHUNK]
        conditions = [
            one_of(session, column, ids)
            for kind, column in columns.items()
            if (ids := [key for subject_kind, key in chunk if subject_kind == kind])
        ]
        for earlier in session.exec(
            select(Escalation)
            .where(one_of(session, col(Escalation.municipality_id), kommuner), sa.or_(*conditions))
            .order_by(col(Escalation.opened_on), col(Escalation.id))
        ):
            subject = _subject_of(earlier)
            if subject is not None:
                by_subject[subject].append(earlier)
    found: dict[int, list[str]] = {}
    for escalation in carried:
        subject = _subject_of(escalation)
        if subject is None:
            continue
        lines: list[str] = []
        seen: set[tuple[str, int]] = set()
        for earlier in by_subject.get(subject, []):
            # One line per cause and level, not per recipient; today's items are not history.
            if earlier.municipality_id != escalation.municipality_id:
                continue
            cause = (earlier.dedupe_key.rsplit(":", 1)[0], earlier.level)
            if earlier.opened_on >= escalation.opened_on or cause in seen:
                continue
            seen.add(cause)
            lines.append(_history_line(earlier))
        found[escalation.id or 0] = lines[-HISTORY_LISTED:]
    return found


def _plan_escalations(
    session: Session,
    municipality_ids: Sequence[int],
    as_of: date,
    people: _People,
    stamps: Mapping[int, _Stamp],
) -> list[_Planned]:
    """One ESKALERING digest per recipient of the open, untaken escalations."""
    escalations = list(
        session.exec(
            select(Escalation)
            .where(
                one_of(session, col(Escalation.municipality_id), municipality_ids),
                col(Escalation.outbox_message_id).is_(None),
                col(Escalation.resolved_on).is_(None),
                col(Escalation.recipient_person_id).is_not(None),
                col(Escalation.opened_on) <= as_of,
            )
            .order_by(col(Escalation.id))
        )
    )
    by_person: dict[int, list[Escalation]] = defaultdict(list)
    for escalation in escalations:
        person = people.get(escalation.recipient_person_id or 0)
        # Never a person of another kommun than the escalation's.
        if person is not None and person.municipality_id == escalation.municipality_id:
            by_person[person.id].append(escalation)
    keys = {person_id: escalation_digest_key(person_id, as_of) for person_id in by_person}
    # A person who already has today's digest hears of the rest on the next working day.
    sent_today: set[str] = set()
    ordered = sorted(keys.values())
    for start in range(0, len(ordered), KEY_CHUNK):
        sent_today.update(message_ids_by_key(session, ordered[start : start + KEY_CHUNK]))
    carried = [
        row for person_id, rows in by_person.items() if keys[person_id] not in sent_today for row in rows
    ]
    histories = _histories(session, carried) if carried else {}
    planned: list[_Planned] = []
    for person_id, rows in by_person.items():
        if keys[person_id] in sent_today:
            continue
        person = people[person_id]
        stamp = stamps[person.municipality_id]
        notices = [_notice(row, histories.get(row.id or 0, ())) for row in rows]
        rendered = render_escalations(
            person.name, as_of, notices, link=stamp.links.get(person_id), coordinator=stamp.coordinator
        )
        message = _message(stamp, MessageKind.ESCALATION, keys[person_id], person_id, rendered)
        planned.append(_Planned(message, person.name, [row.id or 0 for row in rows]))
    return planned


def _link(session: Session, table: type[Reminder | Escalation], planned: Sequence[_Planned]) -> None:
    """Point every carried row at the message its key names, unless some message already took it: one
    UPDATE … FROM over (row, message) pairs (``models.records.fill_once``)."""
    keys = [item.key for item in planned]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), KEY_CHUNK):
        ids.update(message_ids_by_key(session, keys[start : start + KEY_CHUNK]))
    carried = {row_id: ids[item.key] for item in planned for row_id in item.row_ids}
    core: sa.Table = table.__table__  # type: ignore[union-attr]
    fill_once(session, core, "outbox_message_id", carried)
    if carried:
        # Rows this session holds were loaded before the UPDATE: read the column again when next asked.
        for instance in list(session.identity_map.values()):
            if isinstance(instance, table) and instance.id in carried:
                session.expire(instance, ["outbox_message_id"])


def _write(
    session: Session, table: type[Reminder | Escalation], planned: Sequence[_Planned], as_of: date
) -> list[Event]:
    inserted = insert_values(session, OutboxMessage, [item.message for item in planned], key="dedupe_key")
    _link(session, table, planned)
    return [
        Event(as_of, EVENT_KIND, str(item.message["subject"]), item.recipient_name)
        for item in planned
        if item.key in inserted
    ]


# ---------------------------------------------------------------------------------------------------
# The adoption summary


@dataclass(frozen=True, slots=True)
class LateMeasure:
    """A measure already late when its plan was taken into use: listed once, never escalated."""

    measure_id: int
    title: str
    since: date
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdoptionSummary:
    """What the coordinator is told once about a plan taken into use."""

    municipality_id: int
    plan_id: int
    plan_title: str
    adopted_on: date
    as_of: date
    moment: datetime
    recipient: Addressee
    late: Sequence[LateMeasure]
    organisations_without_contact: Sequence[tuple[str, int]]  # name, measures naming it


def adoption_summary_key(plan_id: int, adopted_on: date) -> str:
    """``i-bruk:<plan>:<adoption day>``: one summary per plan and adoption."""
    return f"i-bruk:{plan_id}:{adopted_on.isoformat()}"


def render_adoption_summary(summary: AdoptionSummary) -> Rendered:
    """The summary's subject and bodies."""
    late = len(summary.late)
    parts = []
    if late:
        parts.append(f"{_plural(late, 'åtgärd', 'åtgärder')} redan försenade när planen togs i bruk")
    if summary.organisations_without_contact:
        count = len(summary.organisations_without_contact)
        parts.append(f"{_plural(count, 'organisation', 'organisationer')} utan kontaktperson")
    context = {"summary": summary}
    return Rendered(
        subject=shorten(f"Samordna: {summary.plan_title} – " + ", ".join(parts), SUBJECT_LIMIT),
        text=render("notifications/adoption.txt.j2", **context),
        html=render("notifications/adoption.html.j2", **context),
    )


def enqueue_adoption_summary(session: Session, summary: AdoptionSummary) -> Event | None:
    """Write the summary to the coordinator unless it was written before or has nothing to say."""
    if not summary.late and not summary.organisations_without_contact:
        return None
    key = adoption_summary_key(summary.plan_id, summary.adopted_on)
    if message_ids_by_key(session, [key]):
        return None
    rendered = render_adoption_summary(summary)
    stamp = _Stamp(summary.municipality_id, summary.moment)
    message = _message(stamp, MessageKind.SUMMARY, key, summary.recipient.id, rendered)
    if not insert_values(session, OutboxMessage, [message], key="dedupe_key"):
        return None
    return Event(summary.as_of, EVENT_KIND, rendered.subject, summary.recipient.name)


class _FromSettings:
    """The default of ``enqueue_messages(links=…)``: the link maker of the process's settings."""


FROM_SETTINGS = _FromSettings()


def _settings_link_maker() -> LinkMaker | None:
    """The process's link maker; a misconfigured secret is logged and the mails go without links, so
    a setting of the web app never stops the reminders."""
    try:
        return LinkMaker.from_settings(get_settings())
    except WebSecretError as error:
        logger.error("personliga länkar skapas inte: %s", error)  # noqa: TRY400 - the message says it all
        return None


_People = dict[int, PersonRow]


def _coordinators(people: _People) -> dict[int, Contact]:
    """Each kommun's BRÅ-samordnare (models.responsibility.bra_coordinator: the first by name)."""
    found: dict[int, Contact] = {}
    for person in people.values():
        if COORDINATOR_ROLE in person.roles and person.municipality_id not in found:
            found[person.municipality_id] = Contact(person.name, person.email)
    return found


def _recipients(session: Session, municipality_ids: Sequence[int], as_of: date) -> list[int]:
    """The persons the call will write to: untaken reminders of open tasks and open escalations."""
    reminded: sa.Select[tuple[int | None]] = (
        sa.select(col(Reminder.recipient_person_id).label("person_id"))
        .join(Task, col(Task.id) == col(Reminder.task_id))
        .where(
            one_of(session, col(Reminder.municipality_id), municipality_ids),
            col(Reminder.outbox_message_id).is_(None),
            col(Reminder.recipient_person_id).is_not(None),
            col(Reminder.remind_on) <= as_of,
            col(Task.state) == TaskState.OPEN,
        )
    )
    escalated: sa.Select[tuple[int | None]] = sa.select(
        col(Escalation.recipient_person_id).label("person_id")
    ).where(
        one_of(session, col(Escalation.municipality_id), municipality_ids),
        col(Escalation.outbox_message_id).is_(None),
        col(Escalation.resolved_on).is_(None),
        col(Escalation.recipient_person_id).is_not(None),
        col(Escalation.opened_on) <= as_of,
    )
    found = session.execute(sa.union(reminded, escalated)).scalars()
    return sorted({person_id for person_id in found if person_id is not None})


def enqueue_messages(
    session: Session,
    municipality: Municipality,
    as_of: date,
    *,
    links: LinkMaker | _FromSettings | None = FROM_SETTINGS,
) -> list[Event]:
    """Write the day's digests and escalation messages for one kommun (see the module docstring).

    Does nothing on a non-working day, as the daily sweep does. Never commits; flushes. The messages
    are stamped (created, first due for delivery) at the daily sweep's time on ``as_of``. ``links``
    makes the recipients' personal links (default: from the settings; None: no links).
    """
    return enqueue_messages_for(session, [municipality], as_of, links=links)


def enqueue_messages_for(
    session: Session,
    municipalities: Sequence[Municipality],
    as_of: date,
    *,
    links: LinkMaker | _FromSettings | None = FROM_SETTINGS,
    people: Sequence[PersonRow] | None = None,
) -> list[Event]:
    """``enqueue_messages`` for many kommuner at once, in a fixed number of statements whatever their
    number (a query per kind of row, one multi-row INSERT of the messages, one UPDATE … FROM linking the
    rows they carry); only the texts are rendered one by one."""
    if not is_working_day(as_of) or not municipalities:
        return []
    session.flush()
    municipality_ids = [municipality.id or 0 for municipality in municipalities]
    found = person_rows(session, municipality_ids) if people is None else people
    by_id: _People = {person.id: person for person in found}
    moments = {
        municipality.id or 0: moment_of(as_of, rhythm_from_json(municipality.rhythm).daily_sweep_time)
        for municipality in municipalities
    }
    maker = _settings_link_maker() if isinstance(links, _FromSettings) else links
    recipients = [
        person_id for person_id in _recipients(session, municipality_ids, as_of) if person_id in by_id
    ]
    made: dict[int, str] = {}
    if maker is not None:
        by_moment: dict[datetime, dict[int, int]] = defaultdict(dict)
        for person_id in recipients:
            kommun = by_id[person_id].municipality_id
            by_moment[moments[kommun]][person_id] = kommun
        for moment, persons in by_moment.items():
            made.update(personal_links_of(session, maker, persons, moment))
    coordinators = _coordinators(by_id)
    stamps = {
        municipality_id: _Stamp(municipality_id, moment, coordinators.get(municipality_id), made)
        for municipality_id, moment in moments.items()
    }
    digests = _plan_digests(session, municipality_ids, as_of, by_id, stamps)
    escalations = _plan_escalations(session, municipality_ids, as_of, by_id, stamps)
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
    # The merged digest carries what the ones it replaces carried: the link and the coordinator.
    maker = _settings_link_maker()
    coordinator = bra_coordinator(session, digests[0].municipality_id)
    links = personal_links(session, maker, digests[0].municipality_id, [person.id or 0], now) if maker else {}
    link = links.get(person.id or 0)
    rendered = render_digest(
        person.name,
        as_of,
        [_item(task, as_of, linked=link is not None) for task in tasks.values()],
        link=link,
        coordinator=Contact(coordinator.name, coordinator.email) if coordinator is not None else None,
    )
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
        reply_to=digests[0].reply_to,
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
