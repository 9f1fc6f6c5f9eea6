"""Attendance at an EST meeting is recorded with its decisions and printed in the protocol."""

from __future__ import annotations

from tests.conftest import Cli

MEMBERS = 7


def test_attendance_is_recorded_corrected_and_printed(cli: Cli, falun: int) -> None:
    """`est narvaro` records the named members present and the rest of the EST group absent; a second
    call corrects it; the protocol lists both; unknown persons and an empty call are refused."""
    assert falun
    args = ("est", "narvaro", "--kommun", "2080", "--cykel", "6")
    code, out, err = cli(*args, "--narvarande", "jonas.ek@example.se", "--narvarande", "Anna Lindqvist")
    assert (code, err) == (0, "")
    assert out.startswith("Närvaron vid EST-möte 6 är antecknad: 2 närvarande, 5 frånvarande.")
    code, out, _ = cli(*args, "--narvarande", "Anna Lindqvist", "--franvarande", "jonas.ek@example.se")
    assert code == 0
    assert "1 närvarande, 6 frånvarande" in out
    assert "- Jonas Ek: frånvarande" in out
    code, protocol, _ = cli("est", "protokoll", "--kommun", "2080", "--cykel", "6")
    assert code == 0
    present, absent = protocol.split("Närvarande:\n")[1].split("Frånvarande:\n")
    assert [line for line in present.splitlines() if line.startswith("- ")] == [
        "- Anna Lindqvist, BRÅ-samordnare (Falu kommun)"
    ]
    assert (
        len([line for line in absent.split("\n\n")[0].splitlines() if line.startswith("- ")]) == MEMBERS - 1
    )
    code, _, err = cli(*args, "--narvarande", "Ingen Alls")
    assert code == 1
    assert 'hittar ingen person i katalogen som heter "Ingen Alls"' in err
    code, _, err = cli(*args)
    assert code == 1
    assert "--narvarande" in err
    code, _, err = cli(*args, "--narvarande", "Anna Lindqvist", "--franvarande", "Anna Lindqvist")
    assert code == 1
    assert "både närvarande och frånvarande" in err


def test_protocol_without_attendance_says_so(cli: Cli, falun: int) -> None:
    """A meeting whose attendance nobody recorded says so, rather than listing nobody as present."""
    assert falun
    code, protocol, _ = cli("est", "protokoll", "--kommun", "2080", "--cykel", "3")
    assert code == 0
    assert "Närvaron är inte antecknad." in protocol
