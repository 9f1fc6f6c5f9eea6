"""The EST cycle on Falun's example: meetings every 14 days at 09:00 local, tasks before each, once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from cycles.est import CATCH_UP_PERIODS, run_est_cycle
from cycles.est_calendar import cycle_number_at, meeting_at, meeting_date, report_due_date
from importers.directory_import import read_directory
from models.db import transaction
from models.directory import Person
from models.est import EstCycle, Intervention, InterventionState
from models.municipality import Municipality
from models.records import Event
from models.rhythm import Rhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState
from models.working_days import is_working_day, working_days_between, working_days_in

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FALUN_RHYTHM = rhythm_from_json(
    {"est": {"forsta_mote": "2025-01-07", "tid": "09:00", "rapportera_dagar_fore": 2}}
)


def run(engine: sa.Engine, kommun_id: int, as_of: date) -> list[Event]:
    with transaction(engine) as session:
        municipality = session.get(Municipality, kommun_id)
        assert municipality is not None
        return run_est_cycle(session, municipality, as_of)


def est_member_ids(engine: sa.Engine, kommun_id: int) -> set[int]:
    """The EST group's members, straight from forum_member (not through the code under test)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT fm.person_id FROM forum_member fm JOIN forum f ON f.id = fm.forum_id "
                "WHERE f.municipality_id = :kommun AND f.kind = 'est_grupp'"
            ),
            {"kommun": kommun_id},
        )
        return {row[0] for row in rows}


def tasks(engine: sa.Engine) -> list[Task]:
    with transaction(engine) as session:
        return list(session.exec(select(Task).order_by(col(Task.idempotency_key))))


def cycles(engine: sa.Engine) -> list[EstCycle]:
    with transaction(engine) as session:
        return list(session.exec(select(EstCycle).order_by(col(EstCycle.number))))


def person_id(engine: sa.Engine, email: str) -> int:
    with transaction(engine) as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
        return person.id or 0


def test_meeting_one_is_tuesday_7_january_at_nine_local():
    """Meeting 1 is the rhythm's first date at 09:00 Stockholm time, 08:00 UTC in winter."""
    assert meeting_date(FALUN_RHYTHM, 1) == date(2025, 1, 7)
    assert meeting_at(FALUN_RHYTHM, 1) == datetime(2025, 1, 7, 8, tzinfo=UTC)
    assert type(meeting_at(FALUN_RHYTHM, 1)) is datetime
    assert meeting_at(FALUN_RHYTHM, 2) == datetime(2025, 1, 21, 8, tzinfo=UTC)


def test_summer_meeting_is_seven_utc():
    """Across the spring DST change the local time stays 09:00, so the UTC hour becomes 07:00."""
    assert meeting_date(FALUN_RHYTHM, 12) == date(2025, 6, 10)
    assert meeting_at(FALUN_RHYTHM, 12) == datetime(2025, 6, 10, 7, tzinfo=UTC)
    assert meeting_at(FALUN_RHYTHM, 7) == datetime(2025, 4, 1, 7, tzinfo=UTC)  # first after 30 March
    assert meeting_at(FALUN_RHYTHM, 6) == datetime(2025, 3, 18, 8, tzinfo=UTC)  # last before it


def test_meetings_are_numbered_from_one():
    """Meeting 0 does not exist."""
    with pytest.raises(ValueError, match="numreras från 1"):
        meeting_at(FALUN_RHYTHM, 0)


@pytest.mark.parametrize(
    ("as_of", "number"),
    [
        (date(2024, 6, 1), 1),
        (date(2025, 1, 6), 1),
        (date(2025, 1, 7), 1),
        (date(2025, 1, 8), 2),
        (date(2025, 1, 21), 2),
        (date(2025, 1, 22), 3),
        (date(2026, 1, 6), 27),
    ],
)
def test_cycle_number_is_first_meeting_on_or_after(as_of, number):
    """cycle_number_at gives the first meeting on or after the day (meeting 1 for any day before it)."""
    assert cycle_number_at(FALUN_RHYTHM, as_of) == number


def test_report_due_two_working_days_before_across_trettondedag():
    """Meeting Tue 2025-01-07: Mon 6 Jan is Trettondedag jul, so 2 working days before is Thu 2 Jan."""
    due = report_due_date(FALUN_RHYTHM, 1)
    assert due == date(2025, 1, 2)
    # The two working days between: Fri 3 Jan and the meeting day itself (d with due < d <= meeting).
    assert working_days_between(due, date(2025, 1, 7)) == 2
    assert report_due_date(FALUN_RHYTHM, 2) == date(2025, 1, 17)  # Tue 21 Jan: Mon 20, Fri 17


