"""Integration: the national daily sweep through Prefect on a server with PostgreSQL and two process workers.

What README's "Real scale" path does, here on loopback: a Prefect server on its own PostgreSQL database,
the work pool of prefect.yaml, `prefect deploy --all`, two `prefect worker start` processes (each its
own machine in production, or a pod in a Kubernetes work pool), and one run of the deployment
daglig-kontroll for the national data set (benchmarks/national.py) with SAMORDNA_RUN_PARTS=2: the flow
splits the 290 kommuner into two parts, each a run of cykel-del that one of the workers takes. The same
sweep also runs in one process without Prefect on a second copy of the data; the script checks that
both report the same totals and leave the same rows, and that both workers ran a part, and prints how
long it took. Exit 0 when everything agrees.

    .venv/bin/python benchmarks/national_workers.py --admin-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres

The admin URL names a PostgreSQL server where the script may create and drop databases (its own
names: samordna_national_*, samordna_prefect_*). The national data set is built once into a template
database (about three minutes) and kept for the next run; --rebuild builds it again.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import national
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models.db import make_engine
from services.cycles import kommun_codes, run_for_kommuner

PREFECT = Path(sys.executable).with_name("prefect")
PREFETCH_SECONDS = 10
SCHEDULED_AHEAD_SECONDS = 20  # a scheduled run is created this long before its time, as a schedule does
SWEEP_DAY = national.SWEEP_DAY
# The rows a sweep leaves, by natural keys: the two runs must agree on every one of them.
ROWS = {
    "task": "SELECT idempotency_key, state, closed_at FROM task",
    "reminder": (
        "SELECT dedupe_key, kind, subject, recipient_person_id, outbox_message_id IS NOT NULL FROM reminder"
    ),
    "message": "SELECT kind, recipient_person_id, subject, body_text FROM outbox_message",
    "escalation": "SELECT dedupe_key, recipient_person_id, resolved_on FROM escalation",
}


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: sorted(tuple(str(value) for value in row) for row in connection.execute(sa.text(query)))
                for name, query in ROWS.items()
            }
    finally:
        engine.dispose()


def api_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:  # noqa: S310 - our loopback server
            return bool(response.status == 200)  # noqa: PLR2004 - HTTP OK
    except (urllib.error.URLError, OSError):
        return False


def run_prefect(environment: dict[str, str], *args: str, timeout: int = 300) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter's prefect, fixed arguments
        [str(PREFECT), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def one_process(url: str) -> tuple[dict[str, int], float]:
    """The national sweep in this process, without Prefect: the reference."""
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        totals = run_for_kommuner(engine, "daglig", kommun_codes(engine, None), SWEEP_DAY)
        return totals, time.perf_counter() - started
    finally:
        engine.dispose()


@dataclass
class SweepRun:
    """One run of daglig-kontroll through the cluster, as the script saw it."""

    state: str | None
    totals: dict[str, int]
    seconds_from_trigger: float
    seconds_in_flow: float
    seconds_from_created: float  # the run's creation on the server to its end: the sweep as Prefect ran it
    seconds_from_scheduled: float  # the run's scheduled start to its end (a scheduled run: what people see)
    parts: list[tuple[str, str | None]]  # the runs of cykel-del it started, with their final states
    ran_by: dict[str, list[str]]  # flow run → the workers whose log names it
    scheduled: bool = False  # created ahead of its time, as the deployment's schedule creates runs
    same_rows: bool = False


class Cluster:
    """A Prefect server on its own PostgreSQL database, the work pool, every deployment of prefect.yaml
    and N process workers, on loopback, for as long as the block lasts."""

    def __init__(self, admin_url: str, samordna_url: str, workers: int, work: Path) -> None:
        self.admin_url = admin_url
        self.workers = workers
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database = f"samordna_prefect_{os.getpid()}"
        port = 4200 + os.getpid() % 700
        self.api_url = f"http://127.0.0.1:{port}/api"
        server_url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=self.database)
        self.environment = {
            **os.environ,
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": server_url.render_as_string(hide_password=False),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "SAMORDNA_HOME": str(REPO),
            "SAMORDNA_DATABASE_URL": samordna_url,
            "SAMORDNA_DATA_DIR": str(work / "data"),
            # Workers ask for work every second instead of every ten: the figure is the sweep, not the poll.
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            # A worker starts a scheduled run's process this long before its time (Prefect's default is
            # 10 s); the run then waits in PENDING for its minute, so its start is paid before it.
            "PREFECT_WORKER_PREFETCH_SECONDS": str(PREFETCH_SECONDS),
        }
        self.environment.pop("PREFECT_API_URL", None)
        self.port = port
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Self:
        national.drop_database(self.admin_url, self.database)
        admin = national.admin_engine(self.admin_url)
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.environment,
            stdout=(self.logs / "server.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        self.processes.append(server)
        deadline = time.monotonic() + 240
        while not api_healthy(self.api_url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prefect-servern startade inte; se {self.logs / 'server.log'}")
            time.sleep(1)
        self.environment["PREFECT_API_URL"] = self.api_url
        run_prefect(self.environment, "work-pool", "create", "samordna", "--type", "process")
        run_prefect(self.environment, "--no-prompt", "deploy", "--all")
        for number in range(self.workers):
            name = f"arbetare-{number + 1}"
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - fixed arguments
                    # --limit 1: a worker busy with the national run leaves the other parts to the others.
                    [str(PREFECT), "worker", "start", "--pool", "samordna", "--name", name, "--limit", "1"],
                    cwd=REPO,
                    # INFO: a worker logs each flow run it submits, which is how the check sees who ran what.
                    env={**self.environment, "PREFECT_LOGGING_LEVEL": "INFO"},
                    stdout=(self.logs / f"{name}.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        time.sleep(5)  # the workers register with the pool
        return self

    def __exit__(self, *_: object) -> None:
        for process in reversed(self.processes):
            process.send_signal(signal.SIGINT)  # a worker ignores SIGTERM
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        national.drop_database(self.admin_url, self.database)

    def sweep(self, parts: int, *, scheduled: bool = False) -> SweepRun:
        """One run of daglig-kontroll with ``parts`` parts, from `prefect deployment run` to its end;
        ``scheduled``: created SCHEDULED_AHEAD_SECONDS before its time, as the deployment's schedule
        creates its runs, so that the worker starts it ahead (prefetch)."""
        triggered = time.perf_counter()
        ahead = ["--start-in", f"in {SCHEDULED_AHEAD_SECONDS} seconds"] if scheduled else []
        output = run_prefect(
            self.environment,
            "deployment",
            "run",
            "daglig-kontroll/daglig-kontroll",
            "--params",
            json.dumps({"as_of": SWEEP_DAY.isoformat(), "delar": parts}),
            *ahead,
        )
        flow_run_id = next(line.split()[-1] for line in output.splitlines() if "UUID" in line)
        return self._await(flow_run_id, triggered)

    def _await(self, flow_run_id: str, triggered: float) -> SweepRun:
        from prefect.client.orchestration import get_client  # noqa: PLC0415 - Prefect only for this part
        from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

        with (
            temporary_settings(updates={PREFECT_API_URL: self.api_url}),
            get_client(sync_client=True) as client,
        ):
            deadline = time.monotonic() + 600
            while True:
                run = client.read_flow_run(uuid.UUID(flow_run_id))
                if run.state is not None and run.state.is_final():
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("daglig-kontroll blev inte klar inom tio minuter")
                time.sleep(0.2)
            finished = time.perf_counter()
            # This run's parts: runs of cykel-del it started (named "daglig <day> del k/n"), not earlier ones.
            parts = [
                found
                for found in client.read_flow_runs()
                if found.name.startswith("daglig ")
                and " del " in found.name
                and found.created is not None
                and run.created is not None
                and found.created >= run.created
            ]
        texts = {
            f"arbetare-{number + 1}": (self.logs / f"arbetare-{number + 1}.log").read_text(
                encoding="utf-8", errors="replace"
            )
            for number in range(self.workers)
        }
        # A worker logs "Worker '<name>' submitting flow run '<id>'" for each run it takes.
        ran_by = {
            name: sorted(
                worker for worker, text in texts.items() if f"submitting flow run '{run_id}'" in text
            )
            for name, run_id in [("riksflödet", flow_run_id), *((part.name, part.id) for part in parts)]
        }
        return SweepRun(
            state=run.state_type.value if run.state_type else None,
            totals=json.loads(run.state.message or "{}") if run.state else {},
            seconds_from_trigger=finished - triggered,
            seconds_in_flow=(run.end_time - run.start_time).total_seconds()
            if run.end_time and run.start_time
            else 0.0,
            seconds_from_created=(run.end_time - run.created).total_seconds()
            if run.end_time and run.created
            else 0.0,
            seconds_from_scheduled=(run.end_time - run.expected_start_time).total_seconds()
            if run.end_time and run.expected_start_time
            else 0.0,
            parts=sorted((part.name, part.state_type.value if part.state_type else None) for part in parts),
            ran_by=ran_by,
        )


@dataclass
class Distributed:
    """What ``distributed`` measured: the reference of one process and each run through the cluster."""

    reference: dict[str, int]
    reference_seconds: float
    workers: int
    results: list[tuple[int, SweepRun]]

    def failures(self) -> list[str]:
        """The checks that failed, in Swedish, one per run and check."""
        failures = []
        for parts, found in self.results:
            workers_used = {worker for ran in found.ran_by.values() for worker in ran}
            checks = {
                "flödet klart": found.state == "COMPLETED",
                "samma summor som en process": found.totals == self.reference,
                "samma rader som en process": found.same_rows,
                # The national run does the first part itself, and starts a run of cykel-del for each other.
                "varje del klar": [state for _, state in found.parts] == ["COMPLETED"] * (parts - 1),
                # Two workers may both log that they submit the same run (one loses the race to start
                # it), so a run can name two workers: what counts is that N parts used N workers.
                "delarna på olika arbetare": parts == 1 or len(workers_used) >= min(parts, self.workers),
            }
            failures += [f"{parts} delar: {check}" for check, ok in checks.items() if not ok]
        return failures


def distributed(
    admin_url: str,
    name: str,
    workers: int,
    parts_list: list[int],
    repeat: int,
    *,
    modes: tuple[bool, ...] = (False,),
) -> Distributed:
    """The national sweep of template database ``name`` in one process, then ``repeat`` times per number
    of parts and mode through a cluster of ``workers`` workers, each run on a fresh copy (mode True:
    each run created ahead of its time, as a schedule creates it; False: started at once by hand)."""
    reference_db, distributed_db = (f"samordna_national_{kind}_{os.getpid()}" for kind in ("ref", "dist"))
    reference_url = national.copy_database(admin_url, name, reference_db)
    distributed_url = national.database_url(admin_url, distributed_db)
    results: list[tuple[int, SweepRun]] = []
    try:
        reference, seconds = one_process(reference_url)
        expected = rows(reference_url)
        print(f"En process, utan Prefect: {reference} på {seconds:.2f} s", flush=True)
        national.copy_database(admin_url, name, distributed_db)
        with (
            tempfile.TemporaryDirectory(prefix="samordna-arbetare-") as folder,
            Cluster(admin_url, distributed_url, workers, Path(folder)) as cluster,
        ):
            for scheduled in modes:
                for parts in parts_list:
                    for _ in range(repeat):
                        # Each run sweeps the day on a fresh copy (no worker holds a connection between runs).
                        national.copy_database(admin_url, name, distributed_db)
                        found = cluster.sweep(parts, scheduled=scheduled)
                        found.scheduled = scheduled
                        found.same_rows = rows(distributed_url) == expected
                        results.append((parts, found))
                        print(f"  {parts} del(ar): {found}", flush=True)
        return Distributed(reference, seconds, workers, results)
    finally:
        national.drop_database(admin_url, reference_db)
        national.drop_database(admin_url, distributed_db)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", required=True)
    parser.add_argument("--kommuner", type=int, default=national.KOMMUNER)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parts", type=int, nargs="+", default=[1, 2], help="delar per körning att mäta")
    parser.add_argument("--repeat", type=int, default=3, help="körningar per antal delar (median)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--schemalagd", action="store_true", help="skapa körningarna i förväg, som ett schema gör"
    )
    args = parser.parse_args()
    name = national.template(args.admin_url, args.kommuner, rebuild=args.rebuild)
    print(f"Maskinens last: {os.getloadavg()}", flush=True)
    measured = distributed(
        args.admin_url, name, args.workers, args.parts, args.repeat, modes=(args.schemalagd,)
    )
    print(f"Maskinens last: {os.getloadavg()}")
    for parts in args.parts:
        runs = [found for count, found in measured.results if count == parts]
        trigger = statistics.median(found.seconds_from_trigger for found in runs)
        inside = statistics.median(found.seconds_in_flow for found in runs)
        created = statistics.median(found.seconds_from_created for found in runs)
        print(
            f"daglig-kontroll genom Prefect, {args.workers} arbetare, {parts} del(ar), "
            f"median av {len(runs)}: "
            f"{trigger:.1f} s från `prefect deployment run` till klar, {created:.1f} s från att körningen"
            f" skapades till klar, {inside:.1f} s i flödet "
            f"(en process utan Prefect: {measured.reference_seconds:.2f} s)"
        )
    failures = measured.failures()
    for failure in failures:
        print(f"  FEL {failure}")
    print("Alla kontroller OK" if not failures else f"{len(failures)} kontroller misslyckades")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
