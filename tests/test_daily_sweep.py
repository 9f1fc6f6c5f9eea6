"""The daily sweep: closing answered tasks, the reminder ladder, escalation of overdue tasks and stalled
measures, and auto-resolution, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, col, func, select

from cycles.daily_sweep import (
    ANSWER_WINDOW_DAYS,
    _Directory,
    _load,
    _responsible_for_measures,
    intervention_id_from_key,
    is_answered,
    reminder_kind_on,
    run_daily_sweep,
    sweep_moment,
)
from flows.deployments import daily_sweep_flow
from models.directory import Person
from models.enums import MeasureStatus
from models.escalation import Escalation, EscalationLevel, EscalationReason
from models.est import Intervention, InterventionState
from models.municipality import Municipality
from models.plan import ActionPlan, FocusArea, Measure, MeasureParty, PartyRole, StatusReport, measures
from models.records import Event
from models.responsibility import management, manager_or_coordinator, responsible_person
from models.rhythm import ReminderLadder
from models.task import Reminder, ReminderKind, Task, TaskKind, TaskState
from models.working_days import is_working_day, working_days_between

D = date
DUE = D(2026, 5, 12)  # a Tuesday; Kristi himmelsfärdsdag 2026-05-14 (Thursday) follows it
# Working days after DUE: 13 (1), 15 (2), 18 (3), 19 (4), 20 (5), 21, 22, 25, 26, 27 (10), 28, 29,
# 1 June, 2 June, 3 June (15), 4, 5, 8, 9, 10 June (20). Nationaldagen 2026-06-06 is a Saturday anyway.
LADDER_DAYS = {
    D(2026, 5, 7): ReminderKind.BEFORE_DUE,  # 3 working days before: 11, 8, 7 (the 1st of May is far off)
    D(2026, 5, 12): ReminderKind.DUE_DAY,
    D(2026, 5, 20): ReminderKind.OVERDUE,  # 5 working days late, not the 19th: the 14th is a holiday
    D(2026, 5, 27): ReminderKind.OVERDUE,
    D(2026, 6, 3): ReminderKind.OVERDUE,
}
LEVEL_1_DAY = D(2026, 5, 20)  # working_days_between(DUE, day) == 5
LEVEL_2_DAY = D(2026, 6, 3)  # == 15
RHYTHM = {
    "paminnelser": {"dagar_fore": 3, "pa_forfallodagen": True, "upprepa_var": 5},
    "eskalering": {
        "niva1_efter": 5,
        "niva2_efter": 15,
        "avstannad": {
            "missade_uppfoljningar": 2,
            "forsenad_i_rad": 2,
            "efter_slutdatum_dagar": 10,
            "insats_forsenad_dagar": 10,
        },
    },
}


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@dataclass
class World:
    """A small kommun: a coordinator, a chef, an ansvarig under the chef, two in kommunledningen."""

    kommun: int
    coordinator: int
    chef: int
    ansvarig: int
    leaders: tuple[int, int]
    plan: int
    area: int
    measure: int


def add(session: Session, row: SQLModel) -> int:
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[attr-defined]


def person(session: Session, kommun: int, name: str, roles: list[str], manager: int | None = None) -> int:
    email = name.lower().replace(" ", ".") + "@example.se"
    return add(
        session, Person(municipality_id=kommun, name=name, email=email, roles=roles, manager_id=manager)
    )


def build_world(session: Session) -> World:
    kommun = add(session, Municipality(name="Provkommun", code="9999", rhythm=RHYTHM))
    leader_a = person(session, kommun, "Agnes Ledare", ["kommunledning"])
    leader_b = person(session, kommun, "Bertil Ledare", ["kommunledning"])
    coordinator = person(session, kommun, "Cecilia Samordnare", ["bra_samordnare"], leader_a)
    chef = person(session, kommun, "David Chef", [], leader_a)
    ansvarig = person(session, kommun, "Eva Ansvarig", [], chef)
    plan = add(session, ActionPlan(municipality_id=kommun, title="Åtgärdsplan 2026"))
    area = add(session, FocusArea(plan_id=plan, position=1, title="Trygghet"))
    measure = new_measure(session, kommun, plan, area, "Trygghetsvandringar i centrum")
    add(session, MeasureParty(measure_id=measure, role=PartyRole.RESPONSIBLE, position=1, person_id=ansvarig))
    return World(kommun, coordinator, chef, ansvarig, (leader_a, leader_b), plan, area, measure)


def new_measure(session: Session, kommun: int, plan: int, area: int, title: str, **values: object) -> int:
    return add(
        session,
        Measure(
            municipality_id=kommun,
            plan_id=plan,
            focus_area_id=area,
            position=1,
            title=title,
            status=MeasureStatus.ONGOING,
            **values,
        ),
    )


def new_task(
    session: Session,
    world: World,
    due: date,
    *,
    assignee: int | None = -1,
    kind: TaskKind = TaskKind.STATUS_REPORT,
    key: str | None = None,
    measure: int | None = -1,
) -> Task:
    task = Task(
        municipality_id=world.kommun,
        kind=kind,
        subject="Statusrapport 2026H1: Trygghetsvandringar i centrum",
        due_date=due,
        idempotency_key=key or f"statusrapport:{due.isoformat()}:{measure}",
        measure_id=world.measure if measure == -1 else measure,
        assignee_person_id=world.ansvarig if assignee == -1 else assignee,
        # Created before every day these tests sweep: its first sweep announces it ("ny uppgift").
        created_at=sweep_moment(D(2026, 1, 2)),
    )
    session.add(task)
    session.flush()
    return task


def report(
    session: Session, world: World, on: date, status: MeasureStatus, measure: int | None = None
) -> None:
    session.add(
        StatusReport(
            municipality_id=world.kommun, measure_id=measure or world.measure, reported_on=on, status=status
        )
    )
    session.flush()


def sweep(session: Session, world: World, day: date) -> list[Event]:
    municipality = session.get(Municipality, world.kommun)
    assert municipality is not None
    return run_daily_sweep(session, municipality, day)


def sweep_span(session: Session, world: World, first: date, last: date) -> list[Event]:
    events: list[Event] = []
    for day in days(first, last):
        events.extend(sweep(session, world, day))
    return events


def sweep_days(session: Session, world: World, chosen: list[date]) -> list[Event]:
    events: list[Event] = []
    for day in chosen:
        events.extend(sweep(session, world, day))
    return events


def reminders(session: Session) -> list[Reminder]:
    return list(session.exec(select(Reminder).order_by(col(Reminder.remind_on), col(Reminder.id))))


def escalations(session: Session, reason: EscalationReason | None = None) -> list[Escalation]:
    query = select(Escalation).order_by(col(Escalation.opened_on), col(Escalation.level), col(Escalation.id))
    if reason is not None:
        query = query.where(Escalation.reason == reason)
    return list(session.exec(query))


def opened(rows: list[Escalation]) -> list[tuple[date, int, int | None]]:
    return [(row.opened_on, row.level, row.recipient_person_id) for row in rows]


@contextmanager
def scenario(engine: sa.Engine) -> Iterator[tuple[Session, World]]:
    """A small kommun in a session that is rolled back at the end: the sweep itself never commits, so
    scenarios share one database without seeing each other."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session, build_world(session)
        finally:
            session.rollback()


