"""`samordna serve`: every schedule of prefect.yaml in one process on the embedded default.

An ephemeral Prefect schedules nothing: scheduling needs a running API. So ``serve`` starts a local
Prefect server (a child process on 127.0.0.1, its SQLite state in ``$PREFECT_HOME``) unless
``PREFECT_API_URL`` already points at one, then serves the deployments declared in prefect.yaml from
this process: Prefect's scheduler creates the runs and this process executes them. At real scale the
same prefect.yaml is deployed with ``prefect deploy --all`` to a server with process workers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVER_START_TIMEOUT_SECONDS = 180


@dataclass(frozen=True, slots=True)
class DeclaredDeployment:
    name: str
    entrypoint: str
    parameters: dict[str, Any]
    description: str


def declared_deployments(prefect_yaml: Path) -> list[DeclaredDeployment]:
    """The deployments prefect.yaml declares."""
    document = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    return [
        DeclaredDeployment(
            name=str(entry["name"]),
            entrypoint=str(entry["entrypoint"]),
            parameters=dict(entry.get("parameters") or {}),
            description=str(entry.get("description") or ""),
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
