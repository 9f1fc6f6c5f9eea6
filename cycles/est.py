"""EST (Effektiv samordning för trygghet): a meeting every 14 days, and what each one needs beforehand.

When meeting ``n`` of a kommun takes place is the calendar's answer (``cycles/est_calendar.py``). A
meeting on a holiday still happens as scheduled (the EST group decides); only due dates move to the
previous working day.

On a meeting day the period that closes is judged for persisting problems (cycles/est_situation.py:
``close_period``), each raised once to the forum the kommun's rutin names. A run judges, oldest first,
every closed period it has not judged yet (``EstCycle.judged_on``), so meetings at which the flow did
not run (server down, worker stopped) are caught up: a streak that began and ended in the gap is raised
and resolved, one still going is raised at the period it reached the threshold. The catch-up reaches
back at most ``CATCH_UP_PERIODS`` periods (a year), so a first install with imported history does not
raise problems of years ago. The newest held period is judged again on every run, as incidents
reported after the meeting still count until the next one.

For a meeting, the cycle ensures its EstCycle row (period = the day after the previous meeting up to
the meeting day) and creates, once each:
- a ``rapportera_handelser`` task to every member of the kommun's EST group, due
  ``report_lead_working_days`` working days before the meeting (key ``rapportera:<person>:EST-<n>``);
- a ``folj_upp_insats`` task to the responsible person of every open insats, due the same day
  (key ``insats:<insats>:EST-<n>``).

Which meetings a run on ``as_of`` handles: the row of the first meeting on or after ``as_of``, and the
tasks of the first meeting strictly after ``as_of``. The two differ only on a meeting day: the
14-day schedule in ``prefect.yaml`` fires at each meeting's start, which is when the next period opens,
so that run must prepare the *next* meeting; the meeting being held gets its row if it is missing but
no new tasks (asking for reports to a meeting that starts now only produces overdue tasks).

A kommun without an EST group (no forum of kind ``est_grupp``) has no EST: the cycle does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pendulum
import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import moment_of
from core.settings import TIMEZONE
from core.text import swedish_date
from cycles.est_calendar import (
    cycle_number_at,
    cycle_row,
    held_meeting_number,
    meeting_date,
    period_label,
    report_due_date,
)
from cycles.est_situation import close_periods
from models.directory import Forum, ForumMember, Person
from models.enums import ForumKind
from models.est import EstCycle, Intervention, InterventionState
from models.municipality import Municipality
from models.records import Event, insert_once
from models.rhythm import Rhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState

NEW_PERIOD = "ny period"
TASK = "uppgift"
CATCH_UP_PERIODS = 26
"""How many closed periods, the newest held one included, a run judges at most: a year of 14-day
periods. Older unjudged periods (a first install with imported history, a flow stopped for over a
year) are left unjudged: raising a problem of years ago to the BRÅ helps nobody."""


def report_key(person_id: int, number: int) -> str:
    return f"rapportera:{person_id}:EST-{number}"


def intervention_key(intervention_id: int, number: int) -> str:
    return f"insats:{intervention_id}:EST-{number}"


def est_members(session: Session, municipality_id: int) -> list[Person]:
    """The persons in the kommun's EST group(s), each once, by name: one query."""
    in_est_group = (
        select(ForumMember.person_id)
        .join(Forum, col(Forum.id) == col(ForumMember.forum_id))
        .where(Forum.municipality_id == municipality_id, Forum.kind == ForumKind.EST_GROUP)
    )
    return list(
        session.exec(
            select(Person).where(col(Person.id).in_(in_est_group)).order_by(col(Person.name), col(Person.id))
        )
    )


def has_est_group(session: Session, municipality_id: int) -> bool:
    """Whether the kommun has a forum of kind ``est_grupp``."""
    found = session.exec(
        select(Forum.id).where(Forum.municipality_id == municipality_id, Forum.kind == ForumKind.EST_GROUP)
    ).first()
    return found is not None


def followed_interventions(session: Session, municipality_id: int) -> list[tuple[Intervention, Person]]:
    """Open insatser that have a responsible person, with that person: one query."""
    rows = session.exec(
        select(Intervention, Person)
        .join(Person, col(Person.id) == col(Intervention.responsible_person_id))
        .where(
            Intervention.municipality_id == municipality_id,
            Intervention.state == InterventionState.OPEN,
        )
        .order_by(col(Intervention.due_date), col(Intervention.id))
    )
    return [(intervention, person) for intervention, person in rows]


def _ensure_cycle(
    session: Session, municipality_id: int, rhythm: Rhythm, number: int, as_of: date
) -> list[Event]:
    cycle = cycle_row(municipality_id, rhythm, number)
    if not insert_once(session, cycle, key=("municipality_id", "number")):
        return []
    start, day = cycle.period_start, cycle.period_end
    local = pendulum.instance(cycle.meeting_at).in_timezone(TIMEZONE)
    subject = (
        f"EST-period {number} ({start.isoformat()}–{day.isoformat()}), "
        f"möte {swedish_date(day)} kl. {local.format('HH:mm')}"
    )
    return [Event(when=as_of, kind=NEW_PERIOD, subject=subject)]


def ensure_cycle(session: Session, municipality_id: int, rhythm: Rhythm, number: int) -> EstCycle:
    """The EstCycle row of meeting ``number``, created if missing (once, by its unique key)."""
    _ensure_cycle(session, municipality_id, rhythm, number, meeting_date(rhythm, number))
    return session.exec(
        select(EstCycle).where(EstCycle.municipality_id == municipality_id, EstCycle.number == number)
    ).one()