def run_checks(engine: sa.Engine, *checks: Callable[[Session, World], None]) -> None:
    for check in checks:
        with scenario(engine) as (session, world):
            check(session, world)


# ---------------------------------------------------------------------------------------------------
# Plain functions


def test_ladder_days_by_the_rule() -> None:
    """The ladder falls N working days before, on the due day and every M working days overdue."""
    ladder = ReminderLadder(dagar_fore=3, pa_forfallodagen=True, upprepa_var=5)
    found = {
        day: kind
        for day in days(D(2026, 4, 20), D(2026, 6, 5))
        if (kind := reminder_kind_on(DUE, day, ladder)) is not None
    }
    assert found == LADDER_DAYS


def test_ladder_without_before_and_due_day_reminders() -> None:
    """N = 0 and on_due_day = False leave only the overdue reminders."""
    ladder = ReminderLadder(dagar_fore=0, pa_forfallodagen=False, upprepa_var=2)
    found = [day for day in days(D(2026, 5, 1), D(2026, 5, 22)) if reminder_kind_on(DUE, day, ladder)]
    assert found == [D(2026, 5, 15), D(2026, 5, 19), D(2026, 5, 21)]


def test_ladder_moves_a_weekend_due_date_back() -> None:
    """A due date on a Saturday counts as the Friday before: the due-day reminder comes then."""
    ladder = ReminderLadder()
    assert reminder_kind_on(D(2026, 5, 16), D(2026, 5, 15), ladder) == ReminderKind.DUE_DAY
    assert reminder_kind_on(D(2026, 5, 16), D(2026, 5, 16), ladder) is None


def test_intervention_id_is_parsed_from_the_key() -> None:
    """Only keys shaped insats:<id>:… name an insats."""
    assert intervention_id_from_key("insats:42:EST-7") == 42
    assert intervention_id_from_key("insats:x:EST-7") is None
    assert intervention_id_from_key("rapportera:42:EST-7") is None
    assert intervention_id_from_key("insats") is None


AS_OF = D(2026, 6, 1)


def test_answer_window_bounds() -> None:
    """A report from due − 60 days up to as_of answers a status task; earlier or later ones do not."""
    task = Task(
        municipality_id=1,
        kind=TaskKind.STATUS_REPORT,
        subject="s",
        due_date=DUE,
        idempotency_key="k",
        measure_id=5,
    )

    def answered(on: date, measure: int = 5, as_of: date = AS_OF) -> bool:
        found = StatusReport(
            municipality_id=1, measure_id=measure, reported_on=on, status=MeasureStatus.ONGOING
        )
        return is_answered(task, reports=[found], intervention=None, as_of=as_of)

    assert ANSWER_WINDOW_DAYS == 60
    assert answered(DUE - timedelta(days=60))
    assert not answered(DUE - timedelta(days=61))
    assert answered(D(2026, 6, 1))
    assert not answered(D(2026, 6, 2))
    assert not answered(DUE, measure=6)


def test_intervention_task_is_answered_when_the_insats_is_closed() -> None:
    """A follow-up of an insats is answered once the insats is closed on or before as_of."""
    task = Task(
        municipality_id=1,
        kind=TaskKind.INTERVENTION_FOLLOW_UP,
        subject="s",
        due_date=DUE,
        idempotency_key="insats:3:EST-1",
    )
    insats = Intervention(municipality_id=1, title="t", due_date=DUE)
    assert not is_answered(task, reports=[], intervention=insats, as_of=DUE)
    insats.state, insats.closed_on = InterventionState.DONE, D(2026, 5, 13)
    assert not is_answered(task, reports=[], intervention=insats, as_of=DUE)
    assert is_answered(task, reports=[], intervention=insats, as_of=D(2026, 5, 13))


