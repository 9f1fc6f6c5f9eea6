"""Killed at random points and run again, the cycles leave exactly what an uninterrupted run leaves.

A child process runs a sequence of cycle runs (six weeks of Falun's EST, follow-up, lägesbild and
daily sweeps) against a SQLite file and is killed with SIGKILL at a random moment, again and again;
each new attempt starts the sequence from the beginning, as a retried Prefect flow would. After the
last kill the sequence runs to the end once. The tasks, reminders, escalations, rounds and EST periods
must then equal those of a reference database that ran the same sequence without interruption.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from models.db import make_engine
from models.working_days import is_working_day
from services.cycles import CYCLES, run_cycle

KILLS = 60
FIRST_DAY = date(2025, 4, 14)
DAYS = 42


def schedule() -> list[tuple[str, date]]:
    """The runs of six weeks, in the order the schedules would fire them."""
    steps: list[tuple[str, date]] = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        if day.weekday() == 0:
            steps += [("uppfoljning", day), ("lagesbild", day)]
        if day.weekday() == 1:
            steps.append(("est", day))
        if is_working_day(day):
            steps.append(("daglig", day))
    return steps


def run_all(url: str, steps: list[tuple[str, date]]) -> None:
    engine = make_engine(url)
    try:
        for cycle, day in steps:
            run_cycle(engine, CYCLES[cycle].run, "2080", day)
    finally:
        engine.dispose()


def _child(url: str, steps: list[tuple[str, date]]) -> None:
    run_all(url, steps)
    os._exit(0)


STATE_QUERIES = {
    "task": "SELECT idempotency_key, state, due_date, assignee_person_id FROM task",
    "reminder": "SELECT dedupe_key, recipient_person_id, remind_on FROM reminder",
    "escalation": "SELECT dedupe_key, level, reason, recipient_person_id, resolved_on FROM escalation",
    "follow_up_round": "SELECT period_label, due_date, reported_count, missing_count FROM follow_up_round",
    "est_cycle": "SELECT number, meeting_at FROM est_cycle",
    "outbox_message": "SELECT dedupe_key, kind, recipient_person_id, subject, body_text FROM outbox_message",
    "linked": "SELECT dedupe_key, outbox_message_id IS NOT NULL FROM reminder",
}


def state(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            name: sorted(tuple(row) for row in connection.execute(sa.text(query)))
            for name, query in STATE_QUERIES.items()
        }
    engine.dispose()
    return found


def _child_duration(context: Any, source: Path, tmp_path: Path, steps: list[tuple[str, date]]) -> float:
    """How long a child takes, measured the way the attempts run: once on a fresh copy and once again
    on the same copy (as a retry finds it), the faster of the two, so that kill points fall inside the
    work whatever the machine's load and however much an earlier attempt already did."""
    scratch = tmp_path / "calibration.db"
    shutil.copyfile(source, scratch)
    durations = []
    for _ in range(2):
        child = context.Process(target=_child, args=(f"sqlite:///{scratch}", steps))
        started = time.perf_counter()
        child.start()
        child.join()
        durations.append(time.perf_counter() - started)
    return min(durations)


def test_random_kills_lose_nothing_and_double_nothing(falun_sqlite_file: Path, tmp_path: Path) -> None:
    """60 SIGKILLs at random points, then one full run: 0 duplicate and 0 missing rows of any kind."""
    steps = schedule()
    reference, victim = tmp_path / "reference.db", tmp_path / "victim.db"
    shutil.copyfile(falun_sqlite_file, reference)
    shutil.copyfile(falun_sqlite_file, victim)
    run_all(f"sqlite:///{reference}", steps)
    expected = state(f"sqlite:///{reference}")
    assert len(expected["task"]) > 50
    assert len(expected["reminder"]) > 50
    assert len(expected["escalation"]) > 5

    rng = random.Random(2080)  # noqa: S311 - reproducible kill points, not security
    context = multiprocessing.get_context("fork")
    full_run = _child_duration(context, falun_sqlite_file, tmp_path, steps)
    finished_before_kill = 0
    for _ in range(KILLS):
        child = context.Process(target=_child, args=(f"sqlite:///{victim}", steps))
        child.start()
        time.sleep(rng.uniform(0, 0.9 * full_run))
        if child.is_alive():
            os.kill(child.pid or 0, signal.SIGKILL)
        else:
            finished_before_kill += 1
        child.join()
    run_all(f"sqlite:///{victim}", steps)
    assert finished_before_kill < KILLS // 2, "most attempts must really be killed mid-run"

    found = state(f"sqlite:///{victim}")
    for name, rows in expected.items():
        assert found[name] == rows, name
    summary = ", ".join(f"{len(rows)} {name}" for name, rows in expected.items())
    print(f"\n{KILLS} SIGKILL, {finished_before_kill} hann klart: 0 dubbletter, 0 saknade ({summary})")  # noqa: T201 - the figure the issue asks the suite to print