def _task(
    municipality_id: int, number: int, kind: TaskKind, subject: str, due: date, person: Person, key: str
) -> Task:
    return Task(
        municipality_id=municipality_id,
        kind=kind,
        subject=subject,
        due_date=due,
        idempotency_key=key,
        assignee_person_id=person.id,
        period_label=period_label(number),
    )


def _create_tasks(session: Session, tasks: Iterable[tuple[Task, Person]], as_of: date) -> list[Event]:
    events: list[Event] = []
    for task, person in tasks:
        if insert_once(session, task, key="idempotency_key"):
            events.append(Event(when=as_of, kind=TASK, subject=task.subject, recipient=person.name))
    return events


def _meeting_tasks(
    session: Session, municipality_id: int, rhythm: Rhythm, number: int, as_of: date
) -> list[Event]:
    """Report tasks to the EST actors and follow-ups of open insatser, before meeting ``number``."""
    due = report_due_date(rhythm, number)
    when = swedish_date(meeting_date(rhythm, number))
    reports = [
        (
            _task(
                municipality_id,
                number,
                TaskKind.REPORT_INCIDENTS,
                f"Rapportera händelser till EST-möte {number} ({when})",
                due,
                person,
                report_key(person.id or 0, number),
            ),
            person,
        )
        for person in est_members(session, municipality_id)
    ]
    follow_ups = [
        (
            _task(
                municipality_id,
                number,
                TaskKind.INTERVENTION_FOLLOW_UP,
                f'Följ upp insatsen "{intervention.title}" inför EST-möte {number}',
                due,
                person,
                intervention_key(intervention.id or 0, number),
            ),
            person,
        )
        for intervention, person in followed_interventions(session, municipality_id)
    ]
    return _create_tasks(session, [*reports, *follow_ups], as_of)


def run_est_cycle(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Open the EST period of the coming meeting and ask for what it needs; see the module's docstring."""
    municipality_id = municipality.id
    if municipality_id is None:
        raise ValueError("Kommunen är inte sparad.")
    if not has_est_group(session, municipality_id):
        return []
    rhythm = rhythm_from_json(municipality.rhythm)
    current = cycle_number_at(rhythm, as_of)
    upcoming = cycle_number_at(rhythm, as_of + timedelta(days=1))
    events: list[Event] = []
    for number in sorted({current, upcoming}):
        events.extend(_ensure_cycle(session, municipality_id, rhythm, number, as_of))
    events.extend(_meeting_tasks(session, municipality_id, rhythm, upcoming, as_of))
    events.extend(_miss_held_meeting_tasks(session, municipality_id, rhythm, as_of))
    held = held_meeting_number(rhythm, as_of)
    if held is not None:
        numbers = periods_to_judge(session, municipality_id, rhythm, held)
        events.extend(close_periods(session, municipality_id, rhythm, numbers, as_of))
    session.flush()
    return events


def periods_to_judge(session: Session, municipality_id: int, rhythm: Rhythm, held: int) -> list[int]:
    """The closed periods a run judges when ``held`` is the newest held meeting, oldest first: each of
    the last ``CATCH_UP_PERIODS`` not judged yet, and ``held`` again (late reports still count).

    Their EstCycle rows are ensured (without a "ny period" event: they are not opening now) and
    locked, FOR UPDATE on PostgreSQL, until the transaction ends: a run at the same time waits, then
    finds them judged. SQLite has one writer at a time anyway."""
    oldest = max(1, held - CATCH_UP_PERIODS + 1)
    in_backlog = (
        col(EstCycle.municipality_id) == municipality_id,
        col(EstCycle.number).between(oldest, held),
    )
    existing = set(session.exec(select(EstCycle.number).where(*in_backlog)))
    for number in range(oldest, held + 1):
        if number not in existing:
            insert_once(
                session, cycle_row(municipality_id, rhythm, number), key=("municipality_id", "number")
            )
    rows = session.execute(
        sa.select(col(EstCycle.number), col(EstCycle.judged_on))
        .where(*in_backlog)
        .order_by(col(EstCycle.number))
        .with_for_update()
    ).all()
    return [number for number, judged_on in rows if judged_on is None or number == held]


def _miss_held_meeting_tasks(
    session: Session, municipality_id: int, rhythm: Rhythm, as_of: date
) -> list[Event]:
    """Open tasks for a meeting that has been held become missed: a report after the meeting serves
    nobody, and reminding or escalating it would only be noise. An insats still open gets a new
    follow-up task for the next meeting."""
    open_tasks = session.exec(
        select(Task).where(
            Task.municipality_id == municipality_id,
            Task.state == TaskState.OPEN,
            col(Task.kind).in_([TaskKind.REPORT_INCIDENTS, TaskKind.INTERVENTION_FOLLOW_UP]),
        )
    ).all()
    events: list[Event] = []
    for task in open_tasks:
        number = _meeting_number(task.period_label)
        if number is None or meeting_date(rhythm, number) > as_of:
            continue
        task.state = TaskState.MISSED
        task.closed_at = moment_of(as_of, rhythm.est.meeting_time)
        session.add(task)
        events.append(Event(as_of, "uppgift missad", f"{task.subject}: mötet är hållet"))
    return events


def _meeting_number(label: str) -> int | None:
    prefix, _, number = label.partition("-")
    return int(number) if prefix == "EST" and number.isdigit() else None