def test_sweep_moment_is_seven_in_stockholm_as_utc() -> None:
    """07:00 Europe/Stockholm is 05:00 UTC in summer and 06:00 UTC in winter."""
    assert sweep_moment(D(2026, 5, 13)) == datetime(2026, 5, 13, 5, 0, tzinfo=UTC)
    assert sweep_moment(D(2026, 1, 13)) == datetime(2026, 1, 13, 6, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------
# Reminders


def check_reminders_over_forty_days_fall_exactly_on_the_ladder(session: Session, world: World) -> None:
    """Run every day of a 40-day span: reminders exactly on the ladder days, all working days."""
    task = new_task(session, world, DUE)
    events = sweep_span(session, world, D(2026, 5, 1), D(2026, 6, 9))
    # The first sweep that sees the task announces it (issue 14: "ny uppgift"); 1 May is a holiday.
    notices = [row for row in reminders(session) if row.kind == ReminderKind.NEW_TASK]
    assert [row.remind_on for row in notices] == [D(2026, 5, 4)]
    found = [row for row in reminders(session) if row.kind != ReminderKind.NEW_TASK]
    assert {row.remind_on: row.kind for row in found} == LADDER_DAYS
    assert len(found) == len(LADDER_DAYS)
    assert all(is_working_day(row.remind_on) for row in found)
    assert {row.recipient_person_id for row in found} == {world.ansvarig}
    assert {row.task_id for row in found} == {task.id}
    told = [event.when for event in events if event.kind == "påminnelse"]
    assert told == sorted([D(2026, 5, 4), *LADDER_DAYS])


def check_reminder_subjects_say_what_and_by_when(session: Session, world: World) -> None:
    """Swedish subjects: the measure, the due date written out, and how late."""
    task = new_task(session, world, DUE)
    sweep_days(session, world, [D(2026, 5, 4), D(2026, 5, 7), D(2026, 5, 12), D(2026, 5, 20)])
    assert [(row.dedupe_key, row.subject) for row in reminders(session)] == [
        (
            f"påminnelse:{task.id}:2026-05-04",
            'Ny uppgift: statusrapport för "Trygghetsvandringar i centrum" senast tisdag 12 maj 2026',
        ),
        (
            f"påminnelse:{task.id}:2026-05-07",
            'Påminnelse: statusrapport för "Trygghetsvandringar i centrum" senast tisdag 12 maj 2026',
        ),
        (
            f"påminnelse:{task.id}:2026-05-12",
            'Påminnelse: statusrapport för "Trygghetsvandringar i centrum" senast i dag, tisdag 12 maj 2026',
        ),
        (
            f"påminnelse:{task.id}:2026-05-20",
            (
                'Påminnelse: statusrapport för "Trygghetsvandringar i centrum" senast tisdag 12 maj 2026'
                " – nu 5 arbetsdagar försenad"
            ),
        ),
    ]


def check_non_working_day_does_nothing(session: Session, world: World) -> None:
    """On Kristi himmelsfärdsdag and on a Sunday the sweep returns [] and creates nothing."""
    new_task(session, world, D(2026, 5, 14))
    new_task(session, world, D(2026, 4, 1), key="old")
    assert sweep(session, world, D(2026, 5, 14)) == []
    assert sweep(session, world, D(2026, 5, 17)) == []
    assert reminders(session) == []
    assert escalations(session) == []


def check_status_report_closes_the_task_and_stops_its_reminders(session: Session, world: World) -> None:
    """A report the day after the due date closes the task at 07:00; no reminder or escalation follows."""
    task = new_task(session, world, DUE)
    sweep_days(session, world, [D(2026, 5, 7), D(2026, 5, 12)])
    report(session, world, D(2026, 5, 13), MeasureStatus.ONGOING)
    events = sweep(session, world, D(2026, 5, 13))
    assert events == [
        Event(
            D(2026, 5, 13),
            "uppgift klar",
            "Statusrapport 2026H1: Trygghetsvandringar i centrum",
            "Eva Ansvarig",
        )
    ]
    session.refresh(task)
    assert task.state == TaskState.DONE
    assert task.closed_at == datetime(2026, 5, 13, 5, 0, tzinfo=UTC)
    assert sweep_span(session, world, D(2026, 5, 14), D(2026, 6, 5)) == []
    assert [row.remind_on for row in reminders(session)] == [D(2026, 5, 7), D(2026, 5, 12)]
    assert escalations(session) == []


def check_an_old_report_does_not_answer_the_task(session: Session, world: World) -> None:
    """A report older than the answer window leaves the task open and reminded."""
    task = new_task(session, world, DUE)
    report(session, world, DUE - timedelta(days=ANSWER_WINDOW_DAYS + 1), MeasureStatus.ONGOING)
    kinds = [event.kind for event in sweep(session, world, DUE)]
    session.refresh(task)
    assert (task.state, kinds) == (TaskState.OPEN, ["påminnelse"])


def check_closed_insats_closes_its_follow_up_task(session: Session, world: World) -> None:
    """An insats marked genomförd closes its follow-up task, found through the task's key."""
    insats = add(
        session, Intervention(municipality_id=world.kommun, title="Belysning", due_date=D(2026, 6, 30))
    )
    task = new_task(
        session, world, DUE, kind=TaskKind.INTERVENTION_FOLLOW_UP, key=f"insats:{insats}:EST-9", measure=None
    )
    assert [event.kind for event in sweep(session, world, DUE)] == ["påminnelse"]
    assert reminders(session)[0].subject == (
        'Ny uppgift: uppföljning av insatsen "Belysning" senast tisdag 12 maj 2026'
    )
    row = session.get(Intervention, insats)
    assert row is not None
    row.state, row.closed_on = InterventionState.DONE, D(2026, 5, 13)
    session.flush()
    assert [event.kind for event in sweep(session, world, D(2026, 5, 13))] == ["uppgift klar"]
    session.refresh(task)
    assert task.state == TaskState.DONE


def test_reminders_follow_the_ladder_until_the_task_is_answered(engine: sa.Engine) -> None:
    """Reminders fall exactly on the ladder's working days and stop once the task is answered."""
    run_checks(
        engine,
        check_reminders_over_forty_days_fall_exactly_on_the_ladder,
        check_reminder_subjects_say_what_and_by_when,
        check_non_working_day_does_nothing,
        check_status_report_closes_the_task_and_stops_its_reminders,
        check_an_old_report_does_not_answer_the_task,
        check_closed_insats_closes_its_follow_up_task,
    )


# ---------------------------------------------------------------------------------------------------
# Overdue tasks


def check_escalation_levels_appear_exactly_at_the_thresholds(session: Session, world: World) -> None:
    """Level 1 to the chef on the 5th working day late, level 2 to each leader on the 15th."""
    task = new_task(session, world, DUE)
    sweep_span(session, world, DUE, D(2026, 6, 4))
    rows = escalations(session)
    assert working_days_between(DUE, LEVEL_1_DAY) == 5
    assert working_days_between(DUE, LEVEL_2_DAY) == 15
    assert opened(rows) == [
        (LEVEL_1_DAY, 1, world.chef),
        (LEVEL_2_DAY, 2, world.leaders[0]),
        (LEVEL_2_DAY, 2, world.leaders[1]),
    ]
    assert [row.dedupe_key for row in rows] == [
        f"eskalering:uppgift:{task.id}:L1:{world.chef}",
        f"eskalering:uppgift:{task.id}:L2:{world.leaders[0]}",
        f"eskalering:uppgift:{task.id}:L2:{world.leaders[1]}",
    ]
    assert {(row.reason, row.cause_since, row.task_id, row.measure_id) for row in rows} == {
        (EscalationReason.TASK_OVERDUE, DUE, task.id, world.measure)
    }
    assert all(row.resolved_on is None for row in rows)


def check_escalation_texts_say_what_since_when_and_who(session: Session, world: World) -> None:
    """Subject and detail in Swedish: the task, its due date, how late, the ansvarig and the reminders."""
    new_task(session, world, DUE)
    sweep_days(session, world, [D(2026, 5, 7), D(2026, 5, 12), LEVEL_1_DAY])
    (row,) = escalations(session)
    assert row.subject == (
        'Försenad uppgift: statusrapport för "Trygghetsvandringar i centrum" skulle vara klar senast '
        "tisdag 12 maj 2026"
    )
    assert row.detail == (
        'Uppgiften statusrapport för "Trygghetsvandringar i centrum" skulle vara klar senast '
        "tisdag 12 maj 2026 och är försenad sedan dess, nu 5 arbetsdagar. Ansvarig: Eva Ansvarig. "
        "Försök hittills: 3 påminnelser (7 maj 2026, 12 maj 2026, 20 maj 2026)."
    )
    assert row.opened_at == datetime(2026, 5, 20, 5, 0, tzinfo=UTC)


def check_task_without_assignee_goes_to_the_coordinator_the_day_after(session: Session, world: World) -> None:
    """No assignee: no reminder, level 1 to the BRÅ-samordnare on the first working day late."""
    task = new_task(session, world, DUE, assignee=None)
    sweep_span(session, world, DUE, D(2026, 5, 19))
    assert reminders(session) == []
    (row,) = escalations(session)
    assert (row.opened_on, row.level, row.recipient_person_id) == (D(2026, 5, 13), 1, world.coordinator)
    assert row.dedupe_key == f"eskalering:uppgift:{task.id}:L1:{world.coordinator}"
    assert "Ansvarig: ingen ansvarig person utsedd." in row.detail


def check_done_task_resolves_its_escalations(session: Session, world: World) -> None:
    """A report after level 2 closes the task and resolves all three escalations with the same text."""
    new_task(session, world, DUE)
    sweep_days(session, world, [LEVEL_1_DAY, LEVEL_2_DAY])
    report(session, world, D(2026, 6, 4), MeasureStatus.ONGOING)
    events = sweep(session, world, D(2026, 6, 4))
    assert Counter(event.kind for event in events) == {"uppgift klar": 1, "eskalering löst": 3}
    rows = escalations(session)
    assert {(row.resolved_on, row.resolution) for row in rows} == {(D(2026, 6, 4), "Uppgiften är klar")}


def check_an_earlier_day_run_late_leaves_later_escalations_open(session: Session, world: World) -> None:
    """A run for an earlier day (out of order) does not judge an escalation opened after that day."""
    new_task(session, world, DUE)
    sweep(session, world, LEVEL_1_DAY)
    assert sweep(session, world, D(2026, 5, 13)) == []
    (row,) = escalations(session)
    assert (row.opened_on, row.resolved_on) == (LEVEL_1_DAY, None)


def test_overdue_tasks_escalate_exactly_at_the_thresholds(engine: sa.Engine) -> None:
    """Level 1 at E1 working days late, level 2 at E2, to the right people, resolved when the task is done."""
    run_checks(
        engine,
        check_escalation_levels_appear_exactly_at_the_thresholds,
        check_escalation_texts_say_what_since_when_and_who,
        check_task_without_assignee_goes_to_the_coordinator_the_day_after,
        check_done_task_resolves_its_escalations,
        check_an_earlier_day_run_late_leaves_later_escalations_open,
    )


def check_falun_recipients_follow_the_directory(engine: sa.Engine, falun: int) -> None:
    """Falun: level 1 to the chef (or Anna Lindqvist when none), level 2 to Karin Dahl; the sweep's
    in-memory directory answers as models.responsibility does."""
    with Session(engine) as session:
        falun_kommun = session.get(Municipality, falun)
        assert falun_kommun is not None
        staff = {
            row.name: row.id for row in session.exec(select(Person).where(Person.municipality_id == falun))
        }
        names = {value: key for key, value in staff.items()}
        first = measures(session, falun)[0]
        for name in ("Sara Holm", "Mats Björk"):
            session.add(
                Task(
                    municipality_id=falun,
                    kind=TaskKind.STATUS_REPORT,
                    subject=f"Statusrapport från {name}",
                    due_date=DUE,
                    idempotency_key=f"test:{name}",
                    measure_id=first.id,
                    assignee_person_id=staff[name],
                )
            )
        session.flush()
        for day in (D(2026, 5, 19), LEVEL_1_DAY, D(2026, 6, 2), LEVEL_2_DAY):
            run_daily_sweep(session, falun_kommun, day)
        rows = escalations(session, EscalationReason.TASK_OVERDUE)
        assert sorted((row.opened_on, row.level, names[row.recipient_person_id]) for row in rows) == [
            (LEVEL_1_DAY, 1, "Anna Lindqvist"),
            (LEVEL_1_DAY, 1, "Eva Backman"),
            (LEVEL_2_DAY, 2, "Karin Dahl"),
            (LEVEL_2_DAY, 2, "Karin Dahl"),
        ]
        session.rollback()

    with Session(engine) as session:
        # The sweep reads persons as plain rows (no ORM objects at national scale): the same persons.
        directory = _Directory.load(session, falun)
        for someone in directory.in_order:
            swept_chef = directory.manager_or_coordinator(someone.id)
            chef = manager_or_coordinator(session, someone.id, falun)
            swept = (swept_chef.id, swept_chef.name) if swept_chef is not None else None
            assert swept == ((chef.id, chef.name) if chef is not None else None)
        assert [(row.id, row.name) for row in directory.management_or_coordinator() if row] == [
            (row.id, row.name) for row in management(session, falun)
        ]
        measure_ids = {row.id for row in measures(session, falun) if row.id is not None}
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        found = _responsible_for_measures(_load(session, municipality, D(2026, 5, 12)), measure_ids)
        assert found == {
            measure_id: responsible_person(session, measure_id, falun) for measure_id in measure_ids
        }


# ---------------------------------------------------------------------------------------------------
# Stalled measures


def by_leader(session: Session, world: World, reason: EscalationReason) -> list[Escalation]:
    """The rows of one reason sent to the first leader, after checking each cause went to both leaders."""
    rows = escalations(session, reason)
    first = [row for row in rows if row.recipient_person_id == world.leaders[0]]
    second = [row for row in rows if row.recipient_person_id == world.leaders[1]]
    assert [(row.cause_since, row.level) for row in first] == [(row.cause_since, row.level) for row in second]
    assert len(first) + len(second) == len(rows)
    assert {row.level for row in rows} <= {EscalationLevel.MANAGEMENT}
    return first


def check_missed_follow_ups_fire_after_the_second_due_date_and_resolve(
    session: Session, world: World
) -> None:
    """Two unanswered status tasks in a row: level 2 the day after the second is due; a report resolves it."""
    first = new_task(session, world, D(2025, 11, 4), assignee=None)
    new_task(session, world, DUE, assignee=None)
    sweep(session, world, DUE)
    assert escalations(session, EscalationReason.MISSED_FOLLOW_UPS) == []
    sweep(session, world, D(2026, 5, 13))
    (row,) = by_leader(session, world, EscalationReason.MISSED_FOLLOW_UPS)
    assert (row.cause_since, row.opened_on, row.measure_id, row.task_id) == (
        first.due_date,
        D(2026, 5, 13),
        world.measure,
        None,
    )
    assert (
        row.dedupe_key == f"eskalering:uteblivna_rapporter:{world.measure}:2025-11-04:L2:{world.leaders[0]}"
    )
    assert row.subject == (
        'Avstannad åtgärd: "Trygghetsvandringar i centrum" – 2 uppföljningar i rad utan statusrapport'
    )
    report(session, world, D(2026, 5, 15), MeasureStatus.ONGOING)
    sweep(session, world, D(2026, 5, 15))
    session.refresh(row)
    assert (row.resolved_on, row.resolution) == (D(2026, 5, 15), "Uppföljningen är besvarad")


def check_one_missed_follow_up_is_not_stalled(session: Session, world: World) -> None:
    """An answered round between two missed ones breaks the run."""
    new_task(session, world, D(2025, 5, 6), assignee=None)
    answered = new_task(session, world, D(2025, 11, 4), assignee=None)
    answered.state = TaskState.DONE
    new_task(session, world, DUE, assignee=None)
    session.flush()
    sweep(session, world, D(2026, 5, 13))
    assert escalations(session, EscalationReason.MISSED_FOLLOW_UPS) == []


def check_missed_follow_ups_keep_one_escalation_while_the_run_grows(session: Session, world: World) -> None:
    """A third missed round keeps the same escalation: cause_since is the run's first due date."""
    new_task(session, world, D(2025, 5, 6), assignee=None)
    new_task(session, world, D(2025, 11, 4), assignee=None)
    sweep(session, world, D(2025, 11, 5))
    new_task(session, world, DUE, assignee=None)
    sweep(session, world, D(2026, 5, 13))
    rows = by_leader(session, world, EscalationReason.MISSED_FOLLOW_UPS)
    assert [(row.cause_since, row.opened_on, row.resolved_on) for row in rows] == [
        (D(2025, 5, 6), D(2025, 11, 5), None)
    ]


def check_stalled_detail_lists_what_was_tried(session: Session, world: World) -> None:
    """The detail names the ansvarig and counts the reminders and level-1 escalations with their dates."""
    new_task(session, world, D(2026, 4, 14))
    # The ladder days of both tasks (Easter 3–6 April and the 1st of May fall in between), and the
    # level-1 day of the first.
    sweep_days(session, world, [D(2026, 4, 9), D(2026, 4, 14), D(2026, 4, 21), D(2026, 4, 28), D(2026, 5, 6)])
    new_task(session, world, DUE)
    sweep_days(session, world, [D(2026, 5, 7), D(2026, 5, 12), D(2026, 5, 13)])
    (row,) = by_leader(session, world, EscalationReason.MISSED_FOLLOW_UPS)
    assert row.detail == (
        'Åtgärden "Trygghetsvandringar i centrum" har avstannat: 2 uppföljningar i rad utan statusrapport, '
        "sedan tisdag 14 april 2026. Status: pågående. Ansvarig: Eva Ansvarig. Försök hittills: "
        "8 påminnelser (9 april 2026, 14 april 2026, 21 april 2026, 28 april 2026, 6 maj 2026, 7 maj 2026, "
        "12 maj 2026, 13 maj 2026) och 1 eskalering till chef eller BRÅ-samordnare (21 april 2026)."
    )


def check_delayed_reports_in_a_row_fire_resolve_and_return(session: Session, world: World) -> None:
    """Two försenad in a row open it (a report dated later is not seen early); pågående resolves it;
    two new försenad open a new one with a new cause_since."""
    report(session, world, D(2026, 3, 2), MeasureStatus.DELAYED)
    report(session, world, D(2026, 4, 1), MeasureStatus.DELAYED)
    sweep(session, world, D(2026, 3, 31))
    assert escalations(session, EscalationReason.DELAYED_REPORTS) == []
    sweep(session, world, D(2026, 4, 1))
    report(session, world, D(2026, 4, 15), MeasureStatus.DELAYED)
    sweep(session, world, D(2026, 4, 15))
    report(session, world, D(2026, 5, 4), MeasureStatus.ONGOING)
    events = sweep(session, world, D(2026, 5, 4))
    assert [(event.kind, event.level) for event in events] == [("eskalering löst", 2), ("eskalering löst", 2)]
    report(session, world, D(2026, 5, 18), MeasureStatus.DELAYED)
    report(session, world, D(2026, 6, 1), MeasureStatus.DELAYED)
    sweep(session, world, D(2026, 5, 18))
    sweep(session, world, D(2026, 6, 1))
    rows = by_leader(session, world, EscalationReason.DELAYED_REPORTS)
    assert [(row.cause_since, row.opened_on, row.resolved_on, row.resolution) for row in rows] == [
        (D(2026, 3, 2), D(2026, 4, 1), D(2026, 5, 4), "Ny statusrapport: pågående"),
        (D(2026, 5, 18), D(2026, 6, 1), None, ""),
    ]
    assert rows[0].subject == (
        'Avstannad åtgärd: "Trygghetsvandringar i centrum" – 2 statusrapporter i rad med status försenad'
    )


def check_reported_stalled_fires_on_the_report_and_resolves_when_completed(
    session: Session, world: World
) -> None:
    """Latest report avstannad opens it that day; a report genomförd resolves it."""
    report(session, world, D(2026, 5, 4), MeasureStatus.STALLED)
    sweep(session, world, D(2026, 5, 4))
    report(session, world, D(2026, 5, 11), MeasureStatus.COMPLETED)
    sweep(session, world, D(2026, 5, 8))
    sweep(session, world, D(2026, 5, 11))
    rows = by_leader(session, world, EscalationReason.REPORTED_STALLED)
    assert [(row.cause_since, row.opened_on, row.resolved_on, row.resolution) for row in rows] == [
        (D(2026, 5, 4), D(2026, 5, 4), D(2026, 5, 11), "Ny statusrapport: genomförd")
    ]


def check_past_end_date_fires_after_the_grace_and_resolves_when_done(session: Session, world: World) -> None:
    """Ended 2026-05-12, grace 10 working days: not on the 26th, on the 27th; genomförd resolves it."""
    late = new_measure(
        session, world.kommun, world.plan, world.area, "Kameror vid resecentrum", period_end=DUE
    )
    sweep(session, world, D(2026, 5, 26))
    assert escalations(session, EscalationReason.PAST_END_DATE) == []
    sweep(session, world, D(2026, 5, 27))
    measure = session.get(Measure, late)
    assert measure is not None
    measure.status = MeasureStatus.COMPLETED
    session.flush()
    sweep(session, world, D(2026, 5, 28))
    rows = by_leader(session, world, EscalationReason.PAST_END_DATE)
    assert [
        (row.measure_id, row.cause_since, row.opened_on, row.resolved_on, row.resolution) for row in rows
    ] == [(late, DUE, D(2026, 5, 27), D(2026, 5, 28), "Åtgärden är genomförd")]
    assert rows[0].dedupe_key == f"eskalering:efter_slutdatum:{late}:2026-05-12:L2:{world.leaders[0]}"


def check_overdue_insats_fires_after_the_threshold_and_resolves_when_closed(
    session: Session, world: World
) -> None:
    """An open insats 10 working days past due goes to kommunledningen; closing it resolves it."""
    insats = add(
        session,
        Intervention(
            municipality_id=world.kommun,
            title="Belysning vid busshållplatsen",
            area="Centrum",
            responsible_person_id=world.ansvarig,
            due_date=DUE,
        ),
    )
    sweep(session, world, D(2026, 5, 26))
    assert escalations(session, EscalationReason.INTERVENTION_OVERDUE) == []
    sweep(session, world, D(2026, 5, 27))
    row = session.get(Intervention, insats)
    assert row is not None
    row.state, row.closed_on = InterventionState.DONE, D(2026, 5, 28)
    session.flush()
    sweep(session, world, D(2026, 5, 28))
    rows = by_leader(session, world, EscalationReason.INTERVENTION_OVERDUE)
    assert [
        (r.intervention_id, r.measure_id, r.cause_since, r.opened_on, r.resolved_on, r.resolution)
        for r in rows
    ] == [(insats, None, DUE, D(2026, 5, 27), D(2026, 5, 28), "Insatsen är genomförd")]
    assert (
        rows[0].subject
        == 'Försenad insats: "Belysning vid busshållplatsen" skulle vara genomförd senast tisdag 12 maj 2026'
    )
    assert rows[0].detail == (
        'Insatsen "Belysning vid busshållplatsen" i Centrum, beslutad vid EST, skulle vara genomförd senast '
        "tisdag 12 maj 2026 och är nu 10 arbetsdagar försenad. Ansvarig: Eva Ansvarig. "
        "Försök hittills: inga påminnelser eller eskaleringar."
    )


def test_stalled_measures_escalate_at_their_thresholds_and_resolve(engine: sa.Engine) -> None:
    """Each stalled rule opens level 2 exactly at its threshold and resolves when its cause goes away."""
    run_checks(
        engine,
        check_missed_follow_ups_fire_after_the_second_due_date_and_resolve,
        check_one_missed_follow_up_is_not_stalled,
        check_missed_follow_ups_keep_one_escalation_while_the_run_grows,
        check_stalled_detail_lists_what_was_tried,
        check_delayed_reports_in_a_row_fire_resolve_and_return,
        check_reported_stalled_fires_on_the_report_and_resolves_when_completed,
        check_past_end_date_fires_after_the_grace_and_resolves_when_done,
        check_overdue_insats_fires_after_the_threshold_and_resolves_when_closed,
    )


# ---------------------------------------------------------------------------------------------------
# Idempotency


def row_counts(session: Session) -> list[int]:
    counts = [
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Task, Reminder, Escalation, StatusReport)
    ]
    done = session.exec(select(func.count()).select_from(Task).where(Task.state == TaskState.DONE)).one()
    resolved = session.exec(
        select(func.count()).select_from(Escalation).where(col(Escalation.resolved_on).is_not(None))
    ).one()
    return [*counts, done, resolved]


