"""The EST cycle catches up meetings it did not run at: every closed period judged once, oldest first."""

from __future__ import annotations

import threading
from datetime import date, time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from cycles.daily_sweep import sweep_and_notify
from cycles.est import CATCH_UP_PERIODS, run_est_cycle
from cycles.est_calendar import meeting_date
from models.db import transaction
from models.escalation import Escalation, EscalationReason
from models.est import EstCycle, PersistingProblem
from models.incident import Incident, IncidentSource, store_incidents
from models.municipality import Municipality
from models.outbox import OutboxMessage
from models.rhythm import Rhythm, rhythm_from_json

Snapshot = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


def _rhythm(session: Session, municipality_id: int) -> Rhythm:
    municipality = session.get(Municipality, municipality_id)
    assert municipality is not None
    return rhythm_from_json(municipality.rhythm)


def _meeting(session: Session, municipality_id: int, number: int) -> date:
    return meeting_date(_rhythm(session, municipality_id), number)


def _store(engine: sa.Engine, municipality_id: int, area: str, counts: dict[int, int]) -> None:
    """``counts[n]`` narcotics incidents in ``area`` on the day before EST meeting ``n``."""
    with transaction(engine) as session:
        rows = [
            Incident(
                municipality_id=municipality_id,
                occurred_on=day,
                occurred_time=time(20, index),
                weekday=day.weekday(),
                hour=20,
                area=area,
                category="narkotika",
                source=IncidentSource.ACTOR,
                external_key=f"{municipality_id}:catchup:{area}:{number}:{index}",
            )
            for number, count in counts.items()
            for day in [date.fromordinal(_meeting(session, municipality_id, number).toordinal() - 1)]
            for index in range(count)
        ]
        store_incidents(session, rows)


def _run(session: Session, municipality_id: int, number: int) -> None:
    """The EST flow at meeting ``number``'s day, as the 14-day schedule fires it."""
    municipality = session.get(Municipality, municipality_id)
    assert municipality is not None
    run_est_cycle(session, municipality, _meeting(session, municipality_id, number))


def _snapshot(session: Session) -> Snapshot:
    """What a run decided, without the days it decided it on (a late run raises late)."""
    problems = [
        (
            p.area,
            p.category,
            p.forum_kind,
            p.first_cycle_number,
            p.last_cycle_number,
            p.history,
            p.resolved_on is None,
        )
        for p in session.exec(select(PersistingProblem).order_by(col(PersistingProblem.dedupe_key)))
    ]
    escalations = [
        (
            e.dedupe_key,
            e.detail,
            e.cause_since,
            e.level,
            e.recipient_person_id,
            e.resolved_on is None,
            e.resolution,
        )
        for e in session.exec(
            select(Escalation)
            .where(Escalation.reason == EscalationReason.PERSISTING_PROBLEM)
            .order_by(col(Escalation.dedupe_key))
        )
    ]
    return problems, escalations


def _uninterrupted(engine: sa.Engine, municipality_id: int, numbers: range) -> Snapshot:
    """The reference: the flow at every meeting of ``numbers``; rolled back afterwards."""
    with Session(engine) as session:
        try:
            for number in numbers:
                _run(session, municipality_id, number)
            return _snapshot(session)
        finally:
            session.rollback()


def _with_gap(engine: sa.Engine, municipality_id: int, numbers: list[int]) -> Snapshot:
    for number in numbers:
        with transaction(engine) as session:
            _run(session, municipality_id, number)
    with transaction(engine) as session:
        return _snapshot(session)


def test_skipped_meetings_raise_the_same_problem_as_an_uninterrupted_run(
    engine: sa.Engine, falun: int
) -> None:
    """Flow down at meetings 4–6 while narcotics in Bojsenburg stayed above the threshold (EST-3 … 7):
    the run at meeting 7 raises the problem as if it had run at each: raised at EST-5 from EST-3, the
    same history, one escalation."""
    _store(engine, falun, "Bojsenburg", {3: 6, 4: 6, 5: 7, 6: 6, 7: 8})
    reference = _uninterrupted(engine, falun, range(1, 8))
    caught_up = _with_gap(engine, falun, [1, 2, 3, 7])
    assert caught_up == reference
    [problem], [escalation] = caught_up
    assert problem[3:5] == (3, 7)
    assert [(entry["period"], entry["count"]) for entry in problem[5]] == [  # type: ignore[attr-defined]
        ("EST-3", 6),
        ("EST-4", 6),
        ("EST-5", 7),
        ("EST-6", 6),
        ("EST-7", 8),
    ]
    assert "3 EST-perioder i rad (EST-3: 6, EST-4: 6, EST-5: 7)" in str(escalation[1])


