"""National scale (issue 15): one run per cycle for every kommun, in chunks, with a run lock per cycle and
kommun; the set-based sweep of many kommuner leaves what one kommun at a time leaves; the daily national
EST run prepares each kommun's meetings as a run on its meeting days did. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock
from cycles.daily_sweep import sweep_and_notify, sweep_and_notify_kommuner
from cycles.est import run_est_cycle
from cycles.est_calendar import meeting_date
from cycles.follow_up import run_follow_up_cycle
from importers.directory_import import import_directory_file
from importers.plan_import import import_plan_file
from models.db import make_engine, transaction
from models.directory import person_by_email
from models.enums import MeasureStatus
from models.escalation import Escalation
from models.est import EstCycle, Intervention, PersistingProblem
from models.incident import Incident, IncidentSource, store_incidents
from models.municipality import Municipality, find_municipality
from models.outbox import OutboxMessage
from models.plan import StatusReport
from models.rhythm import rhythm_from_json
from models.run_lock import CycleRunLock, lock_runs
from models.task import Reminder, Task, TaskKind
from models.working_days import is_working_day
from services.cycles import CYCLES, ChunkFailedError, chunks, run_chunk, run_cycle, run_for_kommuner, split
from tests.conftest import Cli, postgres_copy

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ADOPTED = date(2025, 1, 1)
CODES = ("1001", "1002", "1003")


def add_kommun(session: Session, code: str) -> Municipality:
    """A kommun with Falun's directory and plan under its own kommunkod."""
    municipality = Municipality(name=f"Kommun {code}", code=code, adopted_on=ADOPTED)
    session.add(municipality)
    session.flush()
    import_directory_file(session, EXAMPLES / "falun-katalog.yaml", code)
    import_plan_file(session, EXAMPLES / "falun-atgardsplan-2024.xlsx", kommun=code, adopted_on=ADOPTED)
    return municipality


def nation(engine: sa.Engine, codes: tuple[str, ...] = CODES) -> list[int]:
    """Kommuner with the May 2025 round open and some of it answered; their ids."""
    ids = []
    with transaction(engine) as session:
        for number, code in enumerate(codes):
            municipality = add_kommun(session, code)
            run_follow_up_cycle(session, municipality, date(2025, 4, 7))
            tasks = session.exec(
                select(Task).where(Task.municipality_id == municipality.id).order_by(col(Task.id))
            ).all()
            for task in tasks[number::3]:
                session.add(
                    StatusReport(
                        municipality_id=municipality.id or 0,
                        measure_id=task.measure_id or 0,
                        reported_on=date(2025, 4, 15),
                        status=MeasureStatus.DELAYED if number == 1 else MeasureStatus.ONGOING,
                    )
                )
            ids.append(municipality.id or 0)
    return ids


def working_days(first: date, last: date) -> list[date]:
    return [
        day
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        if is_working_day(day)
    ]


def test_the_sweep_of_many_kommuner_at_once_leaves_what_one_at_a_time_leaves(engine: sa.Engine) -> None:
    """Six weeks of daily sweeps of three kommuner in one set-based call leave the same tasks, reminders,
    escalations and messages (every word) as the same sweeps kommun by kommun."""
    ids = nation(engine)
    days = working_days(date(2025, 4, 14), date(2025, 5, 27))
    with Session(engine) as session:
        session.begin()
        municipalities = [m for m in (session.get(Municipality, i) for i in ids) if m is not None]
        for day in days:
            for municipality in municipalities:
                sweep_and_notify(session, municipality, day)
        expected = outcome(session)
        session.rollback()
    with Session(engine) as session:
        session.begin()
        municipalities = [m for m in (session.get(Municipality, i) for i in ids) if m is not None]
        for day in days:
            sweep_and_notify_kommuner(session, municipalities, day)
        found = outcome(session)
        session.rollback()
    assert found == expected
    assert len(expected["reminders"]) > 200
    assert any(row[0].startswith("eskalering:") for row in expected["escalations"])
    assert len(expected["messages"]) > 50