def check_running_twice_the_same_day_creates_nothing_the_second_time(session: Session, world: World) -> None:
    """The second sweep of a day returns [] and leaves every row count as it was."""
    new_task(session, world, D(2026, 5, 6), kind=TaskKind.PLAN_REVISION, measure=None, key="a")  # L1
    new_task(session, world, D(2026, 5, 27), key="b")  # answered by the report of the 20th
    new_task(session, world, D(2026, 4, 1), kind=TaskKind.PLAN_REVISION, measure=None, assignee=None, key="c")
    new_task(session, world, D(2026, 5, 27), kind=TaskKind.REPORT_INCIDENTS, measure=None, key="d")  # due day
    report(session, world, D(2026, 5, 4), MeasureStatus.DELAYED)
    report(session, world, D(2026, 5, 20), MeasureStatus.DELAYED)
    add(session, Intervention(municipality_id=world.kommun, title="Insats", due_date=D(2026, 4, 1)))
    first = sweep(session, world, D(2026, 5, 27))
    counts = row_counts(session)
    # Escalations: a → chef; c → coordinator and both leaders; försenad twice → both leaders; insats → both.
    # Reminders: a and d are announced ("ny uppgift": their first message; d's due day is today too).
    assert Counter(event.kind for event in first) == {"uppgift klar": 1, "påminnelse": 2, "eskalering": 8}
    assert sweep(session, world, D(2026, 5, 27)) == []
    assert row_counts(session) == counts


