"""The åtgärdsplan follow-up cycle on Falun's example: rounds, status tasks, compilation, catch-up."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from core.text import shorten
from cycles.follow_up import (
    TITLE_LENGTH,
    answered,
    compile_due_rounds,
    follow_up_and_compile,
    follow_up_occasions,
    responsible_persons,
    run_follow_up_cycle,
    stamp,
)
from flows.deployments import follow_up_flow
from models.db import make_engine, transaction
from models.enums import FollowUpFrequency, MeasureStatus
from models.follow_up import FollowUpRound
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.records import Event
from models.responsibility import responsible_person
from models.rhythm import rhythm_from_json
from models.task import Task, TaskKind, TaskState, task_by_key
from models.working_days import is_working_day
from tests.conftest import _fresh_postgres, import_falun

# Faluns BRÅ's May and November meetings 2025–2027 and their due dates, 10 working days before
# (Kristi himmelsfärdsdag 2026-05-14 and 2027-05-06 are skipped when counting back).
FALUN_OCCASIONS = [
    (date(2025, 5, 20), "2025H1", date(2025, 5, 6)),
    (date(2025, 11, 18), "2025H2", date(2025, 11, 4)),
    (date(2026, 5, 19), "2026H1", date(2026, 5, 4)),
    (date(2026, 11, 17), "2026H2", date(2026, 11, 3)),
    (date(2027, 5, 18), "2027H1", date(2027, 5, 3)),
    (date(2027, 11, 16), "2027H2", date(2027, 11, 2)),
]

# The measures the cycle should ask, by the rule, written as SQL independently of the code.
ACTIVE_SQL = sa.text(
    """
    SELECT m.id FROM measure m JOIN action_plan p ON p.id = m.plan_id
    WHERE p.municipality_id = :kommun
      AND m.status NOT IN ('genomförd', 'avbruten')
      AND (m.period_start IS NULL OR m.period_start <= :meeting)
      AND (COALESCE(m.follow_up_frequency, p.default_follow_up_frequency, '') <> 'årsvis' OR :half = 2)
    """
).bindparams(sa.bindparam("meeting", type_=sa.Date))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def falun_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.Engine, int]]:
    """Falun (directory, rhythm, åtgärdsplan 2024) imported once per module and database kind.

    The same data as conftest's ``falun`` fixture; every test works in a transaction that is rolled
    back (see ``session``), so importing once keeps the module fast on both databases.
    """
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("follow_up") / "samordna.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = _fresh_postgres(request.getfixturevalue("postgres_admin_url"))
    url = next(urls)
    engine = make_engine(url)
    with transaction(engine) as session:
        kommun = import_falun(session)
    yield engine, kommun
    engine.dispose()
    next(urls, None)  # drops the PostgreSQL database


@pytest.fixture
def session(falun_db: tuple[sa.Engine, int]) -> Iterator[Session]:
    """A session on the Falun database whose work is rolled back when the test ends."""
    with Session(falun_db[0]) as session:
        try:
            yield session
        finally:
            session.rollback()


@pytest.fixture
def falun(falun_db: tuple[sa.Engine, int]) -> int:
    """Falun's kommun id (shadows conftest's fixture: the data comes from ``falun_db``)."""
    return falun_db[1]


def falun_of(session: Session, kommun: int) -> Municipality:
    municipality = session.get(Municipality, kommun)
    assert municipality is not None
    return municipality


def run(session: Session, kommun: int, as_of: date) -> list[Event]:
    return run_follow_up_cycle(session, falun_of(session, kommun), as_of)


def compile_rounds(session: Session, kommun: int, as_of: date) -> list[Event]:
    return compile_due_rounds(session, falun_of(session, kommun), as_of)


def measure_ids(session: Session, kommun: int) -> list[int]:
    return [
        measure_id
        for measure_id in session.exec(
            select(Measure.id).where(Measure.municipality_id == kommun).order_by(col(Measure.id))
        )
        if measure_id is not None
    ]


def change_measure(session: Session, measure_id: int, **values: object) -> None:
    measure = session.get(Measure, measure_id)
    assert measure is not None
    for name, value in values.items():
        setattr(measure, name, value)
    session.add(measure)
    session.flush()


def status_tasks(session: Session, label: str) -> list[Task]:
    return list(
        session.exec(select(Task).where(Task.kind == TaskKind.STATUS_REPORT, Task.period_label == label))
    )


def expected_measures(session: Session, kommun: int, meeting: date) -> set[int]:
    half = 1 if meeting.month <= 6 else 2
    rows = session.execute(ACTIVE_SQL, {"kommun": kommun, "meeting": meeting, "half": half})
    return {row[0] for row in rows}


def row_counts(session: Session) -> tuple[int, int]:
    tasks = session.execute(sa.text("SELECT count(*) FROM task")).scalar_one()
    rounds = session.execute(sa.text("SELECT count(*) FROM follow_up_round")).scalar_one()
    return tasks, rounds


def round_of(session: Session, label: str) -> FollowUpRound:
    return session.exec(select(FollowUpRound).where(FollowUpRound.period_label == label)).one()


def test_occasions_are_the_bra_meetings_in_may_and_november(session: Session, falun: int) -> None:
    """Falun's follow-up occasions are Faluns BRÅ's May/November meetings, due 10 working days before."""
    municipality = falun_of(session, falun)
    occasions = follow_up_occasions(session, municipality, rhythm_from_json(municipality.rhythm))
    assert [(o.meeting_date, o.period_label, o.due_date) for o in occasions] == FALUN_OCCASIONS
    assert [o.create_on for o in occasions] == [due - timedelta(days=30) for _, _, due in FALUN_OCCASIONS]


def test_one_status_task_per_active_measure_at_every_occasion(session: Session, falun: int) -> None:
    """Each round asks exactly the active measures once each, due on a working day before the meeting."""
    ids = measure_ids(session, falun)
    change_measure(session, ids[0], status=MeasureStatus.COMPLETED)
    change_measure(session, ids[1], status=MeasureStatus.CANCELLED)
    change_measure(session, ids[2], period_start=date(2025, 9, 1))  # starts after the 2025H1 meeting
    change_measure(session, ids[3], follow_up_frequency=FollowUpFrequency.YEARLY)
    for meeting, label, due in FALUN_OCCASIONS:
        events = run(session, falun, due - timedelta(days=30))
        tasks = status_tasks(session, label)
        wanted = expected_measures(session, falun, meeting)
        assert len(tasks) == len(events) == len(wanted)
        assert {task.measure_id for task in tasks} == wanted
        assert {task.due_date for task in tasks} == {due}
        assert is_working_day(due)
        assert due < meeting
        assert all(task.idempotency_key == f"statusrapport:{task.measure_id}:{label}" for task in tasks)
    # The exclusions really excluded something: 2 finished, 1 not yet started, 1 yearly in H1.
    assert len(expected_measures(session, falun, date(2025, 5, 20))) == len(ids) - 4
    assert len(expected_measures(session, falun, date(2025, 11, 18))) == len(ids) - 2


def test_yearly_measure_is_asked_only_in_the_second_half(session: Session, falun: int) -> None:
    """A measure followed up yearly gets a task in 2025H2 (arsvis_halvar 2) but not in 2025H1."""
    ids = measure_ids(session, falun)
    yearly = ids[5]
    change_measure(session, yearly, follow_up_frequency=FollowUpFrequency.YEARLY)
    run(session, falun, date(2025, 4, 10))
    run(session, falun, date(2025, 10, 10))
    assert task_by_key(session, f"statusrapport:{yearly}:2025H1") is None
    assert task_by_key(session, f"statusrapport:{ids[6]}:2025H1") is not None
    task = task_by_key(session, f"statusrapport:{yearly}:2025H2")
    assert task is not None
    assert task.due_date == date(2025, 11, 4)


def test_task_carries_assignee_subject_and_round(session: Session, falun: int) -> None:
    """A status task goes to the measure's ansvarig with a Swedish subject naming the round."""
    first = measure_ids(session, falun)[0]
    events = run(session, falun, date(2025, 4, 6))
    task = task_by_key(session, f"statusrapport:{first}:2025H1")
    measure = session.get(Measure, first)
    assert task is not None
    assert measure is not None
    assert task.subject == f"Statusrapport första halvåret 2025: {shorten(measure.title, TITLE_LENGTH)}"
    assert task.subject.startswith(
        "Statusrapport första halvåret 2025: Starta samverkansgrupper i - Nedre Norslund"
    )
    assert task.subject.endswith("…")
    assert len(task.subject) <= len("Statusrapport första halvåret 2025: ") + 120
    assert (task.state, task.measure_id, task.period_label) == (TaskState.OPEN, first, "2025H1")
    assert task.created_at == datetime(2025, 4, 6, 10, 0, tzinfo=UTC)
    round_ = round_of(session, "2025H1")
    assert (round_.meeting_date, round_.due_date, round_.compiled_at) == (
        date(2025, 5, 20),
        date(2025, 5, 6),
        None,
    )
    assert events[0] == Event(date(2025, 4, 6), "uppgift", task.subject, "Anna Lindqvist")


