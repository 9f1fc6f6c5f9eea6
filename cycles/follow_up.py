"""Åtgärdsplanens uppföljning: a status-report task per active measure before the forum's follow-up
meeting, and the round's compilation when the reports fall due.

The rhythm (``models.rhythm.FollowUpRhythm``) names the forum and the months of its follow-up meetings
(Falun: Faluns BRÅ in May and November). Each such meeting is one round, labelled by its half-year
(``2025H1`` for January–June, ``2025H2`` for July–December). Its tasks are due
``report_lead_working_days`` working days before the meeting and are created
``create_days_before_due`` calendar days before that.

Catch-up rule: a round is opened only while its meeting still lies ahead (the meeting day included).
A run that stands after the meeting, such as a missed run executed late, creates nothing for it:
a status report asked for a meeting that has already taken place cannot serve that meeting, and a
task created already long overdue would only set off reminders and escalations for nothing. The next
round asks again. A run between the due date and the meeting still opens the round (the tasks are
overdue at once, and the round is compiled by the first run on a later day).

Answered: a status-report task is answered when its measure has a StatusReport dated from the round's
creation day up to the meeting day. Times stored by these functions come from ``stamp(as_of)``
(12:00 Europe/Stockholm on the run's day, in UTC), never from the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import local_day, moment_of
from core.text import half_year_name, shorten
from models.directory import Forum, ForumMeeting
from models.enums import FINISHED_STATUSES, FollowUpFrequency
from models.follow_up import FollowUpRound, round_forum_name
from models.municipality import Municipality
from models.plan import ActionPlan, Measure, StatusReport
from models.records import Event, insert_many, insert_once
from models.responsibility import bra_coordinator, responsible_persons
from models.rhythm import Rhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState
from models.working_days import add_working_days, previous_working_day

__all__ = [
    "Occasion",
    "answered",
    "compile_due_rounds",
    "follow_up_occasions",
    "run_follow_up_cycle",
    "stamp",
]

TITLE_LENGTH = 120
_FIRST_HALF_LAST_MONTH = 6


@dataclass(frozen=True, slots=True)
class Occasion:
    """One follow-up meeting: the round ``period_label`` whose status reports are due on ``due_date``."""

    meeting_id: int
    meeting_date: date
    period_label: str
    due_date: date
    create_on: date  # the first day a run creates the round and its tasks

    @property
    def half(self) -> int:
        """1 for a meeting in January–June, 2 for July–December."""
        return 1 if self.meeting_date.month <= _FIRST_HALF_LAST_MONTH else 2


def stamp(as_of: date) -> datetime:
    """What a follow-up run on ``as_of`` records as its moment: 12:00 Europe/Stockholm."""
    return moment_of(as_of)


def period_label(meeting_date: date) -> str:
    """``2025H1`` for a meeting in January–June 2025, ``2025H2`` for July–December."""
    half = 1 if meeting_date.month <= _FIRST_HALF_LAST_MONTH else 2
    return f"{meeting_date.year}H{half}"


def follow_up_occasions(session: Session, municipality: Municipality, rhythm: Rhythm) -> list[Occasion]:
    """The follow-up meetings: the kommun's meetings of forums of kind ``rhythm.follow_up.forum`` in
    ``rhythm.follow_up.months``, oldest first.

    A round is keyed by its half-year, so when two such meetings fall in the same half-year (two
    forums of the kind, or two listed months in one half) the earlier one is the round's meeting:
    the reports must be ready for the first of them.
    """
    config = rhythm.follow_up
    rows = session.exec(
        select(ForumMeeting)
        .join(Forum, col(Forum.id) == col(ForumMeeting.forum_id))
        .where(Forum.municipality_id == municipality.id, Forum.kind == config.forum)
        .order_by(col(ForumMeeting.meeting_date), col(ForumMeeting.id))
    ).all()
    occasions: dict[str, Occasion] = {}
    for meeting in rows:
        if meeting.meeting_date.month not in config.months:
            continue
        label = period_label(meeting.meeting_date)
        if label in occasions:
            continue
        due = previous_working_day(add_working_days(meeting.meeting_date, -config.report_lead_working_days))
        occasions[label] = Occasion(
            meeting_id=meeting.id or 0,
            meeting_date=meeting.meeting_date,
            period_label=label,
            due_date=due,
            create_on=due - timedelta(days=config.create_days_before_due),
        )
    return list(occasions.values())


def _measures_with_frequency(
    session: Session, municipality_id: int
) -> list[tuple[Measure, FollowUpFrequency | None]]:
    """Every measure of every plan of the kommun (sub-rows included) with its effective follow-up
    frequency: its own, else its plan's default. One query."""
    rows = session.exec(
        select(Measure, col(ActionPlan.default_follow_up_frequency))
        .join(ActionPlan, col(ActionPlan.id) == col(Measure.plan_id))
        .where(ActionPlan.municipality_id == municipality_id)
        .order_by(col(Measure.plan_id), col(Measure.position), col(Measure.id))
    ).all()
    return [(measure, measure.follow_up_frequency or default) for measure, default in rows]