def test_a_second_sweep_of_the_same_day_creates_nothing(engine: sa.Engine) -> None:
    """Run again in the same transaction, after a commit, or at once on PostgreSQL: nothing is doubled."""
    run_checks(engine, check_running_twice_the_same_day_creates_nothing_the_second_time)
    with Session(engine) as session, session.begin():
        world = build_world(session)
        new_task(session, world, D(2026, 4, 1))
    day = D(2026, 5, 27)  # 36 working days late: level 1 and 2, and its first message (a "ny uppgift")
    with Session(engine) as first, first.begin():
        events = sweep(first, world, day)
    with Session(engine) as second, second.begin():
        assert sweep(second, world, day) == []
    assert Counter(event.kind for event in events) == {"eskalering": 3, "påminnelse": 1}
    if engine.dialect.name == "postgresql":
        check_concurrent_sweeps_wait_and_insert_nothing(engine, world, D(2026, 5, 28))


def check_concurrent_sweeps_wait_and_insert_nothing(engine: sa.Engine, world: World, day: date) -> None:
    """A sweep racing an uncommitted one blocks on its keys, then inserts nothing (PostgreSQL; SQLite
    has a single writer lock, so there the second sweep simply runs after the first)."""
    with Session(engine) as session, session.begin():
        new_task(session, world, day, key="racing")
    found: dict[str, list[Event]] = {}

    def second_sweep() -> None:
        with Session(engine) as second, second.begin():
            found["second"] = sweep(second, world, day)

    with Session(engine) as first:
        first.begin()
        found["first"] = sweep(first, world, day)
        racer = threading.Thread(target=second_sweep)
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive()  # waiting for the first sweep's uncommitted reminder key
        first.commit()
    racer.join(timeout=10)
    assert [event.kind for event in found["first"]] == ["påminnelse"]
    with Session(engine) as session:
        keys = session.exec(select(Reminder.dedupe_key).where(Reminder.remind_on == day)).all()
    assert keys == [f"påminnelse:{session_task_id(engine, 'racing')}:{day.isoformat()}"]
    assert found["second"] == []


