"""PDF from DOCX or XLSX through LibreOffice headless, where it is installed.

LibreOffice writes a user profile at start, and a second instance cannot share one that is in use:
each conversion gets a fresh profile and HOME in a temporary directory (removed afterwards), so it
runs under a service account with a read-only home and beside another conversion. Several files
converted together share one start of LibreOffice (≈ 2 s on this machine), which is most of the cost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

TIMEOUT_SECONDS = 180
PROGRAMS = ("soffice", "libreoffice")


class OfficeUnavailableError(RuntimeError):
    """LibreOffice is not installed, or it did not convert; the message is Swedish."""


def office_program() -> str | None:
    """The path of LibreOffice's ``soffice``, or None when it is not installed."""
    return next((found for name in PROGRAMS if (found := shutil.which(name))), None)


def convert_files(sources: list[Path], out_dir: Path, target: str = "pdf") -> dict[Path, Path]:
    """Each of ``sources`` converted to ``target`` in ``out_dir`` by one LibreOffice run: source → file."""
    program = office_program()
    if program is None:
        raise OfficeUnavailableError(
            "PDF kräver LibreOffice (soffice), som inte är installerat. "
            "Installera det, t.ex. med: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="samordna-office-") as home:
        environment = {**os.environ, "HOME": home}
        try:
            completed = subprocess.run(  # noqa: S603 - the program found on PATH, fixed arguments
                [
                    program,
                    "--headless",
                    "--norestore",
                    f"-env:UserInstallation={Path(home, 'profil').as_uri()}",
                    "--convert-to",
                    target,
                    "--outdir",
                    str(out_dir),
                    *[str(source) for source in sources],
                ],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
                env=environment,
            )
        except subprocess.TimeoutExpired:
            raise OfficeUnavailableError(
                f"LibreOffice blev inte klar inom {TIMEOUT_SECONDS} s med konverteringen."
            ) from None
    extension = target.split(":", maxsplit=1)[0]
    converted = {source: out_dir / f"{source.stem}.{extension}" for source in sources}
    missing = [source.name for source, path in converted.items() if not path.is_file()]
    if completed.returncode != 0 or missing:
        raise OfficeUnavailableError(
            f"LibreOffice kunde inte konvertera {', '.join(missing) or 'filerna'} "
            f"(slutkod {completed.returncode})."
        )
    return converted


def pdf_of(documents: Mapping[str, bytes]) -> dict[str, bytes]:
    """PDF bytes of each document, by file name (e.g. ``{"rapport.docx": b"PK…"}``), in one run."""
    with tempfile.TemporaryDirectory(prefix="samordna-pdf-") as folder:
        work = Path(folder)
        sources = {}
        for name, content in documents.items():
            path = work / "in" / Path(name).name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            sources[name] = path
        converted = convert_files(list(sources.values()), work / "ut")
        return {name: converted[path].read_bytes() for name, path in sources.items()}
