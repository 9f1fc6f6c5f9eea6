"""The daily sweep (daglig kontroll): reminders, escalation of overdue tasks and of stalled measures.

Runs on working days at 07:00 Europe/Stockholm. On a non-working day it does nothing and returns [].
On a working day ``as_of`` it does, in this order:

1. **Close answered tasks.** An open STATUS_REPORT task is answered when its measure has a
   StatusReport with ``due_date - ANSWER_WINDOW_DAYS <= reported_on <= as_of``. An open
   INTERVENTION_FOLLOW_UP task (key ``insats:<intervention id>:…``) is answered when its insats is no
   longer open on ``as_of``. Answered tasks become DONE with ``closed_at`` = ``as_of`` at the sweep
   time (``rhythm.daily_sweep_time``, 07:00) in Europe/Stockholm, stored as aware UTC.
2. **Reminders** (``rhythm.reminders``; N = before_due_working_days, M = overdue_every_working_days),
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

Every row is created through ``insert_many`` (ON CONFLICT DO NOTHING) and every change is a
conditional UPDATE, so a second sweep for the same day, or two sweeps at once, change nothing and
report no events. Data is loaded in a fixed handful of queries whatever the number of tasks; new rows
are inserted in batches, and only rows actually changed cost a statement each.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import moment_of
from core.text import shorten, swedish_date
from models.directory import Person, persons
from models.enums import FINISHED_STATUSES, MeasureStatus
from models.escalation import Escalation, EscalationLevel, EscalationReason, open_escalations
from models.est import Intervention, InterventionState
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.records import Event, insert_many
from models.responsibility import responsible_persons
from models.rhythm import ReminderLadder, Rhythm, StalledRules, rhythm_from_json
from models.task import Reminder, ReminderKind, Task, TaskKind, TaskState
from models.working_days import add_working_days, is_working_day, previous_working_day, working_days_between
from notifications.compose import enqueue_messages

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
# Keys looked up per IN (...) query: far below SQLite's and PostgreSQL's limits on bound parameters.
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


def _intervention_open_on(intervention: Intervention, day: date) -> bool:
    """Whether the insats was open on ``day``: a closing dated later had not happened yet."""
    if intervention.state == InterventionState.OPEN:
        return True
    return intervention.closed_on is not None and intervention.closed_on > day


def is_answered(
    task: Task, *, reports: Sequence[StatusReport], intervention: Intervention | None, as_of: date
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


def measure_is_finished(measure: Measure, reports: Sequence[StatusReport]) -> bool:
    """Genomförd or avbruten, by the measure's status or by its latest report."""
    return measure.status in FINISHED_STATUSES or bool(reports and reports[-1].status in FINISHED_STATUSES)