def session_task_id(engine: sa.Engine, key: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Task.id).where(Task.idempotency_key == key)).one() or 0


SPAN = [D(2026, 5, 1) + timedelta(days=offset) for offset in range(60)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run_days=st.lists(st.sampled_from(SPAN), min_size=1, max_size=20))
def test_any_sequence_of_days_keeps_reminders_and_escalations_unique(
    engine: sa.Engine, run_days: list[date]
) -> None:
    """Days in any order, with repeats: one reminder per task and day, on ladder working days only,
    and never two open escalations with the same key."""
    with Session(engine) as session:
        world = build_world(session)
        tasks = [
            new_task(session, world, D(2026, 5, 12)),
            new_task(session, world, D(2026, 5, 4), key="b"),
            new_task(session, world, D(2026, 6, 2), assignee=None, key="c"),
        ]
        report(session, world, D(2026, 5, 20), MeasureStatus.DELAYED)
        report(session, world, D(2026, 6, 5), MeasureStatus.DELAYED)
        for day in run_days:
            sweep(session, world, day)
        found = reminders(session)
        assert len({(row.task_id, row.remind_on) for row in found}) == len(found)
        due = {task.id: task.due_date for task in tasks}
        ladder = ReminderLadder(dagar_fore=3, pa_forfallodagen=True, upprepa_var=5)
        for row in found:
            assert is_working_day(row.remind_on)
            assert row.remind_on in run_days
            if row.kind == ReminderKind.NEW_TASK:  # a task's first message, on the first sweep that sees it
                assert sum(1 for r in found if r.task_id == row.task_id and r.kind == row.kind) == 1
                continue
            assert reminder_kind_on(due[row.task_id], row.remind_on, ladder) == row.kind
        still_open = [row.dedupe_key for row in escalations(session) if row.resolved_on is None]
        assert len(set(still_open)) == len(still_open)
        session.rollback()


