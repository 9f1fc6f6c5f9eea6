"""`samordna run` and `samordna simulate`: the cycles from the command line."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest

from models.working_days import is_working_day
from tests.conftest import Cli
from tests.test_plan_import import row_counts


def test_run_without_prefect_is_idempotent(falun_cli: Cli) -> None:
    """`run uppfoljning` opens the May round once; the same run again reports that nothing is new."""
    code, out, err = falun_cli(
        "run", "uppfoljning", "--as-of", "2025-04-22", "--kommun", "2080", "--utan-prefect"
    )
    assert code == 0, err
    assert "tisdag 22 april 2025" in out
    assert "uppgift:" in out
    code, out, _ = falun_cli(
        "run", "uppfoljning", "--as-of", "2025-04-22", "--kommun", "2080", "--utan-prefect"
    )
    assert code == 0
    assert "Inget nytt" in out


@pytest.mark.slow
def test_run_through_prefect(falun_cli: Cli) -> None:
    """`run est` runs the Prefect flow (ephemeral, no server to start by hand) and reports its counts."""
    code, out, err = falun_cli("run", "est", "--as-of", "2025-01-02", "--kommun", "Falun")
    assert code == 0, err
    assert "som Prefect-flöde" in out
    assert "uppgift:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("run", "daglig", "--as-of", "2025-02-30", "--utan-prefect"),
            '--as-of: "2025-02-30" är inget datum',
        ),
        (("run", "daglig", "--kommun", "Atlantis", "--utan-prefect"), 'Kommunen "Atlantis" finns inte'),
        (("simulate", "--from", "2026-01-01", "--to", "2025-01-01"), "--to ligger före --from"),
        (("simulate", "--from", "2025-01-01", "--to", "2040-01-01"), "högst 5 år"),
    ],
)
def test_bad_cycle_input_is_a_swedish_message(falun_cli: Cli, args: tuple[str, ...], message: str) -> None:
    """Bad dates and unknown kommuner get a Swedish message and exit 1, without a traceback."""
    code, _, err = falun_cli(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_two_simulated_years_of_falun(falun_cli: Cli) -> None:
    """Two years of Falun: one status task per measure and round, every reminder on a working day,
    the same seed gives the same timeline, and the real database is not touched."""
    before = row_counts(falun_cli.url)
    args = ("simulate", "--from", "2025-01-01", "--to", "2026-12-31", "--kommun", "2080", "--format", "json")
    code, out, err = falun_cli(*args)
    assert code == 0, err
    timeline = json.loads(out)
    assert row_counts(falun_cli.url) == before
    events = timeline["händelser"]
    reminders = [event for event in events if event["typ"] == "påminnelse"]
    assert reminders
    assert all(is_working_day(date.fromisoformat(event["när"])) for event in reminders)
    status_tasks = Counter(
        event["ämne"]
        for event in events
        if event["typ"] == "uppgift" and event["ämne"].startswith("Statusrapport")
    )
    rounds = {subject.split(":")[0] for subject in status_tasks}
    assert rounds == {
        "Statusrapport första halvåret 2025",
        "Statusrapport andra halvåret 2025",
        "Statusrapport första halvåret 2026",
        "Statusrapport andra halvåret 2026",
    }
    assert max(status_tasks.values()) == 1
    levels = Counter(event["nivå"] for event in events if event["typ"] == "eskalering")
    assert levels[1] > 0
    assert levels[2] > 0
    est_tasks = [
        event for event in events if event["typ"] == "uppgift" and event["ämne"].startswith("Rapportera")
    ]
    assert len(est_tasks) == 7 * 52  # seven EST members, a meeting every 14 days for two years
    assert falun_cli(*args)[1] == out


def test_simulation_summary_counts_per_month(falun_cli: Cli) -> None:
    """--format sammanfattning prints one line per month with the counts, and the totals."""
    code, out, err = falun_cli(
        "simulate",
        "--from",
        "2025-04-01",
        "--to",
        "2025-06-30",
        "--kommun",
        "2080",
        "--format",
        "sammanfattning",
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["Månad", "uppgift", "svar"]
    assert [line.split()[0] for line in lines[2:5]] == ["apr.", "maj", "juni"]
    assert "Summa efter" in out
