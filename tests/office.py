"""Real office and browser programs for tests: LibreOffice opens documents, Chromium renders pages.

Both come from the machine (.ci/run installs them). A test that needs one skips when it is missing on
a developer's machine and fails under CI=true, so CI can never pass without having used it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_program(name: str) -> str:
    """The program's path; a skip on a developer's machine without it, a failure in CI."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed under CI=true: .ci/run must install it")
        pytest.skip(f"{name} is not installed on this machine")
    return found


def libreoffice_convert(source: Path, target_format: str, out_dir: Path) -> Path:
    """Convert ``source`` with LibreOffice headless (e.g. to "pdf" or "xlsx"); the converted file.

    A fresh profile per call: two conversions at once would otherwise share (and lock) one profile.
    """
    soffice = require_program("soffice")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="samordna-lo-") as profile:
        completed = subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation=file://{profile}",
                "--convert-to",
                target_format,
                "--outdir",
                str(out_dir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    converted = out_dir / f"{source.stem}.{target_format.split(':', maxsplit=1)[0]}"
    assert completed.returncode == 0, completed.stderr
    assert converted.exists(), f"LibreOffice wrote nothing: {completed.stdout} {completed.stderr}"
    return converted


@contextmanager
def chromium() -> Iterator[Browser]:
    """The machine's Chromium, headless, driven by Playwright (which never downloads a browser here)."""
    require_program("chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only tests that render import it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