def measure_stalls(
    measure: Measure,
    *,
    status_tasks: Sequence[Task],
    reports: Sequence[StatusReport],
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


def intervention_stall(intervention: Intervention, *, rules: StalledRules, as_of: date) -> StallCause | None:
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


def _dates(days: Sequence[date]) -> str:
    listed = [_day(day) for day in days[-DATES_LISTED:]]
    return ("…, " if len(days) > DATES_LISTED else "") + ", ".join(listed)


def _count(items: Sequence[object], one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


def _name(person: Person | None) -> str:
    return person.name if person is not None else ""


def _recipient_part(person: Person | None) -> str:
    return str(person.id) if person is not None else NO_RECIPIENT


# ---------------------------------------------------------------------------------------------------
# The kommun's people, loaded once


@dataclass(frozen=True, slots=True)
class _Directory:
    """The kommun's persons in one query; mirrors flows.common's look-ups without a query per call."""

    by_id: dict[int, Person]
    in_order: list[Person]  # by name, in the database's order, as flows.common sees them

    @classmethod
    def load(cls, session: Session, municipality_id: int) -> _Directory:
        found = persons(session, municipality_id)
        return cls({person.id: person for person in found if person.id is not None}, found)

    def person(self, person_id: int | None) -> Person | None:
        return self.by_id.get(person_id) if person_id is not None else None

    def with_role(self, role: str) -> list[Person]:
        return [person for person in self.in_order if role in person.roles]

    def coordinator(self) -> Person | None:
        found = self.with_role("bra_samordnare")
        return found[0] if found else None

    def manager_or_coordinator(self, person_id: int | None) -> Person | None:
        person = self.person(person_id)
        if person is not None and person.manager_id is not None:
            manager = self.person(person.manager_id)
            if manager is not None:
                return manager
        return self.coordinator()

    def management_or_coordinator(self) -> list[Person | None]:
        found: list[Person | None] = list(self.with_role("kommunledning"))
        return found or [self.coordinator()]


# ---------------------------------------------------------------------------------------------------
# The sweep's state


@dataclass
class _Sweep:
    session: Session
    municipality_id: int
    as_of: date
    rhythm: Rhythm
    moment: datetime
    directory: _Directory
    measures: dict[int, Measure]
    interventions: dict[int, Intervention]
    reports: dict[int, list[StatusReport]]
    open_tasks: list[Task]
    open_escalations: list[Escalation]
    events: list[Event] = field(default_factory=list)
    # Escalations decided but not yet written: inserted in batches by _write_escalations.
    pending: list[tuple[Escalation, _Planned]] = field(default_factory=list)
    # The keys of every escalation whose cause holds on as_of: the rest of the open ones are resolved.
    holding: set[str] = field(default_factory=set)

    def task_phrase(self, task: Task) -> str:
        """What the task asks, as a phrase: 'statusrapport för "<åtgärd>"'."""
        measure = self.measures.get(task.measure_id) if task.measure_id is not None else None
        if task.kind == TaskKind.STATUS_REPORT and measure is not None:
            return f'statusrapport för "{shorten(measure.title, TITLE_LIMIT)}"'
        intervention_id = intervention_id_from_key(task.idempotency_key)
        intervention = self.interventions.get(intervention_id) if intervention_id is not None else None
        if task.kind == TaskKind.INTERVENTION_FOLLOW_UP and intervention is not None:
            return f'uppföljning av insatsen "{shorten(intervention.title, TITLE_LIMIT)}"'
        return f'"{shorten(task.subject, TITLE_LIMIT)}"'


def _load(session: Session, municipality: Municipality, as_of: date) -> _Sweep:
    municipality_id = municipality.id or 0
    rhythm = rhythm_from_json(municipality.rhythm)
    reports: dict[int, list[StatusReport]] = defaultdict(list)
    for report in session.exec(
        select(StatusReport)
        .where(StatusReport.municipality_id == municipality_id, StatusReport.reported_on <= as_of)
        .order_by(col(StatusReport.measure_id), col(StatusReport.reported_on), col(StatusReport.id))
    ):
        reports[report.measure_id].append(report)
    measures = session.exec(select(Measure).where(Measure.municipality_id == municipality_id))
    interventions = session.exec(select(Intervention).where(Intervention.municipality_id == municipality_id))
    open_tasks = session.exec(
        select(Task)
        .where(Task.municipality_id == municipality_id, Task.state == TaskState.OPEN)
        .order_by(col(Task.due_date), col(Task.id))
    )
    return _Sweep(
        session=session,
        municipality_id=municipality_id,
        as_of=as_of,
        rhythm=rhythm,
        moment=sweep_moment(as_of, rhythm.daily_sweep_time),
        directory=_Directory.load(session, municipality_id),
        measures={measure.id: measure for measure in measures if measure.id is not None},
        interventions={item.id: item for item in interventions if item.id is not None},
        reports=reports,
        open_tasks=list(open_tasks),
        # A persisting EST problem is raised and resolved by the EST cycle (flows/est_situation.py).
        open_escalations=[
            escalation
            for escalation in open_escalations(session, municipality_id)
            if escalation.reason != EscalationReason.PERSISTING_PROBLEM
        ],
    )


# ---------------------------------------------------------------------------------------------------
# 1. Close answered tasks


def _close_answered(sweep: _Sweep) -> None:
    still_open: list[Task] = []
    for task in sweep.open_tasks:
        intervention_id = intervention_id_from_key(task.idempotency_key)
        answered = is_answered(
            task,
            reports=sweep.reports.get(task.measure_id, []) if task.measure_id is not None else [],
            intervention=sweep.interventions.get(intervention_id) if intervention_id is not None else None,
            as_of=sweep.as_of,
        )
        if not answered:
            still_open.append(task)
            continue
        # Conditional, so that of two sweeps at once only one closes the task and reports it. RETURNING
        # tells which call changed the row on both databases (a rowcount can be -1 with psycopg).
        changed = sweep.session.execute(
            sa.update(Task)
            .where(col(Task.id) == task.id, col(Task.state) == TaskState.OPEN)
            .values(state=TaskState.DONE, closed_at=sweep.moment)
            .returning(col(Task.id)),
            execution_options={"synchronize_session": "fetch"},
        ).first()
        if changed is not None:
            assignee = sweep.directory.person(task.assignee_person_id)
            sweep.events.append(Event(sweep.as_of, "uppgift klar", task.subject, _name(assignee)))
    sweep.open_tasks = still_open


# ---------------------------------------------------------------------------------------------------
# 2. Reminders


def _reminder_subject(sweep: _Sweep, task: Task, kind: ReminderKind) -> str:
    due = previous_working_day(task.due_date)
    phrase = sweep.task_phrase(task)
    if kind == ReminderKind.DUE_DAY:
        text = f"Påminnelse: {phrase} senast i dag, {_long_date(due)}"
    elif kind == ReminderKind.BEFORE_DUE:
        text = f"Påminnelse: {phrase} senast {_long_date(due)}"
    else:
        late = working_days_between(due, sweep.as_of)
        text = f"Påminnelse: {phrase} senast {_long_date(due)} – nu {late} arbetsdagar försenad"
    return shorten(text, SUBJECT_LIMIT)


def _remind(sweep: _Sweep) -> None:
    made_today = set(
        sweep.session.exec(
            select(Reminder.dedupe_key).where(
                Reminder.municipality_id == sweep.municipality_id, Reminder.remind_on == sweep.as_of
            )
        )
    )
    reminders: list[tuple[Reminder, str]] = []
    for task in sweep.open_tasks:
        assignee = sweep.directory.person(task.assignee_person_id)
        kind = reminder_kind_on(task.due_date, sweep.as_of, sweep.rhythm.reminders)
        key = f"påminnelse:{task.id}:{sweep.as_of.isoformat()}"
        if assignee is None or kind is None or key in made_today:
            continue
        reminder = Reminder(
            municipality_id=sweep.municipality_id,
            task_id=task.id or 0,
            recipient_person_id=assignee.id,
            kind=kind,
            subject=_reminder_subject(sweep, task, kind),
            remind_on=sweep.as_of,
            dedupe_key=key,
            created_at=sweep.moment,
        )
        reminders.append((reminder, assignee.name))
    inserted = insert_many(sweep.session, [reminder for reminder, _ in reminders], key="dedupe_key")
    for reminder, name in reminders:
        if reminder.dedupe_key in inserted:
            sweep.events.append(Event(sweep.as_of, "påminnelse", reminder.subject, name))


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
    if task_ids:
        for task_id, day in session.exec(
            select(col(Reminder.task_id), col(Reminder.remind_on)).where(col(Reminder.task_id).in_(task_ids))
        ):
            reminders[task_id].append(day)
        for escalated_id, opened_on in session.exec(
            select(col(Escalation.task_id), col(Escalation.opened_on)).where(
                col(Escalation.task_id).in_(task_ids),
                Escalation.reason == EscalationReason.TASK_OVERDUE,
                Escalation.level == EscalationLevel.MANAGER,
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
    level: EscalationLevel
    reason: EscalationReason
    since: date
    recipient: Person | None
    task: Task | None = None
    measure: Measure | None = None
    intervention: Intervention | None = None
    count: int = 0


def _insert_escalation(sweep: _Sweep, planned: _Planned, subject: str, detail: str) -> None:
    row = Escalation(
        municipality_id=sweep.municipality_id,
        level=int(planned.level),
        reason=planned.reason,
        detail=shorten(detail, DETAIL_LIMIT),
        subject=shorten(subject, SUBJECT_LIMIT),
        task_id=planned.task.id if planned.task is not None else None,
        measure_id=planned.measure.id if planned.measure is not None else None,
        intervention_id=planned.intervention.id if planned.intervention is not None else None,
        recipient_person_id=planned.recipient.id if planned.recipient is not None else None,
        cause_since=planned.since,
        opened_on=sweep.as_of,
        opened_at=sweep.moment,
        dedupe_key=planned.key,
    )
    sweep.pending.append((row, planned))


def _write_escalations(sweep: _Sweep) -> None:
    """Insert the decided escalations in batches; an event for each row this sweep really inserted."""
    inserted = insert_many(sweep.session, [row for row, _ in sweep.pending], key="dedupe_key")
    for row, planned in sweep.pending:
        if row.dedupe_key in inserted:
            sweep.events.append(
                Event(sweep.as_of, "eskalering", row.subject, _name(planned.recipient), int(planned.level))
            )
    sweep.pending.clear()


def _new_ones(sweep: _Sweep, planned: list[_Planned]) -> list[_Planned]:
    """Record every planned key as holding; return those whose key does not exist yet.

    Existing keys are looked up in one query per KEY_CHUNK keys, open or resolved: a resolved
    escalation's key is taken for good, so asking insert_once about it again would only cost a statement.
    """
    sweep.holding.update(item.key for item in planned)
    wanted = sorted({item.key for item in planned})
    existing: set[str] = set()
    for start in range(0, len(wanted), KEY_CHUNK):
        chunk = wanted[start : start + KEY_CHUNK]
        existing.update(
            sweep.session.exec(select(Escalation.dedupe_key).where(col(Escalation.dedupe_key).in_(chunk)))
        )
    return [item for item in planned if item.key not in existing]


# 3. Overdue tasks


def _plan_task_escalations(sweep: _Sweep) -> list[_Planned]:
    rules = sweep.rhythm.escalation
    planned: list[_Planned] = []
    for task in sweep.open_tasks:
        late = working_days_between(task.due_date, sweep.as_of)
        if late <= 0:
            continue
        steps: list[tuple[EscalationLevel, list[Person | None]]] = []
        if task.assignee_person_id is None:
            # Nobody was reminded, so the BRÅ-samordnare hears of it on the first working day it is late.
            steps.append((EscalationLevel.MANAGER, [sweep.directory.coordinator()]))
        elif late >= rules.level_1_working_days:
            manager = sweep.directory.manager_or_coordinator(task.assignee_person_id)
            steps.append((EscalationLevel.MANAGER, [manager]))
        if late >= rules.level_2_working_days:
            steps.append((EscalationLevel.MANAGEMENT, sweep.directory.management_or_coordinator()))
        for level, recipients in steps:
            for recipient in recipients:
                key = f"eskalering:uppgift:{task.id}:L{int(level)}:{_recipient_part(recipient)}"
                planned.append(
                    _Planned(
                        key,
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
    attempts = _load_attempts(sweep.session, {item.task.id for item in new if item.task and item.task.id})
    for item in new:
        task = item.task
        if task is None:
            continue
        phrase = sweep.task_phrase(task)
        due = previous_working_day(task.due_date)
        assignee = sweep.directory.person(task.assignee_person_id)
        responsible = assignee.name if assignee is not None else "ingen ansvarig person utsedd"
        subject = f"Försenad uppgift: {phrase} skulle vara klar senast {_long_date(due)}"
        detail = (
            f"Uppgiften {phrase} skulle vara klar senast {_long_date(due)} och är försenad sedan dess, "
            f"nu {item.count} arbetsdagar. Ansvarig: {responsible}. {attempts.describe([task.id or 0])}"
        )
        _insert_escalation(sweep, item, subject, detail)
    _write_escalations(sweep)


# 4. Stalled measures and insatser


def _status_tasks(sweep: _Sweep) -> dict[int, list[Task]]:
    grouped: dict[int, list[Task]] = defaultdict(list)
    for task in sweep.session.exec(
        select(Task)
        .where(
            Task.municipality_id == sweep.municipality_id,
            Task.kind == TaskKind.STATUS_REPORT,
            col(Task.measure_id).is_not(None),
            Task.due_date < sweep.as_of,
        )
        .order_by(col(Task.due_date), col(Task.id))
    ):
        grouped[task.measure_id or 0].append(task)
    return grouped


def _plan_stalls(sweep: _Sweep) -> list[_Planned]:
    rules = sweep.rhythm.escalation.stalled
    recipients = sweep.directory.management_or_coordinator()
    status_tasks = _status_tasks(sweep)
    level = EscalationLevel.MANAGEMENT
    found: list[tuple[StallCause, int, Measure | None, Intervention | None]] = []
    for measure_id, measure in sweep.measures.items():
        causes = measure_stalls(
            measure,
            status_tasks=status_tasks.get(measure_id, []),
            reports=sweep.reports.get(measure_id, []),
            rules=rules,
            as_of=sweep.as_of,
        )
        found.extend((cause, measure_id, measure, None) for cause in causes)
    for intervention_id, intervention in sweep.interventions.items():
        cause = intervention_stall(intervention, rules=rules, as_of=sweep.as_of)
        if cause is not None:
            found.append((cause, intervention_id, None, intervention))
    return [
        _Planned(
            key=(
                f"eskalering:{cause.reason.value}:{subject_id}:{cause.since.isoformat()}"
                f":L{int(level)}:{_recipient_part(recipient)}"
            ),
            level=level,
            reason=cause.reason,
            since=cause.since,
            recipient=recipient,
            measure=measure,
            intervention=intervention,
            count=cause.count,
        )
        for cause, subject_id, measure, intervention in found
        for recipient in recipients
    ]


def _responsible_for_measures(sweep: _Sweep, measure_ids: set[int]) -> dict[int, Person | None]:
    return responsible_persons(sweep.session, sorted(measure_ids), sweep.municipality_id)


def _tasks_concerned(sweep: _Sweep, new: list[_Planned]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """The ids of the tasks of each measure and of each insats that the new escalations are about."""
    measure_ids = {
        item.measure.id for item in new if item.measure is not None and item.measure.id is not None
    }
    by_measure: dict[int, list[int]] = defaultdict(list)
    by_intervention: dict[int, list[int]] = defaultdict(list)
    wants_interventions = any(item.intervention is not None for item in new)
    if not measure_ids and not wants_interventions:
        return by_measure, by_intervention
    conditions: list[sa.ColumnElement[bool]] = []
    if measure_ids:
        conditions.append(col(Task.measure_id).in_(measure_ids))
    if wants_interventions:
        conditions.append(col(Task.kind) == TaskKind.INTERVENTION_FOLLOW_UP)
    for task_id, measure_id, kind, key in sweep.session.exec(
        select(Task.id, Task.measure_id, Task.kind, Task.idempotency_key).where(
            Task.municipality_id == sweep.municipality_id, sa.or_(*conditions)
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
        sweep, {item.measure.id for item in new if item.measure is not None and item.measure.id is not None}
    )
    for item in new:
        if item.measure is not None and item.measure.id is not None:
            title = shorten(item.measure.title, TITLE_LIMIT)
            phrase = _stall_phrase(item)
            subject = f'Avstannad åtgärd: "{title}" – {phrase}'
            detail = (
                f'Åtgärden "{title}" har avstannat: {phrase}, sedan {_long_date(item.since)}. '
                f"Status: {item.measure.status.value}. "
                f"Ansvarig: {_name(responsible.get(item.measure.id)) or 'ingen ansvarig utsedd'}. "
                f"{attempts.describe(by_measure.get(item.measure.id, []))}"
            )
        elif item.intervention is not None and item.intervention.id is not None:
            title = shorten(item.intervention.title, TITLE_LIMIT)
            due = _long_date(item.since)
            owner = _name(sweep.directory.person(item.intervention.responsible_person_id))
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


def _task_resolution(escalation: Escalation, task: Task | None) -> str:
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


def _intervention_resolution(sweep: _Sweep, escalation: Escalation) -> str:
    intervention = sweep.interventions.get(escalation.intervention_id or 0)
    if intervention is None:
        return "Insatsen finns inte längre"
    if not _intervention_open_on(intervention, sweep.as_of):
        return f"Insatsen är {intervention.state.value}"
    if intervention.due_date != escalation.cause_since:
        return f"Nytt slutdatum för insatsen: {_long_date(intervention.due_date)}"
    return "Insatsen är inte längre försenad enligt reglerna"


def _measure_resolution(sweep: _Sweep, escalation: Escalation) -> str:
    measure = sweep.measures.get(escalation.measure_id or 0)
    if measure is None:
        return "Åtgärden finns inte längre"
    reports = sweep.reports.get(measure.id or 0, [])
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
    sweep: _Sweep, escalation: Escalation, tasks: dict[int, Task], causes_holding: set[str]
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
    task_ids = {escalation.task_id for escalation in stale if escalation.task_id is not None}
    tasks: dict[int, Task] = {}
    if task_ids:
        tasks = {
            task.id: task
            for task in sweep.session.exec(select(Task).where(col(Task.id).in_(task_ids)))
            if task.id is not None
        }
    causes_holding = {key.rsplit(":", 1)[0] for key in sweep.holding}
    for escalation in stale:
        resolution = _resolution(sweep, escalation, tasks, causes_holding)
        # Conditional, so that of two sweeps at once only one resolves it and reports it.
        changed = sweep.session.execute(
            sa.update(Escalation)
            .where(col(Escalation.id) == escalation.id, col(Escalation.resolved_on).is_(None))
            .values(resolved_on=sweep.as_of, resolution=shorten(resolution, SUBJECT_LIMIT))
            .returning(col(Escalation.id)),
            execution_options={"synchronize_session": "fetch"},
        ).first()
        if changed is not None:
            recipient = sweep.directory.person(escalation.recipient_person_id)
            sweep.events.append(
                Event(
                    sweep.as_of,
                    "eskalering löst",
                    f"{escalation.subject} – {resolution}",
                    _name(recipient),
                    escalation.level,
                )
            )


# ---------------------------------------------------------------------------------------------------


def run_daily_sweep(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The daily sweep for one kommun on ``as_of``: what it created, closed and resolved.

    Does nothing on a non-working day. Never commits; flushes so the caller's queries see the rows.
    """
    if not is_working_day(as_of):
        return []
    sweep = _load(session, municipality, as_of)
    _close_answered(sweep)
    _remind(sweep)
    _escalate_tasks(sweep)
    _escalate_stalls(sweep)
    _resolve(sweep)
    session.flush()
    return sweep.events


def sweep_and_notify(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The daily sweep, then its messages in the outbox, in the same transaction: both or neither."""
    return run_daily_sweep(session, municipality, as_of) + enqueue_messages(session, municipality, as_of)
