"""A command loads Prefect, matplotlib, python-docx, apprise, openpyxl, alembic, icalendar or holidays only
when it needs them (issue 15):
each command below runs in a fresh interpreter against a copy of the Falun example, and the libraries it
loaded are read from sys.modules afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

HEAVY = {"prefect", "matplotlib", "docx", "apprise", "openpyxl", "alembic", "icalendar", "holidays"}
RUN_AND_LIST = (
    "import sys\n"
    "from samordna.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    "sys.exit(code)\n"
)


def loaded_by(arguments: list[str], database: Path, tmp_path: Path) -> set[str]:
    """The top-level packages ``samordna <arguments>`` loaded in a fresh interpreter (it must succeed)."""
    listing = tmp_path / "moduler.txt"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *arguments],
        cwd=REPO,
        env={
            **os.environ,
            "SAMORDNA_DATABASE_URL": f"sqlite:///{database}",
            "SAMORDNA_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(listing.read_text(encoding="utf-8").split())


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["run", "--help"],
        ["est", "lagesbild", "--kommun", "2080", "--cykel", "6", "--format", "text"],
        ["est", "lagesbild", "--kommun", "2080", "--cykel", "6", "--format", "json"],
        ["run", "daglig", "--kommun", "2080", "--as-of", "2025-04-22", "--utan-prefect"],
        ["kommun", "lista"],
        ["plan", "list", "--kommun", "2080", "--format", "json"],
        ["status", "report", "1", "--status", "pågående", "--kommun", "2080", "--datum", "2025-04-22"],
    ],
    ids=lambda arguments: " ".join(arguments[:2]) + (f" {arguments[-1]}" if arguments[0] == "est" else ""),
)
def test_a_command_loads_no_heavy_library_it_does_not_need(
    arguments: list[str], falun_sqlite_file: Path, tmp_path: Path
) -> None:
    """None of Prefect, matplotlib, python-docx, apprise, openpyxl, alembic, icalendar or holidays is
    imported by these."""
    database = tmp_path / "falun.db"
    shutil.copyfile(falun_sqlite_file, database)
    assert loaded_by(arguments, database, tmp_path) & HEAVY == set()


def test_the_check_sees_a_heavy_library_where_one_is_needed(falun_sqlite_file: Path, tmp_path: Path) -> None:
    """The listing is real: the agenda as DOCX loads python-docx, as HTML matplotlib (its charts), as
    ICS icalendar."""
    database = tmp_path / "falun.db"
    shutil.copyfile(falun_sqlite_file, database)
    police = REPO / "examples" / "polisen-handelser-dalarna-2025-03.json"
    loaded_by(["est", "import", str(police), "--kommun", "2080"], database, tmp_path)  # incidents to chart
    agenda = ["est", "dagordning", "--kommun", "2080", "--cykel", "6"]
    as_docx = loaded_by([*agenda, "--format", "docx", "--ut", str(tmp_path / "d.docx")], database, tmp_path)
    as_html = loaded_by([*agenda, "--format", "html", "--ut", str(tmp_path / "d.html")], database, tmp_path)
    as_ics = loaded_by([*agenda, "--format", "ics", "--ut", str(tmp_path / "d.ics")], database, tmp_path)
    assert "docx" in as_docx
    assert "matplotlib" in as_html
    assert "icalendar" in as_ics
