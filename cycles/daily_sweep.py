"""The daily sweep (daglig kontroll): reminders, escalation of overdue tasks and of stalled measures.

Runs on working days at 07:00 Europe/Stockholm. On a non-working day it does nothing and returns [].
On a working day ``as_of`` it does, in this order:

1. **Close answered tasks.** An open STATUS_REPORT task is answered when its measure has a
   StatusReport with ``due_date - ANSWER_WINDOW_DAYS <= reported_on <= as_of``. An open
   INTERVENTION_FOLLOW_UP task (key ``insats:<intervention id>:…``) is answered when its insats is no
   longer open on ``as_of``. Answered tasks become DONE with ``closed_at`` = ``as_of`` at the sweep
   time (``rhythm.daily_sweep_time``, 07:00) in Europe/Stockholm, stored as aware UTC.
2. **Notice and reminders.** An open task with an assignee person that has had no reminder yet gets
   a NEW_TASK notice ("ny uppgift", with its deadline) on the first working day on or after the day it
   was created: the ansvarig hears of a task when it opens, not three days before it is due. (Cycles
   stamp ``created_at`` from their ``as_of``, so a retried or simulated run decides the same.) After
   that the ladder (``rhythm.reminders``; N = before_due_working_days, M = overdue_every_working_days),
   for each open task with an assignee person, with ``due`` = the due date moved back to a working day:
   BEFORE_DUE on ``add_working_days(due, -N)`` (not when N is 0), DUE_DAY on ``due`` (when
   ``on_due_day``), OVERDUE on due + M, due + 2M, … working days. Key ``påminnelse:<task>:<as_of>``.
   A task without an assignee person gets no reminder (nobody to send it to); instead it is escalated at
   level 1 to the BRÅ-samordnare from the first working day after its due date (see 3).
3. **Overdue tasks.** ``late = working_days_between(due, as_of)``. late >= level_1_working_days (or
   late >= 1 for a task without an assignee) → level 1 to the assignee's chef, or the BRÅ-samordnare
   when no chef is known; late >= level_2_working_days → level 2 to every person in kommunledningen,
   one row per recipient. Key ``eskalering:uppgift:<task>:L<level>:<recipient>``, cause_since = the
   due date.
4. **Stalled measures → level 2 (kommunledningen)**, thresholds from ``rhythm.escalation.stalled``.
   Only measures that are not finished count: a measure is finished when its status, or the status of
   its latest report on or before ``as_of``, is genomförd or avbruten. Reports dated after ``as_of``
   have not happened yet as seen from ``as_of`` and are ignored (so catch-up runs judge each day by
   what was known that day).

   - MISSED_FOLLOW_UPS: the measure's STATUS_REPORT tasks due before ``as_of`` (cancelled ones left
     out: a withdrawn request is nobody's omission), newest first; the unbroken run of not-DONE ones
     at the newest end is at least K = missed_follow_ups long.
   - DELAYED_REPORTS: the unbroken run of status försenad at the newest end of its reports (by
     reported_on) is at least K = delayed_reports_in_row long.
   - REPORTED_STALLED: its latest report has status avstannad.
   - PAST_END_DATE: period_end is set and working_days_between(period_end, as_of) >=
     past_end_grace_working_days; cause_since = period_end.
   - INTERVENTION_OVERDUE: an insats open on ``as_of`` with working_days_between(due_date, as_of) >=
     intervention_overdue_working_days; cause_since = its due date; intervention_id set.

   For the three run rules cause_since is the first day of the run (the due date of its earliest
   task, the reported_on of its earliest report). When the run is exactly K long that is the K-th
   last, as the issue states; when the measure keeps stalling the run grows but its start does not
   move, so the escalation stays the same open one instead of being resolved and reopened every
   follow-up round. Key ``eskalering:<reason>:<measure or insats>:<cause_since>:L2:<recipient>``.
5. **Auto-resolve.** The sweep knows the key of every escalation its rules hold for on ``as_of``; every
   open escalation opened on or before ``as_of`` whose key is not among them gets ``resolved_on =
   as_of`` and a Swedish resolution. A cause that returns later has a new cause_since, hence a new key,
   hence a new escalation. (A task's key has no cause_since: an escalation of a task that was closed
   and reopened is not raised again.)

Recipients: level 1 is the assignee's chef, else the BRÅ-samordnare; level 2 is every person with the
role kommunledning, else the BRÅ-samordnare; when nobody fits, one row without a recipient
(``ingen`` in the key) still records the escalation.

**Set-based, for many kommuner at once** (``sweep_kommuner``; ``run_daily_sweep`` is the same for one).
The national run sweeps a chunk of kommuner in one transaction with a fixed number of statements,
whatever the number of kommuner and tasks: their state is read in a handful of queries (plain columns,
no ORM objects), the rules above decide in Python (one implementation, shared with the single-kommun
path, and per kommun with its own rhythm and directory), and the writes are set statements on the unique
keys: one conditional UPDATE closes every answered task (``WHERE id IN … AND state = öppen``), one
multi-row INSERT … ON CONFLICT DO NOTHING writes the reminders (RETURNING says which this call
inserted), the escalations likewise, and one UPDATE resolves the escalations whose cause is gone. So a
second sweep for the same day, or two sweeps at once, change nothing and report no events, and a sweep
killed mid-run leaves nothing (one transaction).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from core.clock import moment_of
from core.text import shorten, swedish_date
from models.directory import Person, PersonRow, person_rows
from models.enums import FINISHED_STATUSES, MeasureStatus
from models.escalation import Escalation, EscalationLevel, EscalationReason
from models.est import Intervention, InterventionState
from models.municipality import Municipality
from models.outbox import message_ids_by_key
from models.plan import ActionPlan, Measure, StatusReport, organisations_without_contact_by_plan
from models.records import Event, in_list, insert_values, one_of, prepared
from models.responsibility import COORDINATOR_ROLE, MANAGEMENT_ROLE, responsible_persons
from models.rhythm import ReminderLadder, Rhythm, StalledRules, rhythm_from_json
from models.task import Reminder, ReminderKind, Task, TaskKind, TaskState
from models.working_days import add_working_days, is_working_day, previous_working_day, working_days_between
from notifications.compose import (
    AdoptionSummary,
    LateMeasure,
    adoption_summary_key,
    enqueue_adoption_summary,
    enqueue_messages_for,
)

__all__ = [
    "ANSWER_WINDOW_DAYS",
    "StallCause",
    "intervention_id_from_key",
    "intervention_stall",
    "is_answered",
    "measure_is_finished",
    "measure_stalls",
    "reminder_kind_on",
    "run_daily_sweep",
    "sweep_and_notify",
    "sweep_and_notify_kommuner",
    "sweep_kommuner",
    "sweep_moment",
]

# A status report answers a task when it was made at most this many days before the task's due date.
# Follow-up tasks are created about a month before they are due (rhythm skapa_dagar_fore, default 30),
# and people often answer as soon as they see them; an older report belongs to the previous round,
# which lies about half a year back (a quarter at the shortest rhythm), so 60 days separates the two.
ANSWER_WINDOW_DAYS = 60


NO_RECIPIENT = "ingen"
TITLE_LIMIT = 120
DATES_LISTED = 8
SUBJECT_LIMIT = 1000
DETAIL_LIMIT = 2000
# Keys and ids looked up per IN (...) query: far below SQLite's and PostgreSQL's limits on parameters.
KEY_CHUNK = 2000


def sweep_moment(as_of: date, at: time = time(7, 0)) -> datetime:
    """``as_of`` at the sweep's local time in Europe/Stockholm, as an aware UTC datetime."""
    return moment_of(as_of, at)


