"""The command line: Swedish everywhere, documented everywhere, no tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from samordna.cli import cli
from samordna.clicksv import SwedishGroup
from tests.conftest import REPO, Cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Through click's own lookup, which imports the areas the top level offers lazily.
    context = click.Context(cli)
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(cli)


def test_the_lazy_areas_are_listed_with_their_own_first_lines() -> None:
    """`samordna --help` lists the lazily imported areas with the line each command says of itself."""
    context = click.Context(cli)
    for group in (cli, cli.get_command(context, "plan")):
        assert isinstance(group, SwedishGroup)
        assert group.lazy
        for name, lazy in group.lazy.items():
            command = group.get_command(context, name)
            assert command is not None
            assert command.get_short_help_str(200) == lazy.summary


def test_there_are_commands() -> None:
    """The command tree is walked, so the parametrised tests below test something."""
    assert {("init",), ("plan", "import"), ("plan", "list"), ("plan", "show"), ("demo",)} <= set(COMMANDS)


def _id(path: tuple[str, ...]) -> str:
    return " ".join(path) or "samordna"


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=_id)
def test_every_command_has_swedish_help(sqlite_cli: Cli, path: tuple[str, ...]) -> None:
    """`--help` on every command exits 0 and shows Swedish headings and a Swedish description."""
    code, out, err = sqlite_cli(*path, "--help")
    assert code == 0, err
    assert out.startswith("Användning: samordna")
    assert "Visa den här hjälpen och avsluta." in out
    for english in ("Usage:", "Options:", "Show this message", "Commands:"):
        assert english not in out


@pytest.mark.parametrize("path", COMMANDS, ids=_id)
def test_every_command_is_in_readme(path: tuple[str, ...]) -> None:
    """README documents every command: a command nobody can find does not exist."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"samordna {' '.join(path)}" in readme


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("plan", "list", "--fel"), "okänd flagga --fel"),
        (("plan", "list", "--format", "xml"), "välj en av table, json, csv"),
        (("plan", "show"), "argumentet ID saknas"),
        (("plan", "show", "ett"), "ange ett heltal"),
        (("kommun", "skapa", "--namn", "Falun"), "--kod saknas"),
        (("planera",), "okänt kommando 'planera'"),
    ],
)
def test_usage_errors_are_swedish(sqlite_cli: Cli, args: tuple[str, ...], expected: str) -> None:
    """A mistyped command gets a Swedish message, a pointer to --help and exit code 2."""
    code, out, err = sqlite_cli(*args)
    assert code == 2
    assert expected in err
    assert "--help" in err
    assert "Error" not in err
    assert out == ""


def test_uninitialised_database_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command on a database that was never initialised says to run `samordna init`."""
    run = Cli(f"sqlite:///{tmp_path / 'tom.db'}", tmp_path, capsys)
    code, _, err = run("plan", "list", "--kommun", "2080")
    assert code == 1
    assert "Kör först: samordna init" in err


def test_init_then_kommun(sqlite_cli: Cli) -> None:
    """`init` is repeatable, and a kommun created by `kommun skapa` is listed by `kommun lista`."""
    assert sqlite_cli("init")[0] == 0
    assert sqlite_cli("init")[0] == 0
    assert sqlite_cli("kommun", "skapa", "--namn", "Falun", "--kod", "2080")[0] == 0
    code, out, _ = sqlite_cli("kommun", "lista")
    assert (code, out) == (0, "2080  Falun\n")


@pytest.mark.parametrize("kod", ["208", "20800", "abcd", ""])
def test_bad_kommunkod_is_refused(sqlite_cli: Cli, kod: str) -> None:
    """A kommunkod that is not four digits is refused with a Swedish message and nothing is created."""
    code, _, err = sqlite_cli("kommun", "skapa", "--namn", "Falun", "--kod", kod)
    assert code == 1
    assert "ska vara fyra siffror" in err
    assert sqlite_cli("kommun", "lista")[1].startswith("Inga kommuner")


def test_unreachable_database_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database server that does not answer gives a Swedish message without the password."""
    run = Cli("postgresql+psycopg://samordna:hemligt@127.0.0.1:1/samordna", tmp_path, capsys)
    code, _, err = run("init")
    assert code == 1
    assert "databasen går inte att nå" in err
    assert "hemligt" not in err
    assert "Traceback" not in err


def test_console_script_runs_as_module() -> None:
    """`python -m samordna --help` works, so the installed entry point is wired to the same main."""
    result = subprocess.run(
        [sys.executable, "-m", "samordna", "--help"], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert result.returncode == 0
    assert re.search(r"^Användning: samordna", result.stdout, re.MULTILINE)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SAMORDNA_RUN_THREADS", "0", "SAMORDNA_RUN_THREADS måste vara minst 1."),
        ("SAMORDNA_RUN_THREADS", "två", "SAMORDNA_RUN_THREADS måste vara ett heltal."),
        ("SAMORDNA_LINK_DAYS", "999", "SAMORDNA_LINK_DAYS får vara högst 365."),
        ("SAMORDNA_PRODUCTION", "kanske", "SAMORDNA_PRODUCTION måste vara true eller false."),
    ],
)
def test_a_refused_setting_is_named_in_swedish_without_its_value(
    variable: str, value: str, expected: str, tmp_path: Path
) -> None:
    """A SAMORDNA_* variable with a value Samordna cannot use: exit 1, one Swedish line naming the
    variable and what is wrong, never the value (some hold secrets), no traceback and no crash log."""
    done = subprocess.run(
        [sys.executable, "-m", "samordna.cli", "kommun", "lista"],
        cwd=tmp_path,
        env={**_plain_environment(), variable: value, "SAMORDNA_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == f"Fel: Inställningarna går inte att läsa: {expected}\n"
    assert f"={value}" not in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()


def _plain_environment() -> dict[str, str]:
    """This process's environment without any SAMORDNA_* variable, and with the repository importable."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("SAMORDNA_")}
    return {**kept, "PYTHONPATH": str(REPO)}