def test_batched_ansvarig_lookup_agrees_with_responsible_person(session: Session, falun: int) -> None:
    """The cycle's batched ansvarig lookup names the same person as responsible_person for every measure."""
    ids = measure_ids(session, falun)
    batched = responsible_persons(session, ids, falun)
    one_by_one = {measure_id: responsible_person(session, measure_id, falun) for measure_id in ids}
    assert {key: person.id if person else None for key, person in batched.items()} == {
        key: person.id if person else None for key, person in one_by_one.items()
    }
    # Falun's plan names organisations (contacts) and forums (the BRÅ-samordnare): both paths are used.
    assert len({person.name for person in batched.values() if person is not None}) > 5
    assert "Anna Lindqvist" in {person.name for person in batched.values() if person is not None}


def test_running_twice_creates_nothing_the_second_time(session: Session, falun: int) -> None:
    """The same as_of twice gives the same rows, and the second run reports nothing."""
    first = run(session, falun, date(2025, 4, 20))
    counts = row_counts(session)
    assert run(session, falun, date(2025, 4, 20)) == []
    assert run(session, falun, date(2025, 5, 2)) == []
    assert row_counts(session) == counts == (len(first), 1)


def test_completed_measure_gets_no_task(session: Session, falun: int) -> None:
    """A measure marked genomförd is not asked; a measure beside it is."""
    done, other = measure_ids(session, falun)[6:8]
    change_measure(session, done, status=MeasureStatus.COMPLETED)
    run(session, falun, date(2025, 10, 5))
    assert task_by_key(session, f"statusrapport:{done}:2025H2") is None
    assert task_by_key(session, f"statusrapport:{other}:2025H2") is not None