def test_meeting_on_a_holiday_is_held_and_due_dates_move_back():
    """Meeting 27 falls on Trettondedag 2026 (a Tuesday): held at 09:00 anyway, reports due Fri 2 Jan."""
    assert meeting_date(FALUN_RHYTHM, 27) == date(2026, 1, 6)
    assert not is_working_day(date(2026, 1, 6))
    assert meeting_at(FALUN_RHYTHM, 27) == datetime(2026, 1, 6, 8, tzinfo=UTC)
    assert report_due_date(FALUN_RHYTHM, 27) == date(2026, 1, 2)  # Mon 5 Jan, Fri 2 Jan
    # Nyårsdagen 2030 is a Tuesday meeting; nyårsafton is non-working too: Mon 30 Dec, Fri 27 Dec.
    assert meeting_date(FALUN_RHYTHM, 131) == date(2030, 1, 1)
    assert report_due_date(FALUN_RHYTHM, 131) == date(2029, 12, 27)


def test_falun_directory_rhythm_is_the_one_tested():
    """The tests' rhythm is the EST rhythm of Falun's directory (the one the falun fixture imports)."""
    rhythm = read_directory(EXAMPLES / "falun-katalog.yaml").rhythm
    assert rhythm is not None
    # The meeting calendar and the report lead; the example also configures the EST incidents (areas,
    # thresholds, the agenda's lead), which these tests do not use.
    fields = ("first_meeting", "meeting_time", "interval_days", "report_lead_working_days")
    assert {name: getattr(rhythm.est, name) for name in fields} == {
        name: getattr(FALUN_RHYTHM.est, name) for name in fields
    }


def test_first_cycle_on_2_january(engine, falun):
    """On 2025-01-02: EST cycle 1 and one report task per EST member, due 2025-01-02; once only."""
    events = run(engine, falun, date(2025, 1, 2))
    members = est_member_ids(engine, falun)
    assert len(members) == 7

    [cycle] = cycles(engine)
    assert (cycle.number, cycle.period_start, cycle.period_end) == (1, date(2024, 12, 25), date(2025, 1, 7))
    assert cycle.meeting_at == datetime(2025, 1, 7, 8, tzinfo=UTC)
    assert cycle.meeting_at.astimezone(STOCKHOLM).time() == time(9, 0)

    created = tasks(engine)
    assert len(created) == len(members)
    assert {task.assignee_person_id for task in created} == members
    assert {task.idempotency_key for task in created} == {f"rapportera:{member}:EST-1" for member in members}
    assert {
        (task.kind, task.subject, task.due_date, task.period_label, task.state, task.municipality_id)
        for task in created
    } == {
        (
            TaskKind.REPORT_INCIDENTS,
            "Rapportera händelser till EST-möte 1 (tisdag 7 januari 2025)",
            date(2025, 1, 2),
            "EST-1",
            TaskState.OPEN,
            falun,
        )
    }
    assert [event.kind for event in events] == ["ny period"] + ["uppgift"] * 7
    assert events[0].subject == ("EST-period 1 (2024-12-25–2025-01-07), möte tisdag 7 januari 2025 kl. 09:00")
    assert {event.when for event in events} == {date(2025, 1, 2)}
    assert "Jonas Ek" in {event.recipient for event in events}

    # Run again, the same day and the next: nothing new, no events.
    assert run(engine, falun, date(2025, 1, 2)) == []
    assert run(engine, falun, date(2025, 1, 3)) == []
    assert [(c.id, c.number) for c in cycles(engine)] == [(cycle.id, 1)]
    assert [(t.id, t.idempotency_key) for t in tasks(engine)] == [(t.id, t.idempotency_key) for t in created]


def test_run_on_a_meeting_day_prepares_the_next_meeting(engine, falun):
    """On summer meeting day 12 (when the schedule fires): rows 12 and 13 at 07:00 UTC, tasks only for 13;
    the closed periods 1–12, never judged, are judged now, without "ny period" events."""
    events = run(engine, falun, date(2025, 6, 10))
    rows = cycles(engine)
    assert [(c.number, c.meeting_at) for c in rows if c.period_end >= date(2025, 6, 10)] == [
        (12, datetime(2025, 6, 10, 7, tzinfo=UTC)),
        (13, datetime(2025, 6, 24, 7, tzinfo=UTC)),
    ]
    assert [(c.number, c.judged_on) for c in rows if c.judged_on is not None] == [
        (number, date(2025, 6, 10)) for number in range(1, 13)
    ]
    created = tasks(engine)
    assert len(created) == 7
    # Tue 24 June: Mon 23 is one working day before, Fri 20 is midsommarafton, Thu 19 is the second.
    assert {(task.period_label, task.due_date) for task in created} == {("EST-13", date(2025, 6, 19))}
    assert [event.kind for event in events] == ["ny period", "ny period"] + ["uppgift"] * 7