def intervention_id_from_key(idempotency_key: str) -> int | None:
    """The insats id in a task key ``insats:<id>:…``, or None when the key has another shape."""
    parts = idempotency_key.split(":")
    if len(parts) >= 2 and parts[0] == "insats" and parts[1].isdigit():  # noqa: PLR2004 - prefix and id
        return int(parts[1])
    return None


# ---------------------------------------------------------------------------------------------------
# What the rules read. ORM rows (Task, Measure, …) fit these, and so do the plain rows the sweep loads.


class TaskFacts(Protocol):
    @property
    def kind(self) -> TaskKind: ...
    @property
    def due_date(self) -> date: ...
    @property
    def state(self) -> TaskState: ...
    @property
    def measure_id(self) -> int | None: ...


class ReportFacts(Protocol):
    @property
    def measure_id(self) -> int: ...
    @property
    def reported_on(self) -> date: ...
    @property
    def status(self) -> MeasureStatus: ...


class MeasureFacts(Protocol):
    @property
    def status(self) -> MeasureStatus: ...
    @property
    def period_end(self) -> date | None: ...


class InterventionFacts(Protocol):
    @property
    def state(self) -> InterventionState: ...
    @property
    def closed_on(self) -> date | None: ...
    @property
    def due_date(self) -> date: ...


def _intervention_open_on(intervention: InterventionFacts, day: date) -> bool:
    """Whether the insats was open on ``day``: a closing dated later had not happened yet."""
    if intervention.state == InterventionState.OPEN:
        return True
    return intervention.closed_on is not None and intervention.closed_on > day


def is_answered(
    task: TaskFacts,
    *,
    reports: Sequence[ReportFacts],
    intervention: InterventionFacts | None,
    as_of: date,
) -> bool:
    """Whether an open task has been answered on ``as_of``.

    ``reports`` are the task's measure's status reports; ``intervention`` is the insats its key names.
    A STATUS_REPORT task is answered by a report made from ANSWER_WINDOW_DAYS before its due date up
    to ``as_of``; an INTERVENTION_FOLLOW_UP task when its insats is no longer open. Other kinds are
    closed by people, never by the sweep.
    """
    if task.kind == TaskKind.STATUS_REPORT:
        earliest = task.due_date - timedelta(days=ANSWER_WINDOW_DAYS)
        return task.measure_id is not None and any(
            report.measure_id == task.measure_id and earliest <= report.reported_on <= as_of
            for report in reports
        )
    if task.kind == TaskKind.INTERVENTION_FOLLOW_UP:
        return intervention is not None and not _intervention_open_on(intervention, as_of)
    return False


def reminder_kind_on(due: date, day: date, ladder: ReminderLadder) -> ReminderKind | None:
    """Which reminder of the ladder falls on ``day`` for a task due on ``due``, if any.

    ``due`` is first moved back to a working day, as every due date is.
    """
    due = previous_working_day(due)
    if day == due:
        return ReminderKind.DUE_DAY if ladder.on_due_day else None
    if day < due:
        before = ladder.before_due_working_days
        if before > 0 and day == previous_working_day(add_working_days(due, -before)):
            return ReminderKind.BEFORE_DUE
        return None
    late = working_days_between(due, day)
    if is_working_day(day) and late % ladder.overdue_every_working_days == 0:
        return ReminderKind.OVERDUE
    return None


@functools.lru_cache(maxsize=8192)
def _ladder_kind(due: date, day: date, ladder: ReminderLadder) -> ReminderKind | None:
    # Thousands of tasks share a handful of due dates: the ladder is computed once per date and rhythm.
    return reminder_kind_on(due, day, ladder)


@functools.lru_cache(maxsize=8192)
def _late(due: date, day: date) -> int:
    return working_days_between(due, day)


@dataclass(frozen=True, slots=True)
class StallCause:
    """Why a measure or insats counts as stalled on a day, and since when."""

    reason: EscalationReason
    since: date
    count: int  # tasks or reports in the run; working days late for the date rules


def _trailing_run(flags: Sequence[bool]) -> int:
    """How many of the last ``flags`` are True in an unbroken run."""
    run = 0
    for flag in reversed(flags):
        if not flag:
            break
        run += 1
    return run


def measure_is_finished(measure: MeasureFacts, reports: Sequence[ReportFacts]) -> bool:
    """Genomförd or avbruten, by the measure's status or by its latest report."""
    return measure.status in FINISHED_STATUSES or bool(reports and reports[-1].status in FINISHED_STATUSES)


def measure_stalls(
    measure: MeasureFacts,
    *,
    status_tasks: Sequence[TaskFacts],
    reports: Sequence[ReportFacts],
    rules: StalledRules,
    as_of: date,
) -> list[StallCause]:
    """The stalled rules that hold for ``measure`` on ``as_of`` (see the module docstring).

    ``status_tasks`` are its STATUS_REPORT tasks and ``reports`` its reports on or before ``as_of``,
    both oldest first.
    """
    if measure_is_finished(measure, reports):
        return []
    causes: list[StallCause] = []
    asked = [task for task in status_tasks if task.due_date < as_of and task.state != TaskState.CANCELLED]
    missed = _trailing_run([task.state != TaskState.DONE for task in asked])
    if missed and missed >= rules.missed_follow_ups:
        causes.append(StallCause(EscalationReason.MISSED_FOLLOW_UPS, asked[-missed].due_date, missed))
    delayed = _trailing_run([report.status == MeasureStatus.DELAYED for report in reports])
    if delayed and delayed >= rules.delayed_reports_in_row:
        causes.append(StallCause(EscalationReason.DELAYED_REPORTS, reports[-delayed].reported_on, delayed))
    stalled = _trailing_run([report.status == MeasureStatus.STALLED for report in reports])
    if stalled:
        causes.append(StallCause(EscalationReason.REPORTED_STALLED, reports[-stalled].reported_on, stalled))
    if measure.period_end is not None:
        late = working_days_between(measure.period_end, as_of)
        if late >= rules.past_end_grace_working_days:
            causes.append(StallCause(EscalationReason.PAST_END_DATE, measure.period_end, late))
    return causes


def intervention_stall(
    intervention: InterventionFacts, *, rules: StalledRules, as_of: date
) -> StallCause | None:
    """INTERVENTION_OVERDUE when the insats is open and its due date lies far enough behind."""
    if not _intervention_open_on(intervention, as_of):
        return None
    late = working_days_between(intervention.due_date, as_of)
    if late < rules.intervention_overdue_working_days:
        return None
    return StallCause(EscalationReason.INTERVENTION_OVERDUE, intervention.due_date, late)


# ---------------------------------------------------------------------------------------------------
# Text people read


@functools.lru_cache(maxsize=4096)
def _long_date(value: date) -> str:
    """``tisdag 12 maj 2026``; cached, since pendulum loads the time zone for every call and a sweep
    writes the same few due dates thousands of times."""
    return swedish_date(value)


