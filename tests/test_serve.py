"""`samordna serve`: the embedded default schedules every cycle of prefect.yaml from one process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.serving import api_is_healthy, crash_orphaned_runs
from tests.smtp import free_port

SAMORDNA = Path(sys.executable).with_name("samordna")


@pytest.mark.slow
def test_serve_starts_a_server_and_schedules_every_deployment(
    falun_sqlite_file: Path, tmp_path: Path
) -> None:
    """serve starts a local Prefect server, registers the deployments with their schedules, and stops
    the server again on Ctrl-C; a run under it killed with SIGKILL is what serve's start-up check
    (crash_orphaned_runs) marks CRASHED, once."""
    database = tmp_path / "samordna.db"
    shutil.copyfile(falun_sqlite_file, database)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    environment = {
        **os.environ,
        "SAMORDNA_DATABASE_URL": f"sqlite:///{database}",
        "SAMORDNA_DATA_DIR": str(tmp_path / "data"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    environment.pop("PREFECT_API_URL", None)
    output = (tmp_path / "serve.out").open("w+")
    process = subprocess.Popen(
        [str(SAMORDNA), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        deployments: list[str] = []
        while time.monotonic() < deadline and len(deployments) < 8:
            assert process.poll() is None, (tmp_path / "serve.out").read_text()
            time.sleep(2)
            if api_is_healthy(api_url):
                with (
                    temporary_settings(updates={PREFECT_API_URL: api_url}),
                    get_client(sync_client=True) as client,
                ):
                    found = client.read_deployments()
                    deployments = sorted(deployment.name for deployment in found)
                    schedules = {deployment.name: len(deployment.schedules) for deployment in found}
        assert deployments == [
            "cykel-del",
            "daglig-kontroll",
            "est",
            "est-dagordning",
            "lagesbild",
            "leverans",
            "sspf",
            "uppfoljning",
        ]
        # One schedule each; cykel-del (a part of a national run) is started by the cycles' flows.
        assert schedules == {name: 0 if name == "cykel-del" else 1 for name in deployments}
        assert "Samordna kör cyklerna enligt prefect.yaml." in (tmp_path / "serve.out").read_text()
        _killed_run_is_crashed(api_url, environment)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        output.close()
    assert not api_is_healthy(api_url), "the local server must stop with serve"


HANGING_FLOW = """
import time
from prefect import flow

@flow(name="hangande-flode")
def hang() -> None:
    time.sleep(300)

hang()
"""


HANGING_FLOW = """
import time
from prefect import flow

@flow(name="hangande-flode")
def hang() -> None:
    time.sleep(300)

hang()
"""


def _killed_run_is_crashed(api_url: str, environment: dict[str, str]) -> None:
    """A flow run whose process gets SIGKILL stays RUNNING; crash_orphaned_runs marks it CRASHED."""
    child = subprocess.Popen(
        [sys.executable, "-c", HANGING_FLOW], env={**environment, "PREFECT_API_URL": api_url}
    )
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        deadline = time.monotonic() + 120
        runs = []
        while time.monotonic() < deadline and not runs:
            assert child.poll() is None
            time.sleep(1)
            runs = [run for run in client.read_flow_runs() if run.state_type == StateType.RUNNING]
        (run,) = runs
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        time.sleep(2)
        assert client.read_flow_run(run.id).state_type == StateType.RUNNING  # nobody else notices
        crashed = crash_orphaned_runs(api_url, datetime.now(UTC), grace=timedelta(0))
        after = client.read_flow_run(run.id)
        again = crash_orphaned_runs(api_url, datetime.now(UTC), grace=timedelta(0))
    assert crashed == [str(run.id)]
    assert after.state_type == StateType.CRASHED
    assert after.state is not None
    assert "markerad som kraschad när samordna serve startade igen" in (after.state.message or "")
    assert again == []