def is_active(
    measure: Measure, frequency: FollowUpFrequency | None, occasion: Occasion, yearly_half: int
) -> bool:
    """Whether a measure is asked for a status report at ``occasion``.

    Active: not genomförd or avbruten, and started (no start date, or one on or before the meeting).
    A measure followed up yearly is asked only in the half-year ``yearly_half``.
    """
    if measure.status in FINISHED_STATUSES:
        return False
    if measure.period_start is not None and measure.period_start > occasion.meeting_date:
        return False
    return frequency != FollowUpFrequency.YEARLY or occasion.half == yearly_half


def status_task_key(measure_id: int, label: str) -> str:
    """The idempotency key of a measure's status-report task for a round."""
    return f"statusrapport:{measure_id}:{label}"


def _existing_keys(session: Session, municipality_id: int, label: str) -> set[str]:
    return set(
        session.exec(
            select(Task.idempotency_key).where(
                Task.municipality_id == municipality_id,
                Task.kind == TaskKind.STATUS_REPORT,
                Task.period_label == label,
            )
        )
    )


def _open_round(session: Session, municipality_id: int, occasion: Occasion) -> None:
    insert_once(
        session,
        FollowUpRound(
            municipality_id=municipality_id,
            period_label=occasion.period_label,
            forum_meeting_id=occasion.meeting_id or None,
            meeting_date=occasion.meeting_date,
            due_date=occasion.due_date,
        ),
        key=("municipality_id", "period_label"),
    )


def _create_tasks(
    session: Session,
    municipality_id: int,
    occasion: Occasion,
    wanted: Iterable[Measure],
    as_of: date,
) -> list[Event]:
    # Only measures without a task yet look up their ansvarig: a repeated run costs one query.
    existing = _existing_keys(session, municipality_id, occasion.period_label)
    missing = [
        measure
        for measure in wanted
        if status_task_key(measure.id or 0, occasion.period_label) not in existing
    ]
    if not missing:
        return []
    responsible = responsible_persons(session, [measure.id or 0 for measure in missing], municipality_id)
    # A measure nobody answers for (no person, no organisation with a contact) is asked of the
    # BRÅ-samordnare, who is told why in the adoption summary and by plan kontroll.
    coordinator = bra_coordinator(session, municipality_id)
    half_year = half_year_name(occasion.period_label)
    tasks: list[tuple[Task, str]] = []
    for measure in missing:
        measure_id = measure.id or 0
        person = responsible[measure_id] or coordinator
        task = Task(
            municipality_id=municipality_id,
            kind=TaskKind.STATUS_REPORT,
            subject=f"Statusrapport {half_year}: {shorten(measure.title, TITLE_LENGTH)}",
            due_date=occasion.due_date,
            idempotency_key=status_task_key(measure_id, occasion.period_label),
            measure_id=measure_id,
            assignee_person_id=person.id if person is not None else None,
            period_label=occasion.period_label,
            created_at=stamp(as_of),
        )
        tasks.append((task, person.name if person is not None else ""))
    inserted = insert_many(session, [task for task, _ in tasks], key="idempotency_key")
    return [
        Event(as_of, "uppgift", task.subject, name)
        for task, name in tasks
        if task.idempotency_key in inserted
    ]


