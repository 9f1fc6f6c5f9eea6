"""Prefect's environment, set before Prefect is imported.

Prefect reads its settings when it is first imported. Samordna keeps Prefect's state under its own
data folder (``<SAMORDNA_DATA_DIR>/prefect``) unless ``PREFECT_HOME`` is set, turns off telemetry (it
errors without network), and gives the ephemeral server time to migrate its database on a cold start.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import Settings

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def configure_prefect(settings: Settings) -> Path:
    """Set Prefect's environment for this process (values already set win); returns PREFECT_HOME."""
    home = Path(os.environ.get("PREFECT_HOME") or (settings.data_dir / "prefect")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(home)
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    return home
