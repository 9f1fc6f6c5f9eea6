"""A real Prefect server: prefect.yaml deploys to a process work pool, a worker runs a cycle to completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.serving import local_server
from models.db import make_engine
from services.cycles import CYCLES, run_cycle
from tests.conftest import REPO
from tests.smtp import free_port

PREFECT = Path(sys.executable).with_name("prefect")


@pytest.mark.slow
def test_deploy_all_and_a_worker_completes_a_cycle(falun_sqlite_file: Path, tmp_path: Path) -> None:
    """`prefect deploy --all` against a real server; a process worker runs the daily sweep; it completes."""
    database = tmp_path / "samordna.db"
    shutil.copyfile(falun_sqlite_file, database)
    engine = make_engine(f"sqlite:///{database}")
    created = run_cycle(engine, CYCLES["uppfoljning"].run, "2080", date(2025, 4, 22))
    asked = sum(1 for event in created if event.kind == "uppgift" and event.recipient)
    assert asked > 20
    home = tmp_path / "prefect-home"
    home.mkdir()
    environment = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "SAMORDNA_DATABASE_URL": f"sqlite:///{database}",
        "SAMORDNA_HOME": str(REPO),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    old = dict(os.environ)
    os.environ.update(environment)
    try:
        with local_server(free_port(), tmp_path / "server.log") as api_url:
            environment["PREFECT_API_URL"] = api_url

            def prefect(*args: str, timeout: int = 180) -> str:
                result = subprocess.run(
                    [str(PREFECT), *args],
                    cwd=REPO,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
                assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
                return result.stdout

            prefect("work-pool", "create", "samordna", "--type", "process")
            prefect("--no-prompt", "deploy", "--all")
            listed = prefect("deployment", "ls")
            for name in ("est", "uppfoljning", "lagesbild", "daglig-kontroll", "sspf", "cykel-del"):
                assert name in listed
            # JSON, so that the kommunkod stays a string ("2080", not the number 2080).
            params = '{"kommun": "2080", "as_of": "2025-05-06"}'
            prefect("deployment", "run", "daglig-kontroll/daglig-kontroll", "--params", params)
            prefect("worker", "start", "--pool", "samordna", "--run-once", timeout=300)
            with (
                temporary_settings(updates={PREFECT_API_URL: api_url}),
                get_client(sync_client=True) as client,
            ):
                runs = [
                    (run.parameters.get("as_of"), run.state_type.value if run.state_type else None)
                    for run in client.read_flow_runs()
                ]
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert ("2025-05-06", "COMPLETED") in runs
    with engine.connect() as connection:
        reminded = connection.execute(
            sa.text("SELECT count(*) FROM reminder WHERE remind_on = '2025-05-06'")
        ).scalar_one()
    engine.dispose()
    # The worker's sweep reminded every ansvarig of the status task due that day, once.
    assert reminded == asked
