"""Benchmark: the cycles on realistic volumes. Prints figures; asserts nothing (tests do that).

A kommun with N measures (Falun's 33, copied to N) and their status tasks spread over the year, so
the daily sweep meets thousands of open tasks: due, overdue and escalated. Run it:

    .venv/bin/python benchmarks/bench_cycles.py                 # SQLite, 5,000 measures
    .venv/bin/python benchmarks/bench_cycles.py --measures 20000 --database-url postgresql+psycopg://…

The PostgreSQL URL must name an empty database the benchmark may fill (it is migrated first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cycles.daily_sweep import run_daily_sweep
from cycles.follow_up import compile_due_rounds, run_follow_up_cycle
from importers.directory_import import import_directory_file
from importers.plan_import import import_plan_file
from models.db import make_engine, migrate, transaction
from models.municipality import Municipality
from models.plan import Measure
from models.task import Reminder, Task


def seed(url: str, measures: int) -> int:
    migrate(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        _, municipality = import_directory_file(session, REPO / "examples" / "falun-katalog.yaml")
        import_plan_file(session, REPO / "examples" / "falun-atgardsplan-2024.xlsx")
        originals = list(session.exec(select(Measure)))
        copies = []
        for number in range(measures - len(originals)):
            source = originals[number % len(originals)]
            data = source.model_dump(exclude={"id", "parent_id"})
            data["position"] = len(originals) + number + 1
            data["title"] = f"{source.title} (kopia {number + 1})"
            copies.append(Measure(**data))
        session.add_all(copies)
        municipality_id = municipality.id or 0
    engine.dispose()
    return municipality_id


def timed(label: str, action: Callable[[], int], repeat: int = 1) -> None:
    seconds = []
    result = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    median_ms = statistics.median(seconds) * 1000
    print(f"{label:<58} {median_ms:9.1f} ms   ({result} händelser)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measures", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        municipality_id = seed(url, args.measures)
        seeded = time.perf_counter() - started
        print(f"Databas: {url.split('@')[-1]}; {args.measures} åtgärder inlagda på {seeded:.1f} s")
        engine = make_engine(url)

        def cycle(run: Callable[..., list[object]], day: date) -> Callable[[], int]:
            def action() -> int:
                with transaction(engine) as session:
                    municipality = session.get(Municipality, municipality_id)
                    assert municipality is not None
                    return len(run(session, municipality, day))

            return action

        timed(
            "uppföljning: skapa statusuppgifter (första körningen)",
            cycle(run_follow_up_cycle, date(2025, 4, 22)),
        )
        timed(
            "uppföljning: samma dag igen (inget nytt)",
            cycle(run_follow_up_cycle, date(2025, 4, 22)),
            repeat=3,
        )
        with transaction(engine) as session:
            tasks = len(session.exec(select(Task.id)).all())
        print(f"öppna uppgifter: {tasks}")
        day = date(2025, 5, 6)  # the due date of the May round
        timed("daglig kontroll: påminnelser på förfallodagen", cycle(run_daily_sweep, day))
        timed("daglig kontroll: samma dag igen (inget nytt)", cycle(run_daily_sweep, day), repeat=3)
        overdue = day + timedelta(days=28)
        timed("daglig kontroll: 4 veckor senare (eskaleringar)", cycle(run_daily_sweep, overdue))
        timed("sammanställ uppföljningsomgången", cycle(compile_due_rounds, date(2025, 5, 20)))
        with transaction(engine) as session:
            reminders = len(session.exec(select(Reminder.id)).all())
        print(f"påminnelser totalt: {reminders}")
        engine.dispose()


if __name__ == "__main__":
    main()