# ---------------------------------------------------------------------------------------------------
# A realistic run on Falun


def check_falun_spring_2026(engine: sa.Engine, falun: int) -> None:
    """Falun, tasks due 2026-05-04 for every measure, half answered: reminders only on working days and
    only for open tasks; level 1 on 11 May, level 2 on 26 May to Karin Dahl; measure 18 past its end."""
    with Session(engine) as session:
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        all_measures = measures(session, falun)
        due = D(2026, 5, 4)
        for measure in all_measures:
            assignee = responsible_person(session, measure.id or 0, falun)
            session.add(
                Task(
                    municipality_id=falun,
                    kind=TaskKind.STATUS_REPORT,
                    subject=f"Statusrapport 2026H1: {measure.title[:40]}",
                    due_date=due,
                    idempotency_key=f"statusrapport:{measure.id}:2026H1",
                    measure_id=measure.id,
                    assignee_person_id=assignee.id if assignee else None,
                )
            )
            if (measure.id or 0) % 2 == 0:
                session.add(
                    StatusReport(
                        municipality_id=falun,
                        measure_id=measure.id or 0,
                        reported_on=D(2026, 4, 28),
                        status=MeasureStatus.ONGOING,
                    )
                )
        session.flush()
        events: list[Event] = []
        for day in days(D(2026, 4, 27), D(2026, 5, 27)):
            events.extend(run_daily_sweep(session, municipality, day))
        answered = {measure.id for measure in all_measures if (measure.id or 0) % 2 == 0}
        unanswered = len(all_measures) - len(answered)
        found = reminders(session)
        assert all(is_working_day(row.remind_on) for row in found)
        tasks = {task.id: task for task in session.exec(select(Task).where(Task.municipality_id == falun))}
        assert not [
            row
            for row in found
            if tasks[row.task_id].measure_id in answered and row.remind_on > D(2026, 4, 28)
        ]
        overdue = escalations(session, EscalationReason.TASK_OVERDUE)
        assert Counter((row.level, row.opened_on) for row in overdue) == {
            (1, D(2026, 5, 11)): unanswered,
            (2, D(2026, 5, 26)): unanswered,
        }
        karin = session.exec(select(Person).where(Person.name == "Karin Dahl")).one()
        assert {row.recipient_person_id for row in overdue if row.level == 2} == {karin.id}
        past_end = escalations(session, EscalationReason.PAST_END_DATE)
        assert [
            (row.measure_id, row.cause_since, row.opened_on, row.recipient_person_id) for row in past_end
        ] == [(18, D(2025, 12, 31), D(2026, 4, 27), karin.id)]
        assert Counter(event.kind for event in events)["uppgift klar"] == len(answered)
        session.rollback()


def test_falun_realistic_run(engine: sa.Engine, falun: int) -> None:
    """On Falun's directory and plan the sweep reminds on working days and escalates by the directory."""
    check_falun_recipients_follow_the_directory(engine, falun)
    check_falun_spring_2026(engine, falun)


def test_flow_is_named_and_described() -> None:
    """The Prefect flow wraps the sweep under the name the schedules use."""
    assert daily_sweep_flow.name == "daglig-kontroll"
    assert (
        daily_sweep_flow.description
        == "Daglig kontroll kl 07.00 på arbetsdagar: påminnelser och eskaleringar."
    )