def outcome(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row the sweep writes, by natural keys (a digest's key names its first reminder's id, which
    depends on the order kommuner are swept in: the message is named by its recipient and day instead)."""
    session.flush()
    return {
        "tasks": sorted(
            (t.idempotency_key, t.state.value, str(t.closed_at)) for t in session.exec(select(Task))
        ),
        "reminders": sorted(
            (r.dedupe_key, r.kind.value, r.subject, r.recipient_person_id, r.outbox_message_id is not None)
            for r in session.exec(select(Reminder))
        ),
        "escalations": sorted(
            (e.dedupe_key, e.subject, e.detail, e.recipient_person_id, str(e.resolved_on), e.resolution)
            for e in session.exec(select(Escalation))
        ),
        "messages": sorted(
            (m.kind.value, m.recipient_person_id, str(m.created_at), m.subject, m.body_text, m.body_html)
            for m in session.exec(select(OutboxMessage))
        ),
    }


def test_a_run_waits_for_a_run_of_the_same_cycle_for_the_same_kommun(engine: sa.Engine) -> None:
    """While a transaction holds the daily sweep's run lock for a kommun, a run of the daily sweep for it
    (alone or in a chunk) waits, and goes on when the lock is released; on PostgreSQL a run of another
    cycle for it, or of the sweep for another kommun, does not wait. The lock row records the start."""
    nation(engine, CODES[:2])
    with Session(engine) as session:
        kommun = find_municipality(session, CODES[0])
        assert kommun is not None
    finished: dict[str, float] = {}

    def run(label: str, action: object) -> threading.Thread:
        def target() -> None:
            action()  # type: ignore[operator]
            finished[label] = time.monotonic()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    day = date(2025, 4, 22)
    holder = Session(engine)
    holder.begin()
    lock_runs(holder, "daglig", [kommun.id or 0], clock.now())
    waiting = [
        run("alone", lambda: run_cycle(engine, CYCLES["daglig"].run, CODES[0], day)),
        run("chunk", lambda: run_chunk(engine, "daglig", list(CODES[:2]), day)),
    ]
    if engine.dialect.name == "postgresql":
        free = [
            run("other cycle", lambda: run_cycle(engine, CYCLES["lagesbild"].run, CODES[0], day)),
            run("other kommun", lambda: run_cycle(engine, CYCLES["daglig"].run, CODES[1], day)),
        ]
        for thread in free:
            thread.join(timeout=30)
        assert {"other cycle", "other kommun"} <= set(finished)
    time.sleep(1.0)
    assert [thread.is_alive() for thread in waiting] == [True, True]
    assert not {"alone", "chunk"} & set(finished)
    released = time.monotonic()
    holder.commit()
    holder.close()
    for thread in waiting:
        thread.join(timeout=60)
    assert finished["alone"] >= released
    assert finished["chunk"] >= released
    with Session(engine) as session:
        locks = session.exec(select(CycleRunLock.cycle, CycleRunLock.municipality_id)).all()
        reminders = session.exec(select(Reminder.dedupe_key).where(Reminder.remind_on == day)).all()
    assert ("daglig", kommun.id) in locks
    # The two waiting runs did the sweep once between them: every reminder key once.
    assert len(reminders) == len(set(reminders)) > 0


def test_two_runs_of_the_nation_at_once_leave_what_one_leaves(engine: sa.Engine) -> None:
    """Two national daily sweeps at once, chunked differently (so their chunks overlap), leave exactly the
    rows of one: every kommun swept once per day, nothing doubled (PostgreSQL runs them truly at once;
    on SQLite one waits for the other)."""
    nation(engine)
    day = date(2025, 4, 22)
    errors: list[BaseException] = []
    counts: list[dict[str, int]] = []

    def national(size: int) -> None:
        try:
            counts.append(run_for_kommuner(engine, "daglig", list(CODES), day, chunk_size=size))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=national, args=(size,)) for size in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(engine) as session:
        reminders = session.exec(select(Reminder.dedupe_key)).all()
        digests = session.exec(select(OutboxMessage.recipient_person_id, OutboxMessage.kind)).all()
    assert len(reminders) == len(set(reminders))
    assert len(digests) == len(set(digests))
    # What the two reported adds up to one sweep of the nation: each row was reported once.
    reported = {kind: sum(found.get(kind, 0) for found in counts) for kind in ("påminnelse", "meddelande")}
    assert reported == {"påminnelse": len(reminders), "meddelande": len(digests)}


def break_rhythm(engine: sa.Engine, municipality_id: int) -> None:
    """Store a rhythm the kommun's cycles refuse (a reminder 99 days ahead: outside 0–20)."""
    with transaction(engine) as session:
        broken = session.get(Municipality, municipality_id)
        assert broken is not None
        broken.rhythm = {"paminnelser": {"dagar_fore": 99}}
        session.add(broken)


def test_a_kommun_that_fails_stops_only_itself(engine: sa.Engine) -> None:
    """A chunk with one kommun whose stored rhythm is broken: the others are swept and committed, and the
    chunk fails naming that kommun (Prefect retries it; the retry finds the others done)."""
    ids = nation(engine)
    break_rhythm(engine, ids[1])
    day = date(2025, 4, 22)
    with pytest.raises(ChunkFailedError, match=f"1 av 3 kommuner \\({CODES[1]}\\)"):
        run_chunk(engine, "daglig", list(CODES), day)
    with Session(engine) as session:
        swept = set(session.exec(select(Reminder.municipality_id)).all())
    assert swept == {ids[0], ids[2]}


@pytest.fixture
def twin(
    request: pytest.FixtureRequest, engine: sa.Engine, tmp_path: Path
) -> Iterator[Callable[[], sa.Engine]]:
    """Copies the test's database as it is when called (a file copy on SQLite, CREATE DATABASE …
    TEMPLATE on PostgreSQL) and returns an engine on the copy; dropped after the test."""
    with ExitStack() as made:

        def copy() -> sa.Engine:
            url = engine.url
            engine.dispose()  # PostgreSQL copies a database only while nobody is connected to it
            if url.get_backend_name() == "sqlite":
                target = tmp_path / f"kopia-{uuid.uuid4().hex[:8]}.db"
                shutil.copyfile(str(url.database), target)
                copied_url = f"sqlite:///{target}"
            else:
                admin_url = request.getfixturevalue("postgres_admin_url")
                copied_url = made.enter_context(postgres_copy(admin_url, str(url.database)))
            copied = make_engine(copied_url)
            made.callback(copied.dispose)  # runs before its database is dropped (last in, first out)
            return copied

        yield copy


def test_chunks_worked_at_once_leave_what_chunks_one_after_the_other_leave(
    engine: sa.Engine, twin: Callable[[], sa.Engine]
) -> None:
    """Six weeks of national sweeps with two chunks at once (on PostgreSQL; SQLite works them one after
    the other) leave every row, word for word, of the same sweeps chunk after chunk, and report the same
    counts."""
    nation(engine)
    days = working_days(date(2025, 4, 14), date(2025, 5, 27))
    found: dict[int, tuple[dict[str, list[tuple[object, ...]]], list[dict[str, int]]]] = {}
    for threads in (1, 2):
        copy = twin()  # both ways start from the same rows
        counts = [
            run_for_kommuner(copy, "daglig", list(CODES), day, chunk_size=1, threads=threads) for day in days
        ]
        with Session(copy) as session:
            found[threads] = (outcome(session), counts)
    assert found[2] == found[1]
    assert sum(count.get("påminnelse", 0) for count in found[1][1]) > 200


@pytest.mark.slow
def test_the_national_flow_works_its_chunks_at_once_and_leaves_what_one_process_leaves(
    engine: sa.Engine, twin: Callable[[], sa.Engine], cli: Cli
) -> None:
    """`samordna run daglig` through Prefect, one kommun per chunk (Prefect tasks two at a time on
    PostgreSQL), leaves the rows of the same sweep without Prefect, chunk after chunk, and says so."""
    nation(engine)
    reference = twin()
    expected_counts = run_for_kommuner(reference, "daglig", list(CODES), date(2025, 4, 22), chunk_size=1)
    with Session(reference) as session:
        expected = outcome(session)
    code, out, err = cli("run", "daglig", "--as-of", "2025-04-22", env={"SAMORDNA_RUN_CHUNK": "1"})
    assert code == 0, err
    assert "som Prefect-flöde för 3 kommuner" in out
    assert f"påminnelse: {expected_counts['påminnelse']}" in " ".join(out.split())
    with Session(engine) as session:
        assert outcome(session) == expected


def test_a_failed_chunk_lets_the_others_run_and_is_raised_after_them(engine: sa.Engine) -> None:
    """With two chunks at once, a kommun whose stored rhythm is broken fails the first chunk (its
    neighbour in the chunk is still swept alone); the other chunk is swept and committed too, and the run
    then raises naming that kommun."""
    ids = nation(engine)
    break_rhythm(engine, ids[0])
    with pytest.raises(ChunkFailedError, match=f"\\({CODES[0]}\\)"):
        run_for_kommuner(engine, "daglig", list(CODES), date(2025, 4, 22), chunk_size=2, threads=2)
    with Session(engine) as session:
        swept = set(session.exec(select(Reminder.municipality_id)).all())
    assert swept == {ids[1], ids[2]}


def test_chunks_and_parts_keep_every_kommun_once() -> None:
    """Chunks of at most N in order; parts of near-equal size; both cover every kommunkod once."""
    codes = [f"{1001 + n}" for n in range(290)]
    assert [len(chunk) for chunk in chunks(codes, 30)] == [30] * 9 + [20]
    assert [len(part) for part in split(codes, 2)] == [145, 145]
    assert [len(part) for part in split(codes, 3)] == [97, 97, 96]
    assert split(codes[:2], 5) == [["1001"], ["1002"]]
    for found in (chunks(codes, 7), split(codes, 4)):
        assert [code for part in found for code in part] == codes


def _est_snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    return {
        "periods": sorted(
            (c.municipality_id, c.number, c.period_start, c.period_end, str(c.meeting_at), c.judged_on)
            for c in session.exec(select(EstCycle))
        ),
        "tasks": sorted(
            (t.idempotency_key, t.state.value, t.due_date, str(t.created_at), str(t.closed_at))
            for t in session.exec(select(Task).where(col(Task.kind) != TaskKind.STATUS_REPORT))
        ),
        "problems": sorted(
            (p.dedupe_key, p.first_cycle_number, p.last_cycle_number, p.history, p.resolved_on)
            for p in session.exec(select(PersistingProblem))
        ),
        "escalations": sorted(
            (e.dedupe_key, e.detail, e.opened_on, e.resolved_on) for e in session.exec(select(Escalation))
        ),
    }


def test_the_daily_national_est_run_prepares_each_meeting_as_a_run_on_meeting_days_did(
    engine: sa.Engine,
) -> None:
    """Twelve weeks of EST for a kommun with incidents (a persisting problem that rises and falls) and an
    open insats: run every day at 22:00 (the national deployment) it leaves the same periods, tasks,
    problems and escalations as run only on its meeting days (the per-kommun deployment it replaces)."""
    [kommun] = nation(engine, CODES[:1])
    with transaction(engine) as session:
        municipality = session.get(Municipality, kommun)
        assert municipality is not None
        rhythm = rhythm_from_json(municipality.rhythm)
        jonas = person_by_email(session, kommun, "jonas.ek@example.se")
        assert jonas is not None
        session.add(
            Intervention(municipality_id=kommun, title="Ökad närvaro vid torget", area="Slätta",
                         responsible_person_id=jonas.id, due_date=date(2025, 5, 30))
        )  # fmt: skip
        first = next(n for n in range(1, 100) if meeting_date(rhythm, n) >= date(2025, 4, 1))
        incidents = [
            Incident(
                municipality_id=kommun,
                occurred_on=meeting_date(rhythm, number) - timedelta(days=1),
                weekday=(meeting_date(rhythm, number) - timedelta(days=1)).weekday(),
                hour=21,
                area="Slätta",
                category="narkotika",
                source=IncidentSource.ACTOR,
                external_key=f"{kommun}:nationell:{number}:{index}",
            )
            for number, count in zip(range(first, first + 6), (6, 7, 6, 8, 1, 0), strict=True)
            for index in range(count)
        ]
        store_incidents(session, incidents)
    days = [date(2025, 4, 1) + timedelta(days=n) for n in range(84)]
    meetings = {meeting_date(rhythm, n) for n in range(first - 1, first + 7)}
    snapshots = []
    for run_on in (lambda day: day in meetings, lambda _day: True):
        with Session(engine) as session:
            session.begin()
            municipality = session.get(Municipality, kommun)
            assert municipality is not None
            for day in days:
                if run_on(day):
                    run_est_cycle(session, municipality, day)
            session.flush()
            snapshots.append(_est_snapshot(session))
            session.rollback()
    on_meeting_days, every_day = snapshots
    assert every_day == on_meeting_days
    assert len(on_meeting_days["problems"]) == 1
    assert any(key.startswith("insats:") for key, *_ in on_meeting_days["tasks"])