def run_follow_up_cycle(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Open every round whose creation day has come and whose meeting has not yet passed: the round
    row and one status-report task per measure active at that meeting, to its ansvarig."""
    rhythm = rhythm_from_json(municipality.rhythm)
    municipality_id = municipality.id or 0
    current = [
        occasion
        for occasion in follow_up_occasions(session, municipality, rhythm)
        if occasion.create_on <= as_of <= occasion.meeting_date
    ]
    if not current:
        return []
    measures = _measures_with_frequency(session, municipality_id)
    events: list[Event] = []
    for occasion in current:
        _open_round(session, municipality_id, occasion)
        wanted = [
            measure
            for measure, frequency in measures
            if is_active(measure, frequency, occasion, rhythm.follow_up.yearly_half)
        ]
        events.extend(_create_tasks(session, municipality_id, occasion, wanted, as_of))
    session.flush()
    return events


def _window(round_: FollowUpRound, rhythm: Rhythm) -> tuple[date, date]:
    """The days a status report answers the round: from its creation day to its meeting."""
    return round_.due_date - timedelta(days=rhythm.follow_up.create_days_before_due), round_.meeting_date


def answered(session: Session, task: Task) -> bool:
    """Whether a status-report task is answered: its measure has a StatusReport dated within the
    round's window (the round's creation day … the meeting day)."""
    if task.kind != TaskKind.STATUS_REPORT or task.measure_id is None:
        return False
    round_ = session.exec(
        select(FollowUpRound).where(
            FollowUpRound.municipality_id == task.municipality_id,
            FollowUpRound.period_label == task.period_label,
        )
    ).first()
    municipality = session.get(Municipality, task.municipality_id)
    if round_ is None or municipality is None:
        return False
    first, last = _window(round_, rhythm_from_json(municipality.rhythm))
    found = session.exec(
        select(StatusReport.id).where(
            StatusReport.measure_id == task.measure_id,
            col(StatusReport.reported_on) >= first,
            col(StatusReport.reported_on) <= last,
        )
    ).first()
    return found is not None


def _answered_ids(session: Session, tasks: list[Task], windows: dict[str, tuple[date, date]]) -> set[int]:
    """The ids of ``tasks`` that are answered (the rule of ``answered``), in one query."""
    measure_ids = {task.measure_id for task in tasks if task.measure_id is not None}
    spans = [windows[task.period_label] for task in tasks if task.period_label in windows]
    if not measure_ids or not spans:
        return set()
    reports: dict[int, list[date]] = {}
    for measure_id, reported_on in session.exec(
        select(col(StatusReport.measure_id), col(StatusReport.reported_on)).where(
            col(StatusReport.measure_id).in_(measure_ids),
            col(StatusReport.reported_on) >= min(first for first, _ in spans),
            col(StatusReport.reported_on) <= max(last for _, last in spans),
        )
    ):
        reports.setdefault(measure_id, []).append(reported_on)
    done: set[int] = set()
    for task in tasks:
        if task.period_label not in windows:
            continue
        first, last = windows[task.period_label]
        if any(first <= day <= last for day in reports.get(task.measure_id or 0, [])):
            done.add(task.id or 0)
    return done


def _close(session: Session, tasks: list[Task], done: set[int], as_of: date) -> list[Event]:
    """Mark the answered open tasks klar; only rows this call changed give an event."""
    ids = [task.id for task in tasks if task.id in done and task.state == TaskState.OPEN]
    if not ids:
        return []
    changed = set(
        session.execute(
            sa.update(Task)
            .where(col(Task.id).in_(ids), col(Task.state) == TaskState.OPEN)
            .values(state=TaskState.DONE, closed_at=stamp(as_of))
            .returning(col(Task.id)),
            execution_options={"synchronize_session": "fetch"},
        ).scalars()
    )
    return [Event(as_of, "uppgift klar", task.subject) for task in tasks if task.id in changed]


def _compile(
    session: Session, round_: FollowUpRound, tasks: list[Task], done: set[int], as_of: date, forum: str
) -> Event | None:
    mine = [
        task
        for task in tasks
        if task.period_label == round_.period_label and task.state != TaskState.CANCELLED
    ]
    reported = sum(1 for task in mine if task.id in done)
    missing = len(mine) - reported
    # Conditional on compiled_at still being empty, so two runs at once compile the round once.
    result = session.execute(
        sa.update(FollowUpRound)
        .where(col(FollowUpRound.id) == round_.id, col(FollowUpRound.compiled_at).is_(None))
        .values(compiled_at=stamp(as_of), reported_count=reported, missing_count=missing),
        execution_options={"synchronize_session": "fetch"},
    )
    if not getattr(result, "rowcount", 0):
        return None
    subject = (
        f"Uppföljningen för {half_year_name(round_.period_label)} sammanställd inför {forum} "
        f"{round_.meeting_date.isoformat()}: "
        f"{reported} av {len(mine)} statusrapporter inkomna, {missing} saknas"
    )
    return Event(
        as_of, "sammanställning", subject, recipient=_coordinator_name(session, round_.municipality_id)
    )


def _coordinator_name(session: Session, municipality_id: int) -> str:
    coordinator = bra_coordinator(session, municipality_id)
    return coordinator.name if coordinator is not None else ""


def _opened_on(tasks: list[Task]) -> dict[str, date]:
    """The day each round's first task was created (Europe/Stockholm), from the tasks' ``created_at``."""
    opened: dict[str, date] = {}
    for task in tasks:
        day = local_day(task.created_at)
        opened[task.period_label] = min(day, opened.get(task.period_label, day))
    return opened


def _mark_missed(
    session: Session, tasks: list[Task], done: set[int], meetings: dict[str, date], as_of: date
) -> list[Event]:
    """Open tasks of a round whose meeting has been held become missed: the report can no longer serve
    that meeting, so reminders stop, and the miss counts towards a stalled measure."""
    events: list[Event] = []
    for task in tasks:
        meeting = meetings.get(task.period_label)
        if task.state != TaskState.OPEN or (task.id or 0) in done or meeting is None or meeting >= as_of:
            continue
        task.state = TaskState.MISSED
        task.closed_at = stamp(as_of)
        session.add(task)
        events.append(Event(as_of, "uppgift missad", task.subject))
    return events


def compile_due_rounds(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Close answered status-report tasks, and compile every round that is due and not yet compiled.

    A task is answered by a StatusReport within its round's window (see ``answered``). Every answered
    open status-report task is closed (klar, closed at the run's ``stamp``), also one answered after
    its round was compiled, so a late answer stops the reminders too. A round whose due date has come
    gets its reported and missing counts (cancelled tasks count as neither) and ``compiled_at``, once:
    later runs leave it alone, even when more answers arrive before the meeting. A round opened on
    or after its due date (a catch-up run) is compiled by the first run on a later day.
    """
    rhythm = rhythm_from_json(municipality.rhythm)
    municipality_id = municipality.id or 0
    rounds = list(session.exec(select(FollowUpRound).where(FollowUpRound.municipality_id == municipality_id)))
    windows = {round_.period_label: _window(round_, rhythm) for round_ in rounds}
    due = [round_ for round_ in rounds if round_.compiled_at is None and round_.due_date <= as_of]
    # One query: the open tasks (to close the answered ones) and every task of the rounds to compile.
    tasks = list(
        session.exec(
            select(Task).where(
                Task.municipality_id == municipality_id,
                Task.kind == TaskKind.STATUS_REPORT,
                sa.or_(
                    col(Task.state) == TaskState.OPEN,
                    col(Task.period_label).in_([round_.period_label for round_ in due]),
                ),
            )
        )
    )
    done = _answered_ids(session, tasks, windows)
    events = _close(session, tasks, done, as_of)
    events += _mark_missed(session, tasks, done, {r.period_label: r.meeting_date for r in rounds}, as_of)
    opened = _opened_on(tasks)
    for round_ in due:
        # A round opened late, on or after its due date, waits for a run on a later day: the same
        # day's second run must change nothing, and people get at least a day to answer.
        if opened.get(round_.period_label, date.min) >= as_of:
            continue
        compiled = _compile(
            session, round_, tasks, done, as_of, round_forum_name(session, round_) or "forumets möte"
        )
        if compiled is not None:
            events.append(compiled)
    session.flush()
    return events


def follow_up_and_compile(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Compile what fell due before opening new rounds, so one run's events read in order."""
    return compile_due_rounds(session, municipality, as_of) + run_follow_up_cycle(
        session, municipality, as_of
    )
