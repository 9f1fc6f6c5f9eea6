"""Benchmark: Samordna at national scale on PostgreSQL. Prints each figure beside its floor; asserts nothing.

The figures of issue 15, on one machine and in one run (the load is printed with them):

1. The national daily sweep (benchmarks/national.py: 290 kommuner, Falun's directory and plan padded to
   40 measures, the May 2025 round open, 30 % answered) on its sweep day, each measurement on a fresh copy
   of the data set: the floor (benchmarks/national_floor.py, hand-written SQL), the engine in this
   process without Prefect (services.cycles.run_for_kommuner), and `samordna run daglig --utan-prefect`
   as a whole process with its peak memory. The floor and the engine are checked to leave the same
   reminder rows. Growth: the same for data sets of 1, 29 and 290 kommuner, and the fixed and per-kommun
   cost fitted through them.
2. Through Prefect: a server on PostgreSQL, two process workers, `prefect deployment run daglig-kontroll`
   with two parts (benchmarks/national_workers.py, which also checks that the totals and rows are those
   of one process). Skipped with --utan-prefect (the server takes a minute to start).
3. A big city's EST-lägesbild: one kommun with 1.5 M incidents over four years. In this process the
   lägesbild (cycles.est_situation.compile_situation, from the daily counts) beside its floor, the same
   counts read straight from the count tables, and beside what it cost before (the GROUP BY over the raw
   incidents); then `samordna est lagesbild --format text` as a whole process.
4. Two years of `samordna simulate` for Falun (the embedded SQLite default), as a whole process.

    .venv/bin/python benchmarks/bench_national.py --admin-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres

The admin URL names a PostgreSQL server where the script may create and drop databases (its names start
with samordna_national_ and samordna_stad_). The data sets are built once into template databases (the
first run takes about five minutes more) and kept; --rebuild builds them again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import national
import national_floor
import national_workers
import sqlalchemy as sa
from sqlmodel import Session

from core.settings import Settings
from cycles.est_calendar import meeting_date
from cycles.est_situation import compile_situation, counts_by_period, hot_times, period_of
from importers.directory_import import import_directory_file
from importers.plan_import import import_plan_file
from models.db import HEAD_REVISION, make_engine, migrate, transaction
from models.incident import store_incidents
from models.municipality import find_municipality
from models.rhythm import rhythm_from_json
from services.cycles import run_for_kommuner
from services.demo import generate_incidents

SAMORDNA = Path(sys.executable).with_name("samordna")
GROWTH = (1, 29, 290)
CITY_CODE = "9001"
CITY_INCIDENTS = 1_500_000
CITY_BASE_DAYS = 28  # one generated period, repeated back in time whole weeks at a time (weekdays hold)
CITY_BASE_SCALE = 270.0  # ~28,000 incidents in 28 days: a city of Stockholm's size
CITY_LAST_DAY = date(2026, 11, 30)
SIMULATION = ("2025-01-01", "2026-12-31")
# Targets of issue 15 (seconds unless said).
THREADS = Settings().run_threads  # the default of SAMORDNA_RUN_THREADS
TARGET_FLOOR_RATIO = 3.0
TARGET_PREFECT_WORKERS = 10.0
TARGET_PEAK_MB = 1024
TARGET_LAGESBILD_PROCESS = 0.6
TARGET_LAGESBILD_IN_PROCESS = 0.2
TARGET_SIMULATION = 5.0
TARGET_FIXED_COST = 2.0


@dataclass
class Process:
    """A finished child process as measured: wall time, peak resident memory, exit code and output."""

    seconds: float
    peak_mb: float
    returncode: int
    output: str


def run_process(arguments: Sequence[str], environment: dict[str, str]) -> Process:
    """Run ``arguments`` and measure it by its own resource usage (os.wait4), not the sum of all children."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(  # noqa: S603 - our own interpreter's samordna, fixed arguments
            list(arguments), cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    return Process(seconds, usage.ru_maxrss / 1024, child.returncode, text)