def add_report(session: Session, kommun: int, measure_id: int, reported_on: date) -> None:
    session.add(
        StatusReport(
            municipality_id=kommun,
            measure_id=measure_id,
            reported_on=reported_on,
            status=MeasureStatus.ONGOING,
            recorded_at=stamp(reported_on),
        )
    )
    session.flush()


def test_compile_counts_reported_and_closes_the_answered_task(session: Session, falun: int) -> None:
    """Answered tasks close; at the due date the round counts them and compiles, once only."""
    ids = measure_ids(session, falun)
    created = run(session, falun, date(2025, 4, 10))
    add_report(session, falun, ids[0], date(2025, 4, 20))  # in the window 2025-04-06 … 2025-05-20
    add_report(session, falun, ids[1], date(2025, 4, 5))  # the day before the round opened
    assert compile_rounds(session, falun, date(2025, 4, 30)) == [
        Event(date(2025, 4, 30), "uppgift klar", created[0].subject)
    ]
    assert round_of(session, "2025H1").compiled_at is None
    assert compile_rounds(session, falun, date(2025, 5, 6)) == [
        Event(
            date(2025, 5, 6),
            "sammanställning",
            "Uppföljningen för första halvåret 2025 sammanställd inför Faluns BRÅ 2025-05-20: "
            f"1 av {len(created)} statusrapporter inkomna, {len(created) - 1} saknas",
            "Anna Lindqvist",
        )
    ]
    round_ = round_of(session, "2025H1")
    assert (round_.reported_count, round_.missing_count) == (1, len(created) - 1)
    assert round_.compiled_at == datetime(2025, 5, 6, 10, 0, tzinfo=UTC)
    reported = task_by_key(session, f"statusrapport:{ids[0]}:2025H1")
    early = task_by_key(session, f"statusrapport:{ids[1]}:2025H1")
    assert reported is not None
    assert early is not None
    assert (reported.state, reported.closed_at) == (TaskState.DONE, datetime(2025, 4, 30, 10, 0, tzinfo=UTC))
    assert (early.state, early.closed_at) == (TaskState.OPEN, None)
    assert answered(session, reported)
    assert not answered(session, early)
    assert compile_rounds(session, falun, date(2025, 5, 6)) == []
    assert compile_rounds(session, falun, date(2025, 5, 7)) == []
    assert round_of(session, "2025H1").compiled_at == datetime(2025, 5, 6, 10, 0, tzinfo=UTC)