def test_open_intervention_is_followed_up_closed_is_not(engine, falun):
    """An open insats with an ansvarig gets a follow-up task; a done one and one without ansvarig do not."""
    police = person_id(engine, "jonas.ek@example.se")
    with transaction(engine) as session:
        open_one = Intervention(
            municipality_id=falun,
            title="Ökad närvaro vid resecentrum",
            responsible_person_id=police,
            due_date=date(2025, 1, 31),
        )
        done = Intervention(
            municipality_id=falun,
            title="Belysning i gångtunneln",
            responsible_person_id=police,
            due_date=date(2024, 12, 20),
            state=InterventionState.DONE,
            closed_on=date(2024, 12, 18),
        )
        nobody = Intervention(municipality_id=falun, title="Kartlägg klotter", due_date=date(2025, 2, 1))
        session.add_all([open_one, done, nobody])
        session.flush()
        open_id = open_one.id
    events = run(engine, falun, date(2025, 1, 2))
    follow_ups = [task for task in tasks(engine) if task.kind is TaskKind.INTERVENTION_FOLLOW_UP]
    assert [
        (task.idempotency_key, task.subject, task.assignee_person_id, task.due_date) for task in follow_ups
    ] == [
        (
            f"insats:{open_id}:EST-1",
            'Följ upp insatsen "Ökad närvaro vid resecentrum" inför EST-möte 1',
            police,
            date(2025, 1, 2),
        )
    ]
    assert len(events) == 1 + 7 + 1
    assert run(engine, falun, date(2025, 1, 2)) == []


def test_kommun_without_est_group_has_no_est(engine):
    """A kommun with no forum of kind est_grupp gets no cycle and no tasks."""
    with transaction(engine) as session:
        orsa = Municipality(name="Orsa", code="2034")
        session.add(orsa)
        session.flush()
        assert run_est_cycle(session, orsa, date(2025, 1, 2)) == []
    assert cycles(engine) == []
    assert tasks(engine) == []


def first_meeting_on_or_after(rhythm: Rhythm, as_of: date) -> tuple[int, date]:
    """An independent oracle: walk the meetings one by one."""
    number, day = 1, rhythm.est.first_meeting
    while day < as_of:
        number, day = number + 1, day + timedelta(days=rhythm.est.interval_days)
    return number, day


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(as_of=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
def test_any_day_opens_the_first_meeting_on_or_after(engine, falun, as_of):
    """Any day 2025–2030: the cycle is the first meeting on/after it, at 09:00 local, tasks due on a
    working day before their meeting (and the next meeting too when the day is a meeting day); the
    closed periods of the last year are judged."""
    number, day = first_meeting_on_or_after(FALUN_RHYTHM, as_of)
    with Session(engine) as session:
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        try:
            run_est_cycle(session, municipality, as_of)
            every = list(session.exec(select(EstCycle).order_by(col(EstCycle.number))))
            rows = [(row.number, row.period_end, row.meeting_at) for row in every if row.period_end >= as_of]
            judged = [row.number for row in every if row.judged_on == as_of]
            created = [(task.period_label, task.due_date) for task in session.exec(select(Task))]
        finally:
            session.rollback()  # each example starts from the same database
    expected = [number, number + 1] if day == as_of else [number]
    assert [row[0] for row in rows] == expected
    # Every closed period of the last year (none before meeting 1) was judged: a first run catches up.
    held = number if day == as_of else number - 1
    assert judged == list(range(max(1, held - CATCH_UP_PERIODS + 1), held + 1))
    assert rows[0][1:] == (day, meeting_at(FALUN_RHYTHM, number))
    assert {row[2].astimezone(STOCKHOLM).time() for row in rows} == {time(9, 0)}
    asked_number, asked_day, _ = rows[-1]
    assert asked_day > as_of
    assert len(created) == 7
    assert {label for label, _ in created} == {f"EST-{asked_number}"}
    [due] = {due for _, due in created}
    assert is_working_day(due)
    assert due < asked_day
    # Due on the 2nd working day before the meeting: exactly 2 working days in [due, meeting).
    assert len(working_days_in(due, asked_day - timedelta(days=1))) == 2


def test_tasks_of_a_held_meeting_become_missed(engine, falun):
    """On a meeting day, the still-open report tasks of that meeting become missed (no more reminders);
    answered ones stay done, and the next meeting's tasks are open."""
    run(engine, falun, date(2025, 1, 8))  # prepares meeting 2 (2025-01-21)
    with transaction(engine) as session:
        answered = session.exec(select(Task).where(Task.period_label == "EST-2")).first()
        assert answered is not None
        answered.state = TaskState.DONE
        session.add(answered)
    events = run(engine, falun, date(2025, 1, 21))
    missed = [event for event in events if event.kind == "uppgift missad"]
    states = Counter((task.period_label, task.state) for task in tasks(engine))
    members = len(est_member_ids(engine, falun))
    assert len(missed) == members - 1
    assert states[("EST-2", TaskState.MISSED)] == members - 1
    assert states[("EST-2", TaskState.DONE)] == 1
    assert states[("EST-3", TaskState.OPEN)] == members
    assert [event.kind for event in run(engine, falun, date(2025, 1, 21))] == []