def test_a_streak_inside_the_gap_is_raised_once_and_resolved(engine: sa.Engine, falun: int) -> None:
    """A streak that began (EST-3) and ended (EST-7 below) while the flow was down is raised once and
    resolved by the next run; its escalation is resolved, so the daily sweep sends nothing about it."""
    _store(engine, falun, "Bojsenburg", {3: 6, 4: 6, 5: 7, 6: 6, 7: 2})
    reference = _uninterrupted(engine, falun, range(1, 9))
    caught_up = _with_gap(engine, falun, [1, 2, 8])
    assert caught_up == reference
    [problem], [escalation] = caught_up
    assert problem[3:5] == (3, 6)
    assert (problem[6], escalation[5]) == (False, False)
    assert escalation[6] == "Under tröskeln i EST-7 (2 händelser)"
    with transaction(engine) as session:
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        sweep_and_notify(session, municipality, _meeting(session, falun, 8))
        subjects = session.exec(select(OutboxMessage.subject)).all()
        judged = session.exec(select(EstCycle.number).where(col(EstCycle.judged_on).is_not(None))).all()
    assert not [subject for subject in subjects if "Ihållande problem" in subject]
    assert sorted(judged) == list(range(1, 9))


STATE = {
    "persisting_problem": "SELECT * FROM persisting_problem",
    "escalation": "SELECT * FROM escalation",
    "est_cycle": "SELECT number, period_end, judged_on FROM est_cycle",
    "outbox_message": "SELECT dedupe_key, subject FROM outbox_message",
}


def _state(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            name: sorted((tuple(map(str, row)) for row in connection.execute(sa.text(query))), key=str)
            for name, query in STATE.items()
        }


def test_running_the_catch_up_again_changes_nothing(engine: sa.Engine, falun: int) -> None:
    """After a catch-up, the same run again, and one the next day, change no row and report nothing
    about persisting problems."""
    _store(engine, falun, "Bojsenburg", {3: 6, 4: 6, 5: 7, 6: 6, 7: 2})
    _store(engine, falun, "Slätta", {5: 9, 6: 9, 7: 9, 8: 9})
    _with_gap(engine, falun, [1, 8])
    before = _state(engine)
    assert len(before["persisting_problem"]) == 2
    for offset in (0, 0, 1):
        with transaction(engine) as session:
            municipality = session.get(Municipality, falun)
            assert municipality is not None
            day = date.fromordinal(_meeting(session, falun, 8).toordinal() + offset)
            events = run_est_cycle(session, municipality, day)
        assert [
            e.kind for e in events if e.kind in {"eskalering", "ärende till forum", "eskalering löst"}
        ] == []
        assert _state(engine) == before


def test_periods_older_than_a_year_are_not_judged(engine: sa.Engine, falun: int) -> None:
    """A first run at meeting 40 judges the last 26 periods (15–40) only: a streak in EST-3 … 6 is not
    raised, one in EST-30 … 33 is (and resolved)."""
    held = 40
    oldest = held - CATCH_UP_PERIODS + 1
    _store(engine, falun, "Bojsenburg", {3: 6, 4: 6, 5: 7, 6: 6})
    _store(engine, falun, "Slätta", {30: 6, 31: 6, 32: 6, 33: 6})
    with transaction(engine) as session:
        _run(session, falun, held)
    with transaction(engine) as session:
        problems = session.exec(select(PersistingProblem)).all()
        rows = session.exec(select(EstCycle).order_by(col(EstCycle.number))).all()
    assert [
        (p.area, p.first_cycle_number, p.last_cycle_number, p.resolved_on is not None) for p in problems
    ] == [("Slätta", 30, 33, True)]
    assert [row.number for row in rows if row.judged_on is not None] == list(range(oldest, held + 1))
    assert all(row.judged_on is None for row in rows if row.number < oldest)


def test_concurrent_catch_up_runs_leave_what_one_run_leaves(engine: sa.Engine, falun: int) -> None:
    """Two catch-up runs at once on PostgreSQL: the second waits for the first's lock, then finds the
    periods judged; the rows equal those of an uninterrupted run."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the lock is PostgreSQL's FOR UPDATE")
    _store(engine, falun, "Bojsenburg", {3: 6, 4: 6, 5: 7, 6: 6, 7: 2})
    _store(engine, falun, "Slätta", {5: 9, 6: 9, 7: 9, 8: 9})
    reference = _uninterrupted(engine, falun, range(1, 9))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction(engine) as session:
                barrier.wait(timeout=30)
                _run(session, falun, 8)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with transaction(engine) as session:
        assert _snapshot(session) == reference