@functools.lru_cache(maxsize=4096)
def _day(value: date) -> str:
    """``12 maj 2026``, for lists of dates."""
    return swedish_date(value, "D MMMM YYYY")


@functools.lru_cache(maxsize=65536)
def _title(text: str) -> str:
    # A national sweep names each of thousands of measures; their titles repeat from day to day.
    return shorten(text, TITLE_LIMIT)


def _dates(days: Sequence[date]) -> str:
    listed = [_day(day) for day in days[-DATES_LISTED:]]
    return ("…, " if len(days) > DATES_LISTED else "") + ", ".join(listed)


def _count(items: Sequence[object], one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


class _Named(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...


def _name(person: _Named | None) -> str:
    return person.name if person is not None else ""


def _recipient_part(person: _Named | None) -> str:
    return str(person.id) if person is not None else NO_RECIPIENT


# ---------------------------------------------------------------------------------------------------
# The rows the sweep reads: plain values from a few queries, no ORM objects


@dataclass(frozen=True, slots=True)
class _TaskRow:
    id: int
    municipality_id: int
    kind: TaskKind
    subject: str
    due_date: date
    state: TaskState
    assignee_person_id: int | None
    measure_id: int | None
    idempotency_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _StatusTaskRow:
    id: int
    measure_id: int
    due_date: date
    state: TaskState
    kind: TaskKind = TaskKind.STATUS_REPORT


@dataclass(frozen=True, slots=True)
class _MeasureRow:
    id: int
    municipality_id: int
    plan_id: int
    status: MeasureStatus
    period_end: date | None
    title: str
    raw_responsible: str


@dataclass(frozen=True, slots=True)
class _ReportRow:
    id: int
    measure_id: int
    reported_on: date
    status: MeasureStatus


@dataclass(frozen=True, slots=True)
class _InterventionRow:
    id: int
    municipality_id: int
    title: str
    area: str
    responsible_person_id: int | None
    due_date: date
    state: InterventionState
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class _EscalationRow:
    id: int
    municipality_id: int
    level: int
    reason: EscalationReason
    subject: str
    task_id: int | None
    measure_id: int | None
    intervention_id: int | None
    recipient_person_id: int | None
    cause_since: date
    opened_on: date
    dedupe_key: str


def _chunks(values: Sequence[Any], size: int = KEY_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------------------------------
# The kommun's people, loaded once


@dataclass(frozen=True, slots=True)
class _Directory:
    """A kommun's persons; mirrors models.responsibility's look-ups without a query per call."""

    by_id: dict[int, PersonRow]
    in_order: list[PersonRow]  # by name, in the database's order, as models.responsibility sees them

    @classmethod
    def load(cls, session: Session, municipality_id: int) -> _Directory:
        return _directories(person_rows(session, [municipality_id]), [municipality_id])[municipality_id]

    def person(self, person_id: int | None) -> PersonRow | None:
        return self.by_id.get(person_id) if person_id is not None else None

    def with_role(self, role: str) -> list[PersonRow]:
        return [person for person in self.in_order if role in person.roles]

    def coordinator(self) -> PersonRow | None:
        found = self.with_role(COORDINATOR_ROLE)
        return found[0] if found else None

    def manager_or_coordinator(self, person_id: int | None) -> PersonRow | None:
        person = self.person(person_id)
        if person is not None and person.manager_id is not None:
            manager = self.person(person.manager_id)
            if manager is not None:
                return manager
        return self.coordinator()

    def management_or_coordinator(self) -> list[PersonRow | None]:
        found: list[PersonRow | None] = list(self.with_role(MANAGEMENT_ROLE))
        return found or [self.coordinator()]


def _directories(people: Sequence[PersonRow], municipality_ids: Sequence[int]) -> dict[int, _Directory]:
    """Each kommun's directory from its persons (``models.directory.person_rows``: by kommun and name)."""
    by_kommun: dict[int, list[PersonRow]] = {municipality_id: [] for municipality_id in municipality_ids}
    for person in people:
        by_kommun[person.municipality_id].append(person)
    return {
        municipality_id: _Directory({person.id: person for person in rows}, rows)
        for municipality_id, rows in by_kommun.items()
    }


# ---------------------------------------------------------------------------------------------------
# The sweep's state


@dataclass(frozen=True, slots=True)
class _Kommun:
    """What the sweep knows of one kommun: its rhythm, its sweep moment, its people, its adoption."""

    id: int
    rhythm: Rhythm
    moment: datetime
    directory: _Directory
    adopted_on: date | None


@dataclass
class _Sweep:
    session: Session
    as_of: date
    kommuner: dict[int, _Kommun]
    measures: dict[int, _MeasureRow]
    interventions: dict[int, _InterventionRow]
    reports: dict[int, list[_ReportRow]]
    open_tasks: list[_TaskRow]
    open_escalations: list[_EscalationRow]
    people: list[PersonRow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Escalations decided but not yet written: inserted in batches by _write_escalations.
    pending: list[tuple[dict[str, Any], _Planned]] = field(default_factory=list)
    # The keys of every escalation whose cause holds on as_of: the rest of the open ones are resolved.
    holding: set[str] = field(default_factory=set)
    # Adoption: each plan's day (the kommun's is on _Kommun); a cause that began before it raises no
    # escalation.
    plan_adopted_on: dict[int, date | None] = field(default_factory=dict)
    plan_titles: dict[int, str] = field(default_factory=dict)
    plan_kommun: dict[int, int] = field(default_factory=dict)
    # Causes the rules hold for but that began before adoption: for the coordinator's summary.
    before_adoption: list[_Planned] = field(default_factory=list)

    @property
    def municipality_ids(self) -> list[int]:
        return list(self.kommuner)

    def directory(self, municipality_id: int) -> _Directory:
        return self.kommuner[municipality_id].directory

    def adopted_on(self, item: _Planned) -> date | None:
        """The adoption day that applies to a planned escalation: its measure's plan's, else the kommun's."""
        measure = item.measure
        if measure is None and item.task is not None and item.task.measure_id is not None:
            measure = self.measures.get(item.task.measure_id)
        if measure is not None and self.plan_adopted_on.get(measure.plan_id) is not None:
            return self.plan_adopted_on[measure.plan_id]
        return self.kommuner[item.municipality_id].adopted_on

    def task_phrase(self, task: _TaskRow) -> str:
        """What the task asks, as a phrase: 'statusrapport för "<åtgärd>"'."""
        measure = self.measures.get(task.measure_id) if task.measure_id is not None else None
        if task.kind == TaskKind.STATUS_REPORT and measure is not None:
            return f'statusrapport för "{_title(measure.title)}"'
        intervention_id = intervention_id_from_key(task.idempotency_key)
        intervention = self.interventions.get(intervention_id) if intervention_id is not None else None
        if task.kind == TaskKind.INTERVENTION_FOLLOW_UP and intervention is not None:
            return f'uppföljning av insatsen "{_title(intervention.title)}"'
        return f'"{_title(task.subject)}"'


def _table(model: type[SQLModel]) -> sa.Table:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


# The sweep's reads, prepared once per kind of database (models.records.prepared): a simulated year runs
# them five hundred times for one kommun, a national run once for thirty.


@prepared
def _reports_query(dialect: str) -> sa.Select[Any]:
    t = _table(StatusReport)
    return (
        sa.select(t.c.id, t.c.measure_id, t.c.reported_on, t.c.status)
        .where(in_list(t.c.municipality_id, "kommuner", dialect), t.c.reported_on <= sa.bindparam("as_of"))
        .order_by(t.c.measure_id, t.c.reported_on, t.c.id)
    )


@prepared
def _measures_query(dialect: str) -> sa.Select[Any]:
    t = _table(Measure)
    return sa.select(
        t.c.id, t.c.municipality_id, t.c.plan_id, t.c.status, t.c.period_end, t.c.title, t.c.raw_responsible
    ).where(in_list(t.c.municipality_id, "kommuner", dialect))


@prepared
def _interventions_query(dialect: str) -> sa.Select[Any]:
    t = _table(Intervention)
    return sa.select(
        t.c.id,
        t.c.municipality_id,
        t.c.title,
        t.c.area,
        t.c.responsible_person_id,
        t.c.due_date,
        t.c.state,
        t.c.closed_on,
    ).where(in_list(t.c.municipality_id, "kommuner", dialect))


def _task_columns() -> list[sa.Column[Any]]:
    """_TaskRow's columns, in its order."""
    t = _table(Task)
    return [t.c[name] for name in _TaskRow.__dataclass_fields__]


@prepared
def _open_tasks_query(dialect: str) -> sa.Select[Any]:
    t = _table(Task)
    return (
        sa.select(*_task_columns())
        .where(in_list(t.c.municipality_id, "kommuner", dialect), t.c.state == TaskState.OPEN)
        .order_by(t.c.due_date, t.c.id)
    )


@prepared
def _tasks_by_id_query(dialect: str) -> sa.Select[Any]:
    return sa.select(*_task_columns()).where(in_list(_table(Task).c.id, "ids", dialect))


@prepared
def _plans_query(dialect: str) -> sa.Select[Any]:
    t = _table(ActionPlan)
    return (
        sa.select(t.c.id, t.c.municipality_id, t.c.adopted_on, t.c.title)
        .where(in_list(t.c.municipality_id, "kommuner", dialect))
        .order_by(t.c.id)
    )


@prepared
def _open_escalations_query(dialect: str) -> sa.Select[Any]:
    t = _table(Escalation)
    return (
        sa.select(
            t.c.id,
            t.c.municipality_id,
            t.c.level,
            t.c.reason,
            t.c.subject,
            t.c.task_id,
            t.c.measure_id,
            t.c.intervention_id,
            t.c.recipient_person_id,
            t.c.cause_since,
            t.c.opened_on,
            t.c.dedupe_key,
        )
        .where(
            in_list(t.c.municipality_id, "kommuner", dialect),
            t.c.resolved_on.is_(None),
            # A persisting EST problem is raised and resolved by the EST cycle (cycles/est_situation.py).
            t.c.reason != EscalationReason.PERSISTING_PROBLEM,
        )
        .order_by(t.c.opened_on, t.c.id)
    )


@prepared
def _reminder_history_query(dialect: str) -> sa.Select[Any]:
    reminder, task = _table(Reminder), _table(Task)
    return (
        sa.select(
            reminder.c.task_id,
            sa.func.max(sa.case((reminder.c.remind_on == sa.bindparam("as_of"), 1), else_=0)),
        )
        .join(task, task.c.id == reminder.c.task_id)
        .where(in_list(reminder.c.municipality_id, "kommuner", dialect), task.c.state == TaskState.OPEN)
        .group_by(reminder.c.task_id)
    )


@prepared
def _status_tasks_query(dialect: str) -> sa.Select[Any]:
    t = _table(Task)
    return (
        sa.select(t.c.id, t.c.measure_id, t.c.due_date, t.c.state)
        .where(
            in_list(t.c.municipality_id, "kommuner", dialect),
            t.c.kind == TaskKind.STATUS_REPORT,
            t.c.measure_id.is_not(None),
            t.c.due_date < sa.bindparam("as_of"),
        )
        .order_by(t.c.due_date, t.c.id)
    )


@prepared
def _escalation_keys_query(dialect: str) -> sa.Select[Any]:
    t = _table(Escalation)
    return sa.select(t.c.dedupe_key).where(in_list(t.c.dedupe_key, "keys", dialect))


def _load(session: Session, municipality: Municipality, as_of: date) -> _Sweep:
    """The sweep's state for one kommun (``_load_many`` for one)."""
    return _load_many(session, [municipality], as_of)


def _load_many(session: Session, municipalities: Sequence[Municipality], as_of: date) -> _Sweep:
    """The state of every kommun of a sweep, in one query per kind of row whatever their number."""
    ids = [municipality.id or 0 for municipality in municipalities]
    people = person_rows(session, ids)
    directories = _directories(people, ids)
    kommuner = {}
    for municipality in municipalities:
        rhythm = rhythm_from_json(municipality.rhythm)
        kommuner[municipality.id or 0] = _Kommun(
            id=municipality.id or 0,
            rhythm=rhythm,
            moment=sweep_moment(as_of, rhythm.daily_sweep_time),
            directory=directories[municipality.id or 0],
            adopted_on=municipality.adopted_on,
        )
    found = {"kommuner": ids, "as_of": as_of}
    reports: dict[int, list[_ReportRow]] = defaultdict(list)
    for row in session.execute(_reports_query(session), found):
        reports[row[1]].append(_ReportRow(*row))
    measures = {row[0]: _MeasureRow(*row) for row in session.execute(_measures_query(session), found)}
    interventions = {
        row[0]: _InterventionRow(*row) for row in session.execute(_interventions_query(session), found)
    }
    open_tasks = [_TaskRow(*row) for row in session.execute(_open_tasks_query(session), found)]
    plans = session.execute(_plans_query(session), found).all()
    open_escalations = [
        _EscalationRow(*row) for row in session.execute(_open_escalations_query(session), found)
    ]
    return _Sweep(
        session=session,
        as_of=as_of,
        kommuner=kommuner,
        measures=measures,
        interventions=interventions,
        reports=reports,
        open_tasks=open_tasks,
        open_escalations=open_escalations,
        people=people,
        plan_adopted_on={plan_id: adopted for plan_id, _, adopted, _ in plans},
        plan_titles={plan_id: title for plan_id, _, _, title in plans},
        plan_kommun={plan_id: municipality_id for plan_id, municipality_id, _, _ in plans},
    )


# ---------------------------------------------------------------------------------------------------
# 1. Close answered tasks


def _close_answered(sweep: _Sweep) -> None:
    answered: dict[datetime, list[_TaskRow]] = defaultdict(list)
    still_open: list[_TaskRow] = []
    for task in sweep.open_tasks:
        intervention_id = intervention_id_from_key(task.idempotency_key)
        if is_answered(
            task,
            reports=sweep.reports.get(task.measure_id, []) if task.measure_id is not None else [],
            intervention=sweep.interventions.get(intervention_id) if intervention_id is not None else None,
            as_of=sweep.as_of,
        ):
            answered[sweep.kommuner[task.municipality_id].moment].append(task)
        else:
            still_open.append(task)
    closed: set[int] = set()
    for moment, tasks in answered.items():
        for chunk in _chunks([task.id for task in tasks]):
            # One conditional UPDATE per chunk: of two sweeps at once only one closes a task (and
            # reports it). RETURNING tells which rows this statement changed, on both databases.
            closed.update(
                sweep.session.execute(
                    sa.update(Task)
                    .where(one_of(sweep.session, col(Task.id), chunk), col(Task.state) == TaskState.OPEN)
                    .values(state=TaskState.DONE, closed_at=moment)
                    .returning(col(Task.id)),
                    execution_options={"synchronize_session": "fetch"},
                ).scalars()
            )
    for tasks in answered.values():
        for task in tasks:
            if task.id in closed:
                assignee = sweep.directory(task.municipality_id).person(task.assignee_person_id)
                sweep.events.append(Event(sweep.as_of, "uppgift klar", task.subject, _name(assignee)))
    sweep.open_tasks = still_open


# ---------------------------------------------------------------------------------------------------
# 2. Reminders


def _reminder_subject(sweep: _Sweep, task: _TaskRow, kind: ReminderKind) -> str:
    due = previous_working_day(task.due_date)
    phrase = sweep.task_phrase(task)
    if kind == ReminderKind.NEW_TASK:
        text = f"Ny uppgift: {phrase} senast {_long_date(due)}"
    elif kind == ReminderKind.DUE_DAY:
        text = f"Påminnelse: {phrase} senast i dag, {_long_date(due)}"
    elif kind == ReminderKind.BEFORE_DUE:
        text = f"Påminnelse: {phrase} senast {_long_date(due)}"
    else:
        late = _late(due, sweep.as_of)
        text = f"Påminnelse: {phrase} senast {_long_date(due)} – nu {late} arbetsdagar försenad"
    return shorten(text, SUBJECT_LIMIT)


def _reminder_history(sweep: _Sweep) -> tuple[set[int], set[int]]:
    """The open tasks that have had a message already, and those reminded on ``as_of``: one query."""
    told: set[int] = set()
    today: set[int] = set()
    for task_id, reminded_today in sweep.session.execute(
        _reminder_history_query(sweep.session), {"kommuner": sweep.municipality_ids, "as_of": sweep.as_of}
    ):
        told.add(task_id)
        if reminded_today:
            today.add(task_id)
    return told, today


def _remind(sweep: _Sweep) -> None:
    told, reminded_today = _reminder_history(sweep)
    # A task created after as_of (a later day's run, before a retry started over) is not news yet:
    # created before the end of as_of in Stockholm.
    news_until = moment_of(sweep.as_of + timedelta(days=1), time(0, 0))
    rows: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for task in sweep.open_tasks:
        if task.id in reminded_today:
            continue
        kommun = sweep.kommuner[task.municipality_id]
        assignee = kommun.directory.person(task.assignee_person_id)
        if assignee is None:
            continue
        kind = _ladder_kind(task.due_date, sweep.as_of, kommun.rhythm.reminders)
        if task.id not in told and task.created_at < news_until:
            kind = ReminderKind.NEW_TASK
        if kind is None:
            continue
        key = f"påminnelse:{task.id}:{sweep.as_of.isoformat()}"
        rows.append(
            {
                "municipality_id": task.municipality_id,
                "task_id": task.id,
                "recipient_person_id": assignee.id,
                "kind": kind,
                "subject": _reminder_subject(sweep, task, kind),
                "remind_on": sweep.as_of,
                "dedupe_key": key,
                "created_at": kommun.moment,
                "outbox_message_id": None,
            }
        )
        names[key] = assignee.name
    inserted = insert_values(sweep.session, Reminder, rows, key="dedupe_key")
    sweep.events.extend(
        Event(sweep.as_of, "påminnelse", row["subject"], names[row["dedupe_key"]])
        for row in rows
        if row["dedupe_key"] in inserted
    )


# ---------------------------------------------------------------------------------------------------
# What was tried before an escalation: reminders and level-1 escalations of the tasks concerned


@dataclass(frozen=True, slots=True)
class _Attempts:
    reminders: dict[int, list[date]]  # by task id
    manager_escalations: dict[int, list[date]]  # by task id

    def describe(self, task_ids: Iterable[int]) -> str:
        ids = set(task_ids)
        reminded = sorted(day for task_id in ids for day in self.reminders.get(task_id, []))
        escalated = sorted(day for task_id in ids for day in self.manager_escalations.get(task_id, []))
        if not reminded and not escalated:
            return "Försök hittills: inga påminnelser eller eskaleringar."
        parts = []
        if reminded:
            parts.append(f"{_count(reminded, 'påminnelse', 'påminnelser')} ({_dates(reminded)})")
        if escalated:
            counted = _count(escalated, "eskalering", "eskaleringar")
            parts.append(f"{counted} till chef eller BRÅ-samordnare ({_dates(escalated)})")
        return "Försök hittills: " + " och ".join(parts) + "."


def _load_attempts(session: Session, task_ids: set[int]) -> _Attempts:
    reminders: dict[int, list[date]] = defaultdict(list)
    escalations: dict[int, list[date]] = defaultdict(list)
    for chunk in _chunks(sorted(task_ids)):
        for task_id, day in session.exec(
            select(col(Reminder.task_id), col(Reminder.remind_on)).where(
                one_of(session, col(Reminder.task_id), chunk)
            )
        ):
            reminders[task_id].append(day)
        for escalated_id, opened_on in session.exec(
            select(col(Escalation.task_id), col(Escalation.opened_on)).where(
                one_of(session, col(Escalation.task_id), chunk),
                col(Escalation.reason) == EscalationReason.TASK_OVERDUE,
                col(Escalation.level) == EscalationLevel.MANAGER,
            )
        ):
            if escalated_id is not None:
                escalations[escalated_id].append(opened_on)
    return _Attempts(reminders, escalations)


# ---------------------------------------------------------------------------------------------------
# Escalations: planned from the rules, inserted once per recipient


@dataclass(frozen=True, slots=True)
class _Planned:
    """One escalation row the rules call for (its key may already exist)."""

    key: str
    municipality_id: int
    level: EscalationLevel
    reason: EscalationReason
    since: date
    recipient: PersonRow | None
    task: _TaskRow | None = None
    measure: _MeasureRow | None = None
    intervention: _InterventionRow | None = None
    count: int = 0


def _insert_escalation(sweep: _Sweep, planned: _Planned, subject: str, detail: str) -> None:
    row = {
        "municipality_id": planned.municipality_id,
        "level": int(planned.level),
        "reason": planned.reason,
        "detail": shorten(detail, DETAIL_LIMIT),
        "subject": shorten(subject, SUBJECT_LIMIT),
        "task_id": planned.task.id if planned.task is not None else None,
        "measure_id": planned.measure.id if planned.measure is not None else None,
        "intervention_id": planned.intervention.id if planned.intervention is not None else None,
        "recipient_person_id": planned.recipient.id if planned.recipient is not None else None,
        "cause_since": planned.since,
        "opened_on": sweep.as_of,
        "opened_at": sweep.kommuner[planned.municipality_id].moment,
        "resolved_on": None,
        "resolution": "",
        "dedupe_key": planned.key,
        "outbox_message_id": None,
    }
    sweep.pending.append((row, planned))


def _write_escalations(sweep: _Sweep) -> None:
    """Insert the decided escalations in batches; an event for each row this sweep really inserted."""
    inserted = insert_values(sweep.session, Escalation, [row for row, _ in sweep.pending], key="dedupe_key")
    for row, planned in sweep.pending:
        if row["dedupe_key"] in inserted:
            sweep.events.append(
                Event(sweep.as_of, "eskalering", row["subject"], _name(planned.recipient), int(planned.level))
            )
    sweep.pending.clear()


def _new_ones(sweep: _Sweep, planned: list[_Planned]) -> list[_Planned]:
    """Record every planned key as holding; return those whose key does not exist yet.

    Existing keys are looked up in one query per KEY_CHUNK keys, open or resolved: a resolved
    escalation's key is taken for good, so inserting it again would only cost a statement.
    """
    sweep.holding.update(item.key for item in planned)
    existing: set[str] = set()
    for chunk in _chunks(sorted({item.key for item in planned})):
        existing.update(
            sweep.session.execute(_escalation_keys_query(sweep.session), {"keys": chunk}).scalars()
        )
    new: list[_Planned] = []
    for item in planned:
        if item.key in existing:
            continue
        adopted_on = sweep.adopted_on(item)
        # History from before Samordna was taken into use is no escalation: it goes, once, into the
        # coordinator's summary. It still holds, so an escalation raised before (an upgrade) stays open.
        if adopted_on is not None and item.since < adopted_on:
            sweep.before_adoption.append(item)
            continue
        new.append(item)
    return new


def _responsible_for_measures(sweep: _Sweep, measure_ids: set[int]) -> dict[int, Person | None]:
    """models.responsibility's one batched answer, for the measures of any of the sweep's kommuner."""
    return responsible_persons(sweep.session, sorted(measure_ids), 0)


def _owner(measure: _MeasureRow, person: Person | None) -> str:
    """Who answers for a measure, as an escalation names it: a person, or what the plan says with the
    reason nobody can be asked (never the BRÅ-samordnare who stands in)."""
    if person is not None:
        return person.name
    written = shorten(measure.raw_responsible, 80)
    return f"{written} (ingen kontaktperson i katalogen)" if written else "ingen ansvarig utsedd"


# 3. Overdue tasks


def _plan_task_escalations(sweep: _Sweep) -> list[_Planned]:
    planned: list[_Planned] = []
    for task in sweep.open_tasks:
        late = _late(task.due_date, sweep.as_of)
        if late <= 0:
            continue
        kommun = sweep.kommuner[task.municipality_id]
        rules = kommun.rhythm.escalation
        steps: list[tuple[EscalationLevel, list[PersonRow | None]]] = []
        if task.assignee_person_id is None:
            # Nobody was reminded, so the BRÅ-samordnare hears of it on the first working day it is late.
            steps.append((EscalationLevel.MANAGER, [kommun.directory.coordinator()]))
        elif late >= rules.level_1_working_days:
            manager = kommun.directory.manager_or_coordinator(task.assignee_person_id)
            steps.append((EscalationLevel.MANAGER, [manager]))
        if late >= rules.level_2_working_days:
            steps.append((EscalationLevel.MANAGEMENT, kommun.directory.management_or_coordinator()))
        for level, recipients in steps:
            for recipient in recipients:
                key = f"eskalering:uppgift:{task.id}:L{int(level)}:{_recipient_part(recipient)}"
                planned.append(
                    _Planned(
                        key,
                        task.municipality_id,
                        level,
                        EscalationReason.TASK_OVERDUE,
                        task.due_date,
                        recipient,
                        task=task,
                        measure=sweep.measures.get(task.measure_id or 0),
                        count=late,
                    )
                )
    return planned


def _escalate_tasks(sweep: _Sweep) -> None:
    new = _new_ones(sweep, _plan_task_escalations(sweep))
    if not new:
        return
    attempts = _load_attempts(sweep.session, {item.task.id for item in new if item.task})
    owners = _responsible_for_measures(
        sweep, {item.task.measure_id for item in new if item.task and item.task.measure_id is not None}
    )
    for item in new:
        task = item.task
        if task is None:
            continue
        phrase = sweep.task_phrase(task)
        due = previous_working_day(task.due_date)
        assignee = sweep.directory(task.municipality_id).person(task.assignee_person_id)
        responsible = assignee.name if assignee is not None else "ingen ansvarig person utsedd"
        measure = sweep.measures.get(task.measure_id) if task.measure_id is not None else None
        if measure is not None and owners.get(measure.id) is None:
            # Nobody answers for the measure: name what the plan says, not the coordinator asked instead.
            responsible = _owner(measure, None)
            if assignee is not None:
                responsible += f"; frågan gick till {assignee.name}"
        subject = f"Försenad uppgift: {phrase} skulle vara klar senast {_long_date(due)}"
        detail = (
            f"Uppgiften {phrase} skulle vara klar senast {_long_date(due)} och är försenad sedan dess, "
            f"nu {item.count} arbetsdagar. Ansvarig: {responsible}. {attempts.describe([task.id])}"
        )
        _insert_escalation(sweep, item, subject, detail)
    _write_escalations(sweep)


# 4. Stalled measures and insatser


def _status_tasks(sweep: _Sweep) -> dict[int, list[_StatusTaskRow]]:
    grouped: dict[int, list[_StatusTaskRow]] = defaultdict(list)
    for row in sweep.session.execute(
        _status_tasks_query(sweep.session), {"kommuner": sweep.municipality_ids, "as_of": sweep.as_of}
    ):
        grouped[row[1]].append(_StatusTaskRow(*row))
    return grouped


def _plan_stalls(sweep: _Sweep) -> list[_Planned]:
    status_tasks = _status_tasks(sweep)
    level = EscalationLevel.MANAGEMENT
    found: list[tuple[int, StallCause, int, _MeasureRow | None, _InterventionRow | None]] = []
    for measure_id, measure in sweep.measures.items():
        causes = measure_stalls(
            measure,
            status_tasks=status_tasks.get(measure_id, []),
            reports=sweep.reports.get(measure_id, []),
            rules=sweep.kommuner[measure.municipality_id].rhythm.escalation.stalled,
            as_of=sweep.as_of,
        )
        found.extend((measure.municipality_id, cause, measure_id, measure, None) for cause in causes)
    for intervention_id, intervention in sweep.interventions.items():
        rules = sweep.kommuner[intervention.municipality_id].rhythm.escalation.stalled
        cause = intervention_stall(intervention, rules=rules, as_of=sweep.as_of)
        if cause is not None:
            found.append((intervention.municipality_id, cause, intervention_id, None, intervention))
    return [
        _Planned(
            key=(
                f"eskalering:{cause.reason.value}:{subject_id}:{cause.since.isoformat()}"
                f":L{int(level)}:{_recipient_part(recipient)}"
            ),
            municipality_id=municipality_id,
            level=level,
            reason=cause.reason,
            since=cause.since,
            recipient=recipient,
            measure=measure,
            intervention=intervention,
            count=cause.count,
        )
        for municipality_id, cause, subject_id, measure, intervention in found
        for recipient in sweep.directory(municipality_id).management_or_coordinator()
    ]


def _tasks_concerned(sweep: _Sweep, new: list[_Planned]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """The ids of the tasks of each measure and of each insats that the new escalations are about."""
    measure_ids = {item.measure.id for item in new if item.measure is not None}
    by_measure: dict[int, list[int]] = defaultdict(list)
    by_intervention: dict[int, list[int]] = defaultdict(list)
    wants_interventions = any(item.intervention is not None for item in new)
    if not measure_ids and not wants_interventions:
        return by_measure, by_intervention
    conditions: list[sa.ColumnElement[bool]] = []
    if measure_ids:
        conditions.append(one_of(sweep.session, col(Task.measure_id), measure_ids))
    if wants_interventions:
        conditions.append(col(Task.kind) == TaskKind.INTERVENTION_FOLLOW_UP)
    kommuner = sorted({item.municipality_id for item in new})
    for task_id, measure_id, kind, key in sweep.session.exec(
        select(Task.id, Task.measure_id, Task.kind, Task.idempotency_key).where(
            one_of(sweep.session, col(Task.municipality_id), kommuner), sa.or_(*conditions)
        )
    ):
        if task_id is None:
            continue
        if measure_id in measure_ids:
            by_measure[measure_id].append(task_id)
        intervention_id = intervention_id_from_key(key) if kind == TaskKind.INTERVENTION_FOLLOW_UP else None
        if intervention_id is not None:
            by_intervention[intervention_id].append(task_id)
    return by_measure, by_intervention


def _stall_phrase(item: _Planned) -> str:
    if item.reason == EscalationReason.MISSED_FOLLOW_UPS:
        return f"{item.count} uppföljningar i rad utan statusrapport"
    if item.reason == EscalationReason.DELAYED_REPORTS:
        return f"{item.count} statusrapporter i rad med status försenad"
    if item.reason == EscalationReason.REPORTED_STALLED:
        return "senaste statusrapporten anger status avstannad"
    return f"slutdatumet har passerat utan att åtgärden är genomförd, nu {item.count} arbetsdagar"


def _escalate_stalls(sweep: _Sweep) -> None:
    new = _new_ones(sweep, _plan_stalls(sweep))
    if not new:
        return
    by_measure, by_intervention = _tasks_concerned(sweep, new)
    every_task = {task_id for ids in (*by_measure.values(), *by_intervention.values()) for task_id in ids}
    attempts = _load_attempts(sweep.session, every_task)
    responsible = _responsible_for_measures(
        sweep, {item.measure.id for item in new if item.measure is not None}
    )
    for item in new:
        if item.measure is not None:
            title = _title(item.measure.title)
            phrase = _stall_phrase(item)
            subject = f'Avstannad åtgärd: "{title}" – {phrase}'
            detail = (
                f'Åtgärden "{title}" har avstannat: {phrase}, sedan {_long_date(item.since)}. '
                f"Status: {item.measure.status.value}. "
                f"Ansvarig: {_owner(item.measure, responsible.get(item.measure.id))}. "
                f"{attempts.describe(by_measure.get(item.measure.id, []))}"
            )
        elif item.intervention is not None:
            title = _title(item.intervention.title)
            due = _long_date(item.since)
            owner = _name(
                sweep.directory(item.municipality_id).person(item.intervention.responsible_person_id)
            )
            where = f" i {item.intervention.area}" if item.intervention.area else ""
            subject = f'Försenad insats: "{title}" skulle vara genomförd senast {due}'
            detail = (
                f'Insatsen "{title}"{where}, beslutad vid EST, skulle vara genomförd senast {due} '
                f"och är nu {item.count} arbetsdagar försenad. Ansvarig: {owner or 'ingen ansvarig utsedd'}. "
                f"{attempts.describe(by_intervention.get(item.intervention.id, []))}"
            )
        else:
            continue
        _insert_escalation(sweep, item, subject, detail)
    _write_escalations(sweep)


# ---------------------------------------------------------------------------------------------------
# 5. Auto-resolve


def _task_resolution(escalation: _EscalationRow, task: _TaskRow | None) -> str:
    if task is None:
        return "Uppgiften finns inte längre"
    if task.state == TaskState.DONE:
        return "Uppgiften är klar"
    if task.state == TaskState.CANCELLED:
        return "Uppgiften är avbruten"
    if task.state == TaskState.MISSED:
        return "Mötet har hållits utan svar: uppgiften räknas som missad"
    if task.due_date != escalation.cause_since:
        return f"Nytt slutdatum: {_long_date(task.due_date)}"
    return "Uppgiften är inte längre försenad enligt reglerna"


def _intervention_resolution(sweep: _Sweep, escalation: _EscalationRow) -> str:
    intervention = sweep.interventions.get(escalation.intervention_id or 0)
    if intervention is None:
        return "Insatsen finns inte längre"
    if not _intervention_open_on(intervention, sweep.as_of):
        return f"Insatsen är {intervention.state.value}"
    if intervention.due_date != escalation.cause_since:
        return f"Nytt slutdatum för insatsen: {_long_date(intervention.due_date)}"
    return "Insatsen är inte längre försenad enligt reglerna"


def _measure_resolution(sweep: _Sweep, escalation: _EscalationRow) -> str:
    measure = sweep.measures.get(escalation.measure_id or 0)
    if measure is None:
        return "Åtgärden finns inte längre"
    reports = sweep.reports.get(measure.id, [])
    if measure.status in FINISHED_STATUSES:
        return f"Åtgärden är {measure.status.value}"
    latest = reports[-1] if reports else None
    if latest is not None and (
        latest.status in FINISHED_STATUSES
        or escalation.reason in {EscalationReason.DELAYED_REPORTS, EscalationReason.REPORTED_STALLED}
    ):
        return f"Ny statusrapport: {latest.status.value}"
    if escalation.reason == EscalationReason.MISSED_FOLLOW_UPS:
        return "Uppföljningen är besvarad"
    if escalation.reason == EscalationReason.PAST_END_DATE:
        if measure.period_end is None:
            return "Slutdatumet är borttaget"
        if measure.period_end != escalation.cause_since:
            return f"Nytt slutdatum: {_long_date(measure.period_end)}"
    return "Orsaken gäller inte längre"


def _resolution(
    sweep: _Sweep, escalation: _EscalationRow, tasks: Mapping[int, _TaskRow], causes_holding: set[str]
) -> str:
    if escalation.dedupe_key.rsplit(":", 1)[0] in causes_holding:
        return "Orsaken kvarstår men eskaleringen går nu till en annan mottagare"
    if escalation.reason == EscalationReason.TASK_OVERDUE:
        return _task_resolution(escalation, tasks.get(escalation.task_id or 0))
    if escalation.reason == EscalationReason.INTERVENTION_OVERDUE:
        return _intervention_resolution(sweep, escalation)
    return _measure_resolution(sweep, escalation)


def _resolve(sweep: _Sweep) -> None:
    # An escalation opened after as_of belongs to a later day: a catch-up run does not judge it.
    stale = [
        escalation
        for escalation in sweep.open_escalations
        if escalation.opened_on <= sweep.as_of and escalation.dedupe_key not in sweep.holding
    ]
    if not stale:
        return
    tasks: dict[int, _TaskRow] = {}
    for chunk in _chunks(
        sorted({escalation.task_id for escalation in stale if escalation.task_id is not None})
    ):
        tasks.update(
            (row[0], _TaskRow(*row))
            for row in sweep.session.execute(_tasks_by_id_query(sweep.session), {"ids": list(chunk)})
        )
    causes_holding = {key.rsplit(":", 1)[0] for key in sweep.holding}
    said = {escalation.id: _resolution(sweep, escalation, tasks, causes_holding) for escalation in stale}
    resolutions = {escalation_id: shorten(text, SUBJECT_LIMIT) for escalation_id, text in said.items()}
    resolved: set[int] = set()
    for chunk in _chunks(sorted(resolutions), KEY_CHUNK // 2):
        # One conditional UPDATE for many: of two sweeps at once only one resolves each (and reports it).
        resolved.update(
            sweep.session.execute(
                sa.update(Escalation)
                .where(
                    one_of(sweep.session, col(Escalation.id), chunk), col(Escalation.resolved_on).is_(None)
                )
                .values(
                    resolved_on=sweep.as_of,
                    resolution=sa.case(
                        {escalation_id: resolutions[escalation_id] for escalation_id in chunk},
                        value=col(Escalation.id),
                    ),
                )
                .returning(col(Escalation.id)),
                execution_options={"synchronize_session": "fetch"},
            ).scalars()
        )
    for escalation in stale:
        if escalation.id in resolved:
            recipient = sweep.directory(escalation.municipality_id).person(escalation.recipient_person_id)
            sweep.events.append(
                Event(
                    sweep.as_of,
                    "eskalering löst",
                    f"{escalation.subject} – {said[escalation.id]}",
                    _name(recipient),
                    escalation.level,
                )
            )


# ---------------------------------------------------------------------------------------------------
# 6. The adoption summary: what was already late when a plan was taken into use, told once


def _late_reason(item: _Planned) -> str:
    if item.reason == EscalationReason.TASK_OVERDUE and item.task is not None:
        return f"uppgiften {item.task.subject} skulle vara klar {_day(item.since)}"
    if item.reason == EscalationReason.PAST_END_DATE:
        return f"slutdatumet {_day(item.since)} har passerat"
    return _stall_phrase(item)


def _summarise_adoption(sweep: _Sweep) -> None:
    """On the first sweep on or after a plan's adoption day: one summary to the BRÅ-samordnare of
    its measures already late before that day (not escalated) and of the organisations named as
    ansvarig that have no contact person. Keyed by plan and day: written once."""
    due = {
        plan_id: adopted_on
        for plan_id, adopted_on in sweep.plan_adopted_on.items()
        if adopted_on is not None and adopted_on <= sweep.as_of
    }
    told: dict[str, int] = {}
    for chunk in _chunks([adoption_summary_key(plan_id, adopted_on) for plan_id, adopted_on in due.items()]):
        told.update(message_ids_by_key(sweep.session, list(chunk)))
    due = {
        plan_id: adopted_on
        for plan_id, adopted_on in due.items()
        if adoption_summary_key(plan_id, adopted_on) not in told
    }
    if not due:
        return
    late: dict[int, dict[int, LateMeasure]] = defaultdict(dict)
    for item in sweep.before_adoption:
        measure = item.measure
        if measure is None and item.task is not None and item.task.measure_id is not None:
            measure = sweep.measures.get(item.task.measure_id)
        if measure is None:
            continue
        found = late[measure.plan_id].get(measure.id)
        reasons = (*found.reasons, _late_reason(item)) if found else (_late_reason(item),)
        since = min(found.since, item.since) if found else item.since
        late[measure.plan_id][measure.id] = LateMeasure(measure.id, _title(measure.title), since, reasons)
    measures_of_plan: dict[int, list[_MeasureRow]] = defaultdict(list)
    for measure in sweep.measures.values():
        measures_of_plan[measure.plan_id].append(measure)
    without_contact = organisations_without_contact_by_plan(sweep.session, sorted(due))
    for plan_id, adopted_on in due.items():
        municipality_id = sweep.plan_kommun[plan_id]
        kommun = sweep.kommuner[municipality_id]
        coordinator = kommun.directory.coordinator()
        if coordinator is None:
            continue
        for measure in measures_of_plan.get(plan_id, []):
            # Past its end date on the adoption day, whatever the grace: already late when it came.
            if (
                measure.id not in late[plan_id]
                and measure.period_end is not None
                and measure.period_end < adopted_on
                and not measure_is_finished(measure, sweep.reports.get(measure.id, []))
            ):
                late[plan_id][measure.id] = LateMeasure(
                    measure.id,
                    _title(measure.title),
                    measure.period_end,
                    (f"slutdatumet {_day(measure.period_end)} har passerat",),
                )
        missing = without_contact.get(plan_id, [])
        event = enqueue_adoption_summary(
            sweep.session,
            AdoptionSummary(
                municipality_id=municipality_id,
                plan_id=plan_id,
                plan_title=sweep.plan_titles.get(plan_id, ""),
                adopted_on=adopted_on,
                as_of=sweep.as_of,
                moment=kommun.moment,
                recipient=coordinator,
                late=sorted(late[plan_id].values(), key=lambda item: (item.since, item.title)),
                organisations_without_contact=missing,
            ),
        )
        if event is not None:
            sweep.events.append(event)


# ---------------------------------------------------------------------------------------------------


def _sweep(session: Session, municipalities: Sequence[Municipality], as_of: date) -> _Sweep | None:
    if not is_working_day(as_of) or not municipalities:
        return None
    session.flush()
    sweep = _load_many(session, municipalities, as_of)
    _close_answered(sweep)
    _remind(sweep)
    _escalate_tasks(sweep)
    _escalate_stalls(sweep)
    _resolve(sweep)
    _summarise_adoption(sweep)
    session.flush()
    return sweep


def sweep_kommuner(session: Session, municipalities: Sequence[Municipality], as_of: date) -> list[Event]:
    """The daily sweep for every kommun of ``municipalities`` on ``as_of``, set-based (module docstring):
    what it created, closed and resolved.

    Does nothing on a non-working day. Never commits; flushes so the caller's queries see the rows.
    """
    sweep = _sweep(session, municipalities, as_of)
    return sweep.events if sweep is not None else []


def run_daily_sweep(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The daily sweep for one kommun on ``as_of``: what it created, closed and resolved.

    Does nothing on a non-working day. Never commits; flushes so the caller's queries see the rows.
    """
    return sweep_kommuner(session, [municipality], as_of)


def sweep_and_notify_kommuner(
    session: Session, municipalities: Sequence[Municipality], as_of: date
) -> list[Event]:
    """The daily sweep of the kommuner, then their messages in the outbox, in the same transaction (the
    persons the sweep read are the ones the messages go to: read once)."""
    sweep = _sweep(session, municipalities, as_of)
    if sweep is None:
        return []
    return sweep.events + enqueue_messages_for(session, municipalities, as_of, people=sweep.people)


def sweep_and_notify(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The daily sweep, then its messages in the outbox, in the same transaction: both or neither."""
    return sweep_and_notify_kommuner(session, [municipality], as_of)
