"""Plan health: measures without period, named person, measurable goal or cause link; revision dates."""

from __future__ import annotations

import json

import pytest

from reports.plan_health import measurable


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ("Minska antalet anmälda stölder med 20 procent", True),
        ("Klart senast i december", True),
        ("Öka tryggheten enligt Trygghetsindex", True),
        ("Att få igång en lokal samverkan med berörda verksamheter.", False),
        ("", False),
    ],
)
def test_measurable_goal_needs_a_number_date_or_indicator(goal: str, expected: bool) -> None:  # noqa: FBT001 - parametrised
    """A goal is measurable when it holds a number, a date or an indicator's name."""
    assert measurable(goal, ["Trygghetsindex"]) is expected


def test_falun_health_in_json_and_text(falun_cli) -> None:  # type: ignore[no-untyped-def]
    """Falun: one unparsed period, no cause links, no revision date; in JSON and text."""
    code, out, _ = falun_cli(
        "plan", "kontroll", "--kommun", "2080", "--format", "json", "--as-of", "2025-06-01"
    )
    assert code == 0
    [plan] = json.loads(out)
    assert plan["atgarder"] == 33
    assert plan["antal"]["period"] == 1  # "Ca 2,5 timmar/per tillfälle"
    assert plan["antal"]["orsak"] == 33  # Falun's plan names no problems or causes
    assert plan["antal"]["person"] == 0
    assert 0 < plan["antal"]["mal"] <= 33
    assert plan["planen"] == ["Planens revidering: inget datum angivet."]
    code, out, _ = falun_cli("plan", "kontroll", "--kommun", "2080", "--as-of", "2025-06-01")
    assert "ingen koppling till problem eller orsak: 33 av 33" in out


def test_stadsdel_links_measures_to_causes_and_revision_near(sqlite_cli) -> None:  # type: ignore[no-untyped-def]
    """The stadsdel template links measures to causes; a revision 30 days ahead is near."""
    from tests.conftest import EXAMPLES  # noqa: PLC0415 - beside its only use

    sqlite_cli("kommun", "skapa", "--namn", "Stadsdel", "--kod", "0180")
    code, _, err = sqlite_cli(
        "plan",
        "import",
        EXAMPLES / "stadsdel-atgardsplan-2025.xlsx",
        "--kommun",
        "0180",
        "--revideras-senast",
        "2025-07-01",
    )
    assert code == 0, err
    code, out, _ = sqlite_cli(
        "plan", "kontroll", "--kommun", "0180", "--format", "json", "--as-of", "2025-06-01"
    )
    [plan] = json.loads(out)
    assert plan["antal"]["orsak"] < plan["atgarder"]
    assert plan["planen"] == ["Planens revidering: datumet 2025-07-01 är nära (30 dagar kvar)."]
