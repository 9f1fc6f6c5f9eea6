"""A year before it happens: every cycle at its scheduled instants, on a throwaway copy of the data.

The simulation copies the kommun's data into a fresh SQLite file, then walks a simulated clock from
``start`` to ``end``: at each instant a schedule in ``prefect.yaml`` would fire (for the national EST
run: the runs that act for the kommun, on its meeting days), it runs that cycle with ``as_of`` = the
local date of the instant. Before each daily sweep, ansvariga answer or stay silent by a seeded rule,
so the same seed gives the same year:

- a person is *silent* with probability ``1 - answer_rate`` (decided once per person and seed) and
  never answers; everyone else answers each task on a seeded working day from ``early`` working days
  before its due date to ``late`` working days after it, so some answers come late;
- an answer to a status task is a status report (mostly "pågående", sometimes "försenad", "genomförd"
  or "avstannad", seeded); other tasks are simply marked done.

The real database is never written. The result is the list of events the cycles produced. A kommun or
plan taken into use after ``start`` counts, in the copy, as taken into use on ``start``.
"""

from __future__ import annotations

import random
import sqlite3
from bisect import bisect_left
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col, select

from core.clock import STOCKHOLM, moment_of
from cycles.daily_sweep import ANSWER_WINDOW_DAYS
from cycles.est_calendar import meeting_at
from flows.schedules import instants, load_schedules
from models.db import make_engine, migrate, transaction
from models.directory import Person
from models.enums import MeasureStatus
from models.municipality import Municipality, find_municipality
from models.plan import ActionPlan, StatusReport
from models.records import Event
from models.rhythm import Rhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState
from models.working_days import add_working_days, is_working_day
from services.cycles import CYCLES, kommun_codes, run_cycle
from services.status import StatusReportCommand, record_status_report

# Ansvariga answer before the daily sweep at 07:00, so the sweep of the day already sees the answer.
ANSWER_TIME = time(6, 30)
# How answering ansvariga report, by weight: most say the work goes on.
REPORTED_STATUSES = (
    (MeasureStatus.ONGOING, 70),
    (MeasureStatus.DELAYED, 15),
    (MeasureStatus.COMPLETED, 10),
    (MeasureStatus.STALLED, 5),
)


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    start: date
    end: date
    kommun: str | None = None
    seed: int = 1
    answer_rate: float = 0.75
    early_working_days: int = 5
    late_working_days: int = 8


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime  # the scheduled instant, aware UTC
    kommun: str
    cycle: str
    event: Event


@dataclass(slots=True)
class SimulationResult:
    options: SimulationOptions
    entries: list[TimelineEntry] = field(default_factory=list)
    runs: int = 0

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            key = entry.event.kind
            if entry.event.level is not None and entry.event.kind == "eskalering":
                key = f"eskalering nivå {entry.event.level}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))


def copy_database(source: sa.Engine, target_url: str) -> sa.Engine:
    """A migrated SQLite copy of every row in ``source``: the throwaway the simulation writes to. From
    SQLite, SQLite's own backup of the file (a consistent snapshot, schema and all); from PostgreSQL,
    the schema by migration and the rows table by table."""
    if source.dialect.name == "sqlite":
        target_path = make_url(target_url).database or ""
        with source.connect() as reader, closing(sqlite3.connect(target_path)) as writer:
            reader.connection.driver_connection.backup(writer)  # type: ignore[union-attr]
        return make_engine(target_url, throwaway=True)
    migrate(target_url)
    target = make_engine(target_url, throwaway=True)
    with source.connect() as reader, target.begin() as writer:
        # Rows reference each other (a person's chef, a measure's parent): check keys at commit.
        writer.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in reader.execute(sa.select(table))]  # noqa: SLF001 - SQLAlchemy's public row mapping
            if rows:
                writer.execute(table.insert(), rows)
    return target


def _adopt_by(engine: sa.Engine, start: date) -> None:
    """A kommun or plan taken into use after ``start`` is simulated as taken into use on ``start``:
    otherwise its whole simulated history would lie before adoption and raise nothing."""
    with transaction(engine) as session:
        for table in (Municipality, ActionPlan):
            session.execute(sa.update(table).where(col(table.adopted_on) > start).values(adopted_on=start))


def scheduled_instants(
    rhythm_json: dict[str, object], start: date, end: date, schedule_file: Path
) -> list[tuple[datetime, str]]:
    """(instant, cycle) pairs in time order: when prefect.yaml's schedules run each simulated cycle for
    a kommun with this rhythm. The national EST run goes every day; only the runs on the kommun's
    meeting days change anything for it (``est_runs_that_act``), and those are the ones simulated."""
    window_start = datetime(start.year, start.month, start.day, tzinfo=STOCKHOLM).astimezone(UTC)
    window_end = datetime(end.year, end.month, end.day, 23, 59, tzinfo=STOCKHOLM).astimezone(UTC)
    schedules = load_schedules(schedule_file)
    rhythm = rhythm_from_json(rhythm_json)
    found: list[tuple[datetime, str]] = []
    for name, spec in CYCLES.items():
        if not spec.simulated:
            continue
        for schedule in schedules.get(spec.deployment, []):
            moments = instants(schedule, window_start, window_end)
            if name == "est":
                moments = est_runs_that_act(rhythm, moments, since=window_start)
            found.extend((instant, name) for instant in moments)
    return sorted(found)