def test_answer_after_compilation_closes_the_task_but_keeps_the_counts(session: Session, falun: int) -> None:
    """An answer before the meeting but after compilation closes its task; the counts stay as compiled."""
    ids = measure_ids(session, falun)
    created = run(session, falun, date(2025, 10, 5))
    assert [event.kind for event in compile_rounds(session, falun, date(2025, 11, 4))] == ["sammanställning"]
    add_report(session, falun, ids[4], date(2025, 11, 10))
    assert [event.kind for event in compile_rounds(session, falun, date(2025, 11, 10))] == ["uppgift klar"]
    round_ = round_of(session, "2025H2")
    assert (round_.reported_count, round_.missing_count) == (0, len(created))
    task = task_by_key(session, f"statusrapport:{ids[4]}:2025H2")
    assert task is not None
    assert task.state == TaskState.DONE


def test_catch_up_after_the_meeting_creates_nothing(session: Session, falun: int) -> None:
    """A late run the day after the meeting opens no round; the meeting day itself still does."""
    assert run(session, falun, date(2025, 5, 21)) == []
    assert row_counts(session) == (0, 0)
    assert run(session, falun, date(2025, 4, 5)) == []  # the day before the creation day
    assert row_counts(session) == (0, 0)
    created = run(session, falun, date(2025, 5, 20))
    assert len(created) == len(expected_measures(session, falun, date(2025, 5, 20)))
    assert row_counts(session) == (len(created), 1)


def test_flow_compiles_before_it_creates(session: Session, falun: int) -> None:
    """The flow is named uppfoljning; it marks unanswered tasks of a held meeting missed, compiles due
    rounds, then opens new ones."""
    assert follow_up_flow.name == "uppfoljning"
    municipality = falun_of(session, falun)
    asked = run_follow_up_cycle(session, municipality, date(2025, 4, 10))
    kinds = [event.kind for event in follow_up_and_compile(session, municipality, date(2025, 10, 5))]
    assert kinds == ["uppgift missad"] * len(asked) + ["sammanställning"] + ["uppgift"] * len(
        expected_measures(session, falun, date(2025, 11, 18))
    )
    h1 = session.exec(select(Task).where(Task.period_label == "2025H1")).all()
    assert {task.state for task in h1} == {TaskState.MISSED}


def test_round_opened_late_is_compiled_on_a_later_day(session: Session, falun: int) -> None:
    """A catch-up run on the due date opens the round; a second run that day changes nothing, the next
    day's run compiles it."""
    municipality = falun_of(session, falun)
    created = follow_up_and_compile(session, municipality, date(2025, 5, 6))
    assert {event.kind for event in created} == {"uppgift"}
    assert follow_up_and_compile(session, municipality, date(2025, 5, 6)) == []
    assert round_of(session, "2025H1").compiled_at is None
    assert [event.kind for event in follow_up_and_compile(session, municipality, date(2025, 5, 7))] == [
        "sammanställning"
    ]
    assert (round_of(session, "2025H1").missing_count, row_counts(session)) == (
        len(created),
        (len(created), 1),
    )


# Random days 2025–2027, and the days where the rules turn: creation day, due date, meeting, day after.
KEY_DAYS = sorted(
    {
        day
        for _, _, due in FALUN_OCCASIONS
        for day in (due - timedelta(days=31), due - timedelta(days=30), due, due + timedelta(days=1))
    }
    | {meeting + timedelta(days=offset) for meeting, _, _ in FALUN_OCCASIONS for offset in (0, 1)}
)
DAYS = st.one_of(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), st.sampled_from(KEY_DAYS)
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(DAYS, min_size=1, max_size=4))
def test_any_run_sequence_asks_each_measure_once_per_round(
    falun_db: tuple[sa.Engine, int], days: list[date]
) -> None:
    """For increasing run days, each run repeated: no (measure, round) twice, every due a working day
    before its meeting, and rounds opened exactly for the meetings some run day fell before."""
    engine, falun = falun_db
    with Session(engine) as session:
        try:
            municipality = falun_of(session, falun)
            for day in sorted(days):
                follow_up_and_compile(session, municipality, day)
                assert follow_up_and_compile(session, municipality, day) == []
            tasks = session.exec(select(Task).where(Task.kind == TaskKind.STATUS_REPORT)).all()
            pairs = [(task.measure_id, task.period_label) for task in tasks]
            assert len(pairs) == len(set(pairs))
            meetings = {label: meeting for meeting, label, _ in FALUN_OCCASIONS}
            assert all(
                is_working_day(task.due_date) and task.due_date < meetings[task.period_label]
                for task in tasks
            )
            opened = {
                label
                for meeting, label, due in FALUN_OCCASIONS
                if any(due - timedelta(days=30) <= day <= meeting for day in days)
            }
            assert {task.period_label for task in tasks} == opened
            assert set(session.exec(select(FollowUpRound.period_label))) == opened
        finally:
            session.rollback()
