"""`samordna serve`: every schedule of prefect.yaml in one process on the embedded default.

An ephemeral Prefect schedules nothing: scheduling needs a running API. So ``serve`` starts a local
Prefect server (a child process on 127.0.0.1, its SQLite state in ``$PREFECT_HOME``) unless
``PREFECT_API_URL`` already points at one, then serves the deployments declared in prefect.yaml from
this process: Prefect's scheduler creates the runs and this process executes them. At real scale the
same prefect.yaml is deployed with ``prefect deploy --all`` to a server with process workers.

A run whose process was killed (kill -9, a power cut, a restarted container) never reports again, and
Prefect's runner records no process id on the run that a later process could check: it stays RUNNING for
ever (issue 16). The local server belongs to ``serve`` alone, so when ``serve`` starts it, every run still
RUNNING, PENDING or CANCELLING in it belonged to a process that is gone: ``crash_orphaned_runs`` marks
them CRASHED, with a Swedish message, leaving only runs whose state changed in the last
``ORPHAN_GRACE`` (a ``samordna run`` that shares the embedded database could have just begun). A server
given by ``PREFECT_API_URL`` is not touched: its workers may be running those runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

SERVER_START_TIMEOUT_SECONDS = 180
ORPHAN_GRACE = timedelta(minutes=2)
CRASHED_MESSAGE = (
    "Processen som körde flödet finns inte längre (avbruten med kill -9, strömavbrott eller omstart); "
    "markerad som kraschad när samordna serve startade igen."
)


@dataclass(frozen=True, slots=True)
class DeclaredDeployment:
    name: str
    entrypoint: str
    parameters: dict[str, Any]
    description: str
    concurrency_limit: int | None = None


def declared_deployments(prefect_yaml: Path) -> list[DeclaredDeployment]:
    """The deployments prefect.yaml declares."""
    document = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    return [
        DeclaredDeployment(
            name=str(entry["name"]),
            entrypoint=str(entry["entrypoint"]),
            parameters=dict(entry.get("parameters") or {}),
            description=str(entry.get("description") or ""),
            concurrency_limit=entry.get("concurrency_limit"),
        )
        for entry in document.get("deployments") or []
    ]


def api_is_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:  # noqa: S310 - our own loopback URL
            return bool(response.status == 200)  # noqa: PLR2004 - HTTP OK
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_server(port: int, log_file: Path) -> Iterator[str]:
    """A Prefect server on 127.0.0.1:``port`` for the duration of the block; yields its API URL."""
    api_url = f"http://127.0.0.1:{port}/api"
    prefect = Path(sys.executable).with_name("prefect")
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own interpreter's prefect
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PREFECT_API_URL": ""},
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while not api_is_healthy(api_url):
            if process.poll() is not None:
                raise RuntimeError(f"Prefect-servern startade inte; se {log_file}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Prefect-servern svarade inte inom {SERVER_START_TIMEOUT_SECONDS} s; se {log_file}"
                )
            time.sleep(0.5)
        yield api_url
    finally:
        # SIGINT: Prefect's server shuts down cleanly on it.
        process.send_signal(2)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def crash_orphaned_runs(api_url: str, now: datetime, grace: timedelta = ORPHAN_GRACE) -> list[str]:
    """Mark every run RUNNING, PENDING or CANCELLING on the server at ``api_url`` whose state is older
    than ``grace`` as CRASHED (module docstring); the ids of the runs marked."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - Prefect after configure_prefect
    from prefect.client.schemas.filters import (  # noqa: PLC0415 - as above
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType  # noqa: PLC0415 - as above
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415 - as above
    from prefect.states import Crashed  # noqa: PLC0415 - as above

    unfinished = FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING, StateType.CANCELLING])
    crashed: list[str] = []
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        for run in client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=unfinished))
        ):
            changed = run.state.timestamp if run.state is not None else None
            if changed is not None and changed > now - grace:
                continue
            client.set_flow_run_state(run.id, Crashed(message=CRASHED_MESSAGE), force=True)
            crashed.append(str(run.id))
    return crashed


@dataclass(frozen=True, slots=True)
class ServeStart:
    """What `samordna serve` tells the person when the deployments are registered."""

    api_url: str
    home: Path
    own_server: bool
    deployments: list[DeclaredDeployment]
    crashed: list[str]  # runs a killed process left unfinished, now marked CRASHED


def serve_declared(prefect_yaml: Path, port: int, home: Path, on_start: Callable[[ServeStart], None]) -> None:
    """Serve every deployment of ``prefect_yaml`` from this process until interrupted.

    Starts a local Prefect server unless ``PREFECT_API_URL`` names one; ``on_start`` is called once the
    deployments are built, before serving begins.
    """
    from prefect import serve  # noqa: PLC0415 - Prefect reads its settings at import: after configure_prefect
    from prefect.deployments.runner import RunnerDeployment  # noqa: PLC0415 - as above
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415 - as above

    from flows.schedules import load_schedules  # noqa: PLC0415 - imports Prefect, as above

    existing = os.environ.get("PREFECT_API_URL")
    server = nullcontext(existing) if existing else local_server(port, home / "server.log")
    os.chdir(prefect_yaml.parent)  # prefect.yaml's entrypoints are relative to the repository
    with server as api_url, temporary_settings(updates={PREFECT_API_URL: api_url}):
        # Runs left unfinished in our own server belonged to a process that died (see crash_orphaned_runs).
        crashed = [] if existing else crash_orphaned_runs(api_url, datetime.now(UTC))
        schedules = load_schedules(prefect_yaml)
        declared = declared_deployments(prefect_yaml)
        deployments = [
            RunnerDeployment.from_entrypoint(
                entry.entrypoint,
                name=entry.name,
                schedules=schedules.get(entry.name),
                parameters=entry.parameters,
                description=entry.description or None,
                concurrency_limit=entry.concurrency_limit,
            )
            for entry in declared
        ]
        on_start(ServeStart(api_url, home, not existing, declared, crashed))
        serve(*deployments, pause_on_shutdown=False, print_starting_message=False)