def samordna_environment(url: str, work: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "SAMORDNA_DATABASE_URL": url,
        "SAMORDNA_DATA_DIR": str(work),
        "PREFECT_HOME": str(work / "prefect"),
    }
    environment.pop("SAMORDNA_KOMMUN", None)
    return environment


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:5.1f}×" if floor > 0 else "   –"


def spaced(number: int) -> str:
    """1500000 as "1 500 000"."""
    return f"{number:,}".replace(",", " ")


def verdict(ok: bool) -> str:  # noqa: FBT001 - a yes or no to print
    return "OK" if ok else "ÖVER MÅLET"


# ---------------------------------------------------------------------------------------------------
# 1. The national daily sweep


def kommuner_of(url: str) -> tuple[list[int], list[str]]:
    """The ids and the kommunkoder of the database's kommuner, in id order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, code FROM municipality ORDER BY id")).all()
    finally:
        engine.dispose()
    return [row[0] for row in rows], [row[1] for row in rows]


REMINDER_ROWS = "SELECT dedupe_key, kind, subject, recipient_person_id FROM reminder ORDER BY dedupe_key"


def reminder_rows(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(REMINDER_ROWS))]
    finally:
        engine.dispose()


@dataclass
class SweepFigures:
    kommuner: int
    floor: float
    engine: float  # the default: SAMORDNA_RUN_THREADS chunks at once
    engine_single: float  # one chunk at a time
    process: Process
    totals: dict[str, int]
    floor_totals: dict[str, int]
    same_reminders: bool


def measure_sweep(admin_url: str, kommuner: int, repeat: int, *, rebuild: bool) -> SweepFigures:
    template = national.template(admin_url, kommuner, rebuild=rebuild)
    scratch = f"samordna_national_bench_{os.getpid()}"
    floor_db, engine_db = f"{scratch}_floor", f"{scratch}_motor"
    try:
        floor_url = national.copy_database(admin_url, template, floor_db)
        ids, codes = kommuner_of(floor_url)
        floor_totals: dict[str, int] = {}

        def floor_once() -> float:
            nonlocal floor_totals
            url = national.copy_database(admin_url, template, floor_db)
            engine = make_engine(url)
            try:
                with engine.connect() as connection:
                    started = time.perf_counter()
                    floor_totals = national_floor.floor_sweep(connection, ids, national.SWEEP_DAY)
                    connection.commit()
                    return time.perf_counter() - started
            finally:
                engine.dispose()

        totals: dict[str, int] = {}

        def engine_once(threads: int) -> float:
            nonlocal totals
            url = national.copy_database(admin_url, template, engine_db)
            started = time.perf_counter()
            engine = make_engine(url)  # one engine per run is part of the run
            try:
                totals = run_for_kommuner(engine, "daglig", codes, national.SWEEP_DAY, threads=threads)
            finally:
                engine.dispose()
            return time.perf_counter() - started

        floor = median_of(repeat, floor_once)
        engine_single = median_of(repeat, lambda: engine_once(1))
        engine_seconds = median_of(repeat, lambda: engine_once(THREADS))
        same = reminder_rows(national.database_url(admin_url, floor_db)) == reminder_rows(
            national.database_url(admin_url, engine_db)
        )
        processes = []
        with tempfile.TemporaryDirectory(prefix="samordna-bench-") as work:
            for _ in range(repeat):
                url = national.copy_database(admin_url, template, engine_db)
                processes.append(
                    run_process(
                        [
                            str(SAMORDNA),
                            "run",
                            "daglig",
                            "--utan-prefect",
                            "--as-of",
                            national.SWEEP_DAY.isoformat(),
                        ],
                        samordna_environment(url, Path(work)),
                    )
                )
        failed = [p for p in processes if p.returncode != 0]
        if failed:
            raise RuntimeError(f"samordna run daglig misslyckades:\n{failed[0].output}")
        process = sorted(processes, key=lambda p: p.seconds)[len(processes) // 2]
        process.peak_mb = max(p.peak_mb for p in processes)
        return SweepFigures(
            kommuner, floor, engine_seconds, engine_single, process, totals, floor_totals, same
        )
    finally:
        national.drop_database(admin_url, floor_db)
        national.drop_database(admin_url, engine_db)


def print_sweeps(figures: list[SweepFigures]) -> None:
    print(
        "\nDaglig kontroll (PostgreSQL), median per mått; golvet är handskriven SQL för samma påminnelser;"
        f" motorn arbetar {THREADS} delar åt gången (SAMORDNA_RUN_THREADS), 1 tråd en i taget:\n"
        f"{'kommuner':>9} {'golv':>8} {'1 tråd':>8} {'kvot':>6} {'motorn':>8} {'kvot':>6}"
        f" {'process':>8} {'kvot':>6}"
        f" {'per kommun':>11} {'minne':>8}  påminnelser / meddelanden / stängda"
    )
    for f in figures:
        per_kommun = f.engine / f.kommuner * 1000
        print(
            f"{f.kommuner:>9} {f.floor:>7.2f}s {f.engine_single:>7.2f}s {ratio(f.engine_single, f.floor)}"
            f" {f.engine:>7.2f}s {ratio(f.engine, f.floor)}"
            f" {f.process.seconds:>7.2f}s {ratio(f.process.seconds, f.floor)}"
            f" {per_kommun:>8.1f} ms {f.process.peak_mb:>5.0f} MB"
            f"  {f.totals.get('påminnelse', 0)} / {f.totals.get('meddelande', 0)} /"
            f" {f.totals.get('uppgift klar', 0)}"
            f"  (golvet {f.floor_totals.get('påminnelse', 0)} / {f.floor_totals.get('meddelande', 0)} /"
            f" {f.floor_totals.get('uppgift klar', 0)};"
            f" samma påminnelserader: {'ja' if f.same_reminders else 'NEJ'})"
        )
    if len(figures) >= 2:  # noqa: PLR2004 - a line needs two points
        first, last = figures[0], figures[-1]
        measures: list[tuple[str, Callable[[SweepFigures], float]]] = [
            ("motorn", lambda f: f.engine),
            ("processen", lambda f: f.process.seconds),
        ]
        for label, value in measures:
            slope = (value(last) - value(first)) / (last.kommuner - first.kommuner)
            fixed = value(first) - slope * first.kommuner
            middle = "; ".join(
                f"{f.kommuner} kommuner: {value(f):.2f} s mot linjens {fixed + slope * f.kommuner:.2f} s"
                for f in figures[1:-1]
            )
            print(
                f"Tillväxt, {label}: fast kostnad {fixed:.2f} s + {slope * 1000:.1f} ms per kommun"
                f" ({middle}) — mål fast < {TARGET_FIXED_COST:.0f} s: {verdict(fixed < TARGET_FIXED_COST)}"
            )


# ---------------------------------------------------------------------------------------------------
# 3. A big city's EST-lägesbild


def city_template(admin_url: str, *, rebuild: bool) -> str:
    """A database with one kommun (Falun's directory under CITY_CODE) and CITY_INCIDENTS incidents: one
    generated period stored through store_incidents (the write path of every import), repeated back in
    time whole weeks at a time in SQL, the daily counts then filled as migration 0014 fills them."""
    name = f"samordna_stad_{HEAD_REVISION}"
    if not rebuild and national.template_exists(admin_url, name):
        return name
    print(f"Bygger storstaden ({spaced(CITY_INCIDENTS)} händelser) i {name} …", flush=True)
    url = national.create_database(admin_url, name)
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        with transaction(engine) as session:
            _, municipality = import_directory_file(
                session, REPO / "examples" / "falun-katalog.yaml", CITY_CODE
            )
            city_id = municipality.id or 0
        first = CITY_LAST_DAY - timedelta(days=CITY_BASE_DAYS - 1)
        base = generate_incidents(city_id, first, CITY_LAST_DAY, seed=15, scale=CITY_BASE_SCALE, tag="stad")
        with transaction(engine) as session:
            stored_started = time.perf_counter()
            store_incidents(session, base)
            stored = time.perf_counter() - stored_started
        print(
            f"  {spaced(len(base))} händelser genom store_incidents på {stored:.1f} s"
            f" ({spaced(round(len(base) / stored))} per sekund, dagsräkningarna med)",
            flush=True,
        )
        copies = -(-CITY_INCIDENTS // len(base)) - 1
        with engine.begin() as connection:
            columns = (
                "municipality_id, occurred_time, part_of_day, weekday, hour, area, place, category, "
                "organisation, reporter_role, severity, reported_to_police, description, source, source_url"
            )
            connection.execute(
                sa.text(
                    # The column list is this script's own constant, not input.
                    f"INSERT INTO incident ({columns}, occurred_on, external_key, created_at) "  # noqa: S608
                    f"SELECT {columns}, occurred_on - 28 * k, external_key || ':' || k, created_at "
                    "FROM incident CROSS JOIN generate_series(1, :copies) AS k WHERE municipality_id = :city"
                ),
                {"copies": copies, "city": city_id},
            )
            connection.execute(sa.text("DELETE FROM incident_day_count"))
            connection.execute(sa.text("DELETE FROM incident_hour_count"))
            connection.execute(
                sa.text(
                    "INSERT INTO incident_day_count (municipality_id, occurred_on, area, category, count) "
                    "SELECT municipality_id, occurred_on, area, category, count(*) FROM incident "
                    "GROUP BY municipality_id, occurred_on, area, category"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO incident_hour_count (municipality_id, occurred_on, hour, count) "
                    "SELECT municipality_id, occurred_on, COALESCE(hour, -1), count(*) FROM incident "
                    "GROUP BY municipality_id, occurred_on, COALESCE(hour, -1)"
                )
            )
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
            total = connection.execute(sa.text("SELECT count(*) FROM incident")).scalar_one()
        print(f"  {total} händelser på {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        engine.dispose()
    return name


RAW_COUNTS = """
SELECT CASE {buckets} ELSE -1 END AS bucket, area, category, count(*)
FROM incident WHERE municipality_id = :city AND occurred_on BETWEEN :low AND :high
GROUP BY 1, area, category
"""
RAW_HOURS = """
SELECT weekday, hour, count(*) FROM incident
WHERE municipality_id = :city AND occurred_on BETWEEN :start AND :end GROUP BY weekday, hour
"""


def measure_city(admin_url: str, repeat: int, *, rebuild: bool) -> None:
    template = city_template(admin_url, rebuild=rebuild)
    url = national.database_url(admin_url, template)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            municipality = find_municipality(session, CITY_CODE)
            assert municipality is not None  # built above
            city_id = municipality.id or 0
            rhythm = rhythm_from_json(municipality.rhythm)
            # The last meeting whose period the data covers whole.
            number = max(n for n in range(1, 400) if meeting_date(rhythm, n) <= CITY_LAST_DAY)
            period = period_of(rhythm, number)
            situation = compile_situation(session, city_id, rhythm, number)  # warm the caches once
            spans = [(p.start, p.end) for p in (period_of(rhythm, n) for n in range(number, number - 26, -1))]

            def in_process() -> float:
                started = time.perf_counter()
                compile_situation(session, city_id, rhythm, number)
                return time.perf_counter() - started

            def counts_only() -> float:
                started = time.perf_counter()
                counts_by_period(session, city_id, spans)
                hot_times(session, city_id, period.start, period.end)
                return time.perf_counter() - started

            buckets = " ".join(
                f"WHEN occurred_on BETWEEN '{start}' AND '{end}' THEN {index}"
                for index, (start, end) in enumerate(spans)
            )

            def raw() -> float:
                started = time.perf_counter()
                session.execute(
                    sa.text(RAW_COUNTS.format(buckets=buckets)),
                    {"city": city_id, "low": spans[-1][0], "high": spans[0][1]},
                ).all()
                session.execute(
                    sa.text(RAW_HOURS), {"city": city_id, "start": period.start, "end": period.end}
                ).all()
                return time.perf_counter() - started

            lagesbild = median_of(repeat * 2, in_process)
            counts = median_of(repeat * 2, counts_only)
            raw_seconds = median_of(repeat, raw)
            session.rollback()
        with tempfile.TemporaryDirectory(prefix="samordna-bench-") as work:
            environment = samordna_environment(url, Path(work))
            command = [str(SAMORDNA), "est", "lagesbild", "--kommun", CITY_CODE, "--cykel", str(number)]
            runs = [run_process([*command, "--format", "text"], environment) for _ in range(repeat * 2)]
            if any(run.returncode != 0 for run in runs):
                raise RuntimeError(f"samordna est lagesbild misslyckades:\n{runs[0].output}")
            process = statistics.median(run.seconds for run in runs)
            version = statistics.median(
                run_process([str(SAMORDNA), "--help"], environment).seconds for _ in range(repeat * 2)
            )
            # The libraries the design card fixes, imported and nothing else: what no command can go under.
            libraries = statistics.median(
                run_process([sys.executable, "-c", "import sqlmodel, psycopg"], environment).seconds
                for _ in range(repeat * 2)
            )
    finally:
        engine.dispose()
    print(
        f"\nEST-lägesbild för en storstad ({situation.total} händelser perioden {period.label},"
        f" {spaced(CITY_INCIDENTS)} i databasen), median:"
    )
    print(
        f"  i processen (compile_situation) {lagesbild * 1000:6.0f} ms;"
        f" golv: dagsräkningarnas två frågor {counts * 1000:.0f} ms ({ratio(lagesbild, counts).strip()});"
        f" samma räkning över råa händelser {raw_seconds * 1000:.0f} ms"
        f" — mål ≤ {TARGET_LAGESBILD_IN_PROCESS * 1000:.0f} ms:"
        f" {verdict(lagesbild <= TARGET_LAGESBILD_IN_PROCESS)}"
    )
    print(
        f"  `samordna est lagesbild --format text` som hel process {process:.2f} s;"
        f" golv: `samordna --help` {version:.2f} s ({ratio(process, version).strip()}),"
        f" `python -c 'import sqlmodel, psycopg'` {libraries:.2f} s"
        f" — mål ≤ {TARGET_LAGESBILD_PROCESS} s: {verdict(process <= TARGET_LAGESBILD_PROCESS)}"
    )


# ---------------------------------------------------------------------------------------------------
# 4. Two years of simulate for Falun


def measure_simulation(repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="samordna-bench-") as work:
        url = f"sqlite:///{work}/samordna.db"
        migrate(url)
        engine = make_engine(url)
        with transaction(engine) as session:
            import_directory_file(session, REPO / "examples" / "falun-katalog.yaml")
            import_plan_file(session, REPO / "examples" / "falun-atgardsplan-2024.xlsx", kommun="2080")
        engine.dispose()
        environment = samordna_environment(url, Path(work))
        command = [
            str(SAMORDNA),
            "simulate",
            "--from",
            SIMULATION[0],
            "--to",
            SIMULATION[1],
            "--kommun",
            "2080",
            "--format",
            "sammanfattning",
        ]
        runs = [run_process(command, environment) for _ in range(repeat)]
        if any(run.returncode != 0 for run in runs):
            raise RuntimeError(f"samordna simulate misslyckades:\n{runs[0].output}")
        # The simulation itself, in this process (Prefect, for the schedules, imported before timing).
        from flows.simulation import SimulationOptions, simulate  # noqa: PLC0415 - Prefect only here

        options = SimulationOptions(
            start=date.fromisoformat(SIMULATION[0]), end=date.fromisoformat(SIMULATION[1]), kommun="2080"
        )

        def in_process() -> float:
            with tempfile.TemporaryDirectory(prefix="samordna-simulering-") as copy:
                started = time.perf_counter()
                simulate(url, options, Path(copy), REPO / "prefect.yaml")
                return time.perf_counter() - started

        inside = median_of(repeat, in_process)
    seconds = statistics.median(run.seconds for run in runs)
    print(
        f"\n`samordna simulate` {SIMULATION[0]}–{SIMULATION[1]} för Falun (SQLite), median:"
        f" hel process {seconds:.2f} s, högst {max(run.peak_mb for run in runs):.0f} MB"
        f" (mål ≤ {TARGET_SIMULATION:.0f} s: {verdict(seconds <= TARGET_SIMULATION)});"
        f" simuleringen i processen, utan importerna {inside:.2f} s"
        f" ({verdict(inside <= TARGET_SIMULATION)})"
    )


# ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--repeat", type=int, default=3, help="körningar per mått (median)")
    parser.add_argument("--utan-prefect", action="store_true", help="hoppa över körningen med två arbetare")
    parser.add_argument("--rebuild", action="store_true", help="bygg dataseten på nytt")
    parser.add_argument(
        "--bara", choices=["daglig", "prefect", "stad", "simulering"], nargs="+", help="bara dessa delar"
    )
    args = parser.parse_args()
    parts = set(args.bara or ["daglig", "prefect", "stad", "simulering"])
    if args.utan_prefect:
        parts.discard("prefect")
    print(f"{os.cpu_count()} kärnor, last {os.getloadavg()[0]:.2f}, schema {HEAD_REVISION}", flush=True)
    sweeps: list[SweepFigures] = []
    if "daglig" in parts:
        sweeps = [measure_sweep(args.admin_url, n, args.repeat, rebuild=args.rebuild) for n in GROWTH]
        print_sweeps(sweeps)
        national_figures = sweeps[-1]
        print(
            f"Mål: motorn ≤ {TARGET_FLOOR_RATIO:.0f}× golvet:"
            f" {verdict(national_figures.engine <= TARGET_FLOOR_RATIO * national_figures.floor)};"
            f" högsta minne ≤ {TARGET_PEAK_MB} MB:"
            f" {verdict(national_figures.process.peak_mb <= TARGET_PEAK_MB)}"
        )
    if "prefect" in parts:
        template = national.template(args.admin_url, national.KOMMUNER)
        measured = national_workers.distributed(
            args.admin_url, template, 2, [1, 2], args.repeat, modes=(False, True)
        )
        floor = sweeps[-1].floor if sweeps else 0.0
        failures = measured.failures()
        print(
            "\nGenom Prefect: server på PostgreSQL, två processarbetare; samma summor och rader som en"
            " process, delarna på olika arbetare:"
            f" {'ja' if not failures else 'NEJ: ' + ', '.join(failures)}"
        )
        for scheduled in (False, True):
            for parts_count in (1, 2):
                runs = [
                    run
                    for count, run in measured.results
                    if count == parts_count and run.scheduled == scheduled
                ]
                inside = statistics.median(run.seconds_in_flow for run in runs)
                if scheduled:
                    # The schedule creates the run ahead; the worker starts its process before its time.
                    seconds = statistics.median(run.seconds_from_scheduled for run in runs)
                    how = "schemalagd (skapad i förväg), från sin tid till klar"
                else:
                    seconds = statistics.median(run.seconds_from_created for run in runs)
                    how = "startad för hand, från att den skapades till klar"
                print(
                    f"  {parts_count} del(ar), {how}, median av {len(runs)}: {seconds:.1f} s"
                    f" ({ratio(seconds, floor).strip()} golvet), {inside:.1f} s i flödet"
                    f" — mål ≤ {TARGET_PREFECT_WORKERS:.0f} s: {verdict(seconds <= TARGET_PREFECT_WORKERS)}"
                )
    if "stad" in parts:
        measure_city(args.admin_url, args.repeat, rebuild=args.rebuild)
    if "simulering" in parts:
        measure_simulation(args.repeat)
    print(f"\nLast efteråt {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
