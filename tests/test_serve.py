"""`samordna serve`: the embedded default schedules every cycle of prefect.yaml from one process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.serving import api_is_healthy
from tests.smtp import free_port

SAMORDNA = Path(sys.executable).with_name("samordna")


@pytest.mark.slow
def test_serve_starts_a_server_and_schedules_every_deployment(
    falun_sqlite_file: Path, tmp_path: Path
) -> None:
    """serve starts a local Prefect server, registers the five deployments with their schedules, and
    stops the server again on Ctrl-C."""
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
        while time.monotonic() < deadline and len(deployments) < 6:
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
            "daglig-kontroll",
            "est-dagordning",
            "est-falun",
            "lagesbild",
            "leverans",
            "sspf-falun",
            "uppfoljning",
        ]
        assert set(schedules.values()) == {1}
        assert "Samordna kör cyklerna enligt prefect.yaml." in (tmp_path / "serve.out").read_text()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        output.close()
    assert not api_is_healthy(api_url), "the local server must stop with serve"