def est_runs_that_act(rhythm: Rhythm, national: list[datetime], *, since: datetime) -> list[datetime]:
    """Of the national EST run's instants, those that act for a kommun with ``rhythm``: the first run at
    or after each of its meetings from ``since`` on (the run that judges the meeting and prepares the
    next one). On the
    other days a run finds the kommun's period open and its tasks made, and changes nothing, as long as
    nobody records an incident or an insats in between, which a simulation never does."""
    acting: list[datetime] = []
    if not national:
        return acting
    number = 1
    while (moment := meeting_at(rhythm, number)) <= national[-1]:
        position = bisect_left(national, moment)
        if moment >= since and position < len(national) and national[position] not in acting:
            acting.append(national[position])
        number += 1
    return acting


def simulate(
    source_url: str, options: SimulationOptions, work_dir: Path, schedule_file: Path
) -> SimulationResult:
    """Run every cycle of one or every kommun over ``options.start``…``options.end`` on a copy."""
    source = make_engine(source_url)
    try:
        engine = copy_database(source, f"sqlite:///{(work_dir / 'simulering.db').as_posix()}")
    finally:
        source.dispose()
    _adopt_by(engine, options.start)
    result = SimulationResult(options)
    try:
        for code in kommun_codes(engine, options.kommun):
            with transaction(engine) as session:
                municipality = find_municipality(session, code)
                rhythm_json = dict(municipality.rhythm) if municipality else {}
            for instant, cycle in scheduled_instants(rhythm_json, options.start, options.end, schedule_file):
                as_of = instant.astimezone(STOCKHOLM).date()
                if cycle == "daglig" and is_working_day(as_of):
                    with transaction(engine) as session:
                        answers = answer_tasks(session, code, as_of, options)
                    result.entries.extend(TimelineEntry(instant, code, "svar", event) for event in answers)
                events = run_cycle(engine, CYCLES[cycle].run, code, as_of)
                result.runs += 1
                result.entries.extend(TimelineEntry(instant, code, cycle, event) for event in events)
    finally:
        engine.dispose()
    return result


def _silent(person_id: int, seed: int, answer_rate: float) -> bool:
    return random.Random(f"{seed}:person:{person_id}").random() >= answer_rate  # noqa: S311 - a seeded simulation, not security


def answer_tasks(session: Session, code: str, as_of: date, options: SimulationOptions) -> list[Event]:
    """Ansvariga who are not silent answer their open tasks once their seeded delay has passed."""
    municipality = find_municipality(session, code)
    if municipality is None:
        return []
    answers: list[Event] = []
    open_tasks = session.exec(
        select(Task).where(Task.municipality_id == municipality.id, Task.state == TaskState.OPEN)
    ).all()
    for task in open_tasks:
        if task.assignee_person_id is None or _silent(
            task.assignee_person_id, options.seed, options.answer_rate
        ):
            continue
        rng = random.Random(f"{options.seed}:task:{task.idempotency_key}")  # noqa: S311 - a seeded simulation
        offset = rng.randint(-options.early_working_days, options.late_working_days)
        answer_day = add_working_days(task.due_date, offset)
        if answer_day > as_of:
            continue
        person = session.get(Person, task.assignee_person_id)
        name = person.name if person else ""
        if task.kind is TaskKind.STATUS_REPORT and task.measure_id is not None:
            answered = _report(session, task, as_of, rng, name)
            if answered is not None:
                status, effects = answered
                answers.append(Event(as_of, "svar", f"{task.subject}: {status.value}", name))
                answers.extend(effects)
        else:
            task.state = TaskState.DONE
            task.closed_at = moment_of(as_of, ANSWER_TIME)
            session.add(task)
            answers.append(Event(as_of, "svar", task.subject, name))
    return answers


def _report(
    session: Session, task: Task, as_of: date, rng: random.Random, name: str
) -> tuple[MeasureStatus, list[Event]] | None:
    """The ansvarig answers through the same service as the command line and the web: the report
    closes the task and resolves what it answers at once. None when the measure already has this
    round's answer (one answer per task: a report after the previous round's due date answers it)."""
    already = session.exec(
        select(StatusReport.id).where(
            StatusReport.measure_id == task.measure_id,
            col(StatusReport.reported_on) >= task.due_date - timedelta(days=ANSWER_WINDOW_DAYS),
        )
    ).first()
    municipality = session.get(Municipality, task.municipality_id)
    if already is not None or municipality is None:
        return None
    statuses = [status for status, _ in REPORTED_STATUSES]
    weights = [weight for _, weight in REPORTED_STATUSES]
    status = rng.choices(statuses, weights=weights)[0]
    command = StatusReportCommand(
        task.measure_id or 0,
        status,
        reported_on=as_of,
        comment="(simulerad rapport)",
        reporter_name=name,
        reporter_person_id=task.assignee_person_id,
        source="simulering",
    )
    outcome = record_status_report(session, municipality, command, now=moment_of(as_of, ANSWER_TIME))
    effects = [Event(as_of, "uppgift klar", closed.subject, name) for closed in outcome.closed_tasks]
    effects.extend(
        Event(as_of, "eskalering löst", f"{row.subject} – {row.resolution}", "", row.level)
        for row in outcome.resolved
    )
    return status, effects
