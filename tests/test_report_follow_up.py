"""The halvårsuppföljning for a simulated half-year of the Falun example, checked against the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.db import transaction
from reports.follow_up_report import (
    DUE_SOON_DAYS,
    LIGHT_RULES,
    AreaSection,
    Light,
    Reporting,
    compile_report,
    parse_period,
)
from tests.conftest import import_falun
from tests.report_support import simulate_in_place

PERIOD = parse_period("2025H1")


def _simulated(engine: sa.Engine) -> int:
    with transaction(engine) as session:
        municipality_id = import_falun(session)
    simulate_in_place(engine, "2080", date(2025, 1, 1), PERIOD.end)
    return municipality_id


def _rows(session: Session, sql: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    return list(session.execute(sa.text(sql), params))


def test_every_measure_once_under_its_focus_area_and_figures_equal_sql(engine: sa.Engine) -> None:
    """Each measure appears exactly once, under its own focus area; every count equals a direct SQL count."""
    municipality_id = _simulated(engine)
    with Session(engine) as session:
        report = compile_report(session, municipality_id, PERIOD)
        measures = _rows(
            session, "SELECT id, focus_area_id FROM measure WHERE municipality_id = :m", m=municipality_id
        )
        assert len(measures) == 33
        placed = [(line.measure_id, area.focus_area_id) for area in report.areas for line in area.lines]
        assert sorted(placed) == sorted((row[0], row[1]) for row in measures)
        round_ = _rows(
            session,
            "SELECT due_date, meeting_date FROM follow_up_round "
            "WHERE municipality_id = :m AND period_label = '2025H1'",
            m=municipality_id,
        )[0]
        due, meeting = (date.fromisoformat(str(v)[:10]) for v in round_)
        asked = _rows(
            session,
            "SELECT measure_id FROM task WHERE municipality_id = :m AND kind = 'statusrapport' "
            "AND period_label = '2025H1' AND state <> 'avbruten'",
            m=municipality_id,
        )
        first = due - timedelta(days=30)
        reported = _rows(
            session,
            "SELECT DISTINCT t.measure_id FROM task t JOIN status_report r ON r.measure_id = t.measure_id "
            "WHERE t.municipality_id = :m AND t.kind = 'statusrapport' AND t.period_label = '2025H1' "
            "AND t.state <> 'avbruten' AND r.reported_on BETWEEN :first AND :last",
            m=municipality_id,
            first=first,
            last=meeting,
        )
        assert report.round is not None
        assert report.round.asked == len(asked) > 0
        assert report.round.reported == len(reported) > 0
        assert report.round.missing == len(asked) - len(reported) > 0
        assert [line.measure_id for _, line in report.missing] == sorted(
            {row[0] for row in asked} - {row[0] for row in reported},
            key=[line.measure_id for line in report.lines].index,
        )
        assert sum(line.reporting is Reporting.MISSING for line in report.lines) == report.round.missing
        open_escalations = _rows(
            session,
            "SELECT e.id FROM escalation e LEFT JOIN task t ON t.id = e.task_id WHERE e.municipality_id = :m "
            "AND e.opened_on <= :end AND (e.resolved_on IS NULL OR e.resolved_on > :end) "
            "AND COALESCE(e.measure_id, t.measure_id) IS NOT NULL",
            m=municipality_id,
            end=PERIOD.end,
        )
        assert report.open_escalations == len(open_escalations)
        for row in report.analysis:
            counted = _rows(
                session,
                "SELECT COUNT(*) FROM measure m JOIN focus_area f ON f.id = m.focus_area_id "
                "WHERE f.title = :t",
                t=row.focus_area,
            )[0][0]
            assert row.measures == counted


def _expected_light(facts: dict[str, object]) -> tuple[Light, str]:
    """The rules as the report states them, written out again by hand."""
    status, last_two = facts["status"], facts["last_two"]
    missed_now = facts["asked_now"] and not facts["reported_now"]
    missed_before = facts["asked_before"] and not facts["reported_before"]
    levels, end, own_end = facts["levels"], PERIOD.end, facts["period_end"]
    finished = status in ("genomförd", "avbruten")
    assert isinstance(levels, set)
    if status == "genomförd":
        return Light.GREEN, "genomförd"
    if status == "avstannad":
        return Light.RED, "avstannad"
    if last_two == ["försenad", "försenad"]:
        return Light.RED, "försenad två gånger"
    if missed_now and missed_before:
        return Light.RED, "två missade omgångar"
    if 2 in levels:
        return Light.RED, "eskalerad till kommunledningen"
    if isinstance(own_end, date) and own_end < end and not finished:
        return Light.RED, "efter slutdatum"
    if status == "försenad":
        return Light.YELLOW, "försenad"
    if missed_now:
        return Light.YELLOW, "rapport saknas"
    if 1 in levels:
        return Light.YELLOW, "eskalerad"
    if isinstance(own_end, date) and end <= own_end <= end + timedelta(days=DUE_SOON_DAYS) and not finished:
        return Light.YELLOW, "slutdatum nära"
    if status == "avbruten":
        return Light.YELLOW, "avbruten"
    return Light.GREEN, "enligt plan"


def test_traffic_lights_follow_the_stated_rules(engine: sa.Engine) -> None:
    """Every measure's light is what the stated rules give on facts read straight from the tables."""
    municipality_id = _simulated(engine)
    with Session(engine) as session:
        report = compile_report(session, municipality_id, PERIOD)
        rounds = _rows(
            session,
            "SELECT period_label, due_date, meeting_date FROM follow_up_round WHERE municipality_id = :m "
            "ORDER BY meeting_date",
            m=municipality_id,
        )
        windows = {
            label: (date.fromisoformat(str(d)[:10]) - timedelta(days=30), date.fromisoformat(str(mt)[:10]))
            for label, d, mt in rounds
        }
        for line in report.lines:
            reports = _rows(
                session,
                "SELECT reported_on, status FROM status_report WHERE measure_id = :i AND reported_on <= :end "
                "ORDER BY reported_on, id",
                i=line.measure_id,
                end=PERIOD.end,
            )
            days = [date.fromisoformat(str(r[0])[:10]) for r in reports]
            measure = _rows(
                session, "SELECT status, period_end FROM measure WHERE id = :i", i=line.measure_id
            )[0]
            asked = {
                row[0]
                for row in _rows(
                    session,
                    "SELECT period_label FROM task WHERE measure_id = :i "
                    "AND kind = 'statusrapport' AND state <> 'avbruten'",
                    i=line.measure_id,
                )
            }

            def reported_in(label: str, days: list[date] = days) -> bool:
                first, last = windows[label]
                return any(first <= day <= last for day in days)

            levels = {
                row[0]
                for row in _rows(
                    session,
                    "SELECT e.level FROM escalation e LEFT JOIN task t ON t.id = e.task_id "
                    "WHERE COALESCE(e.measure_id, t.measure_id) = :i AND e.opened_on <= :end "
                    "AND (e.resolved_on IS NULL OR e.resolved_on > :end)",
                    i=line.measure_id,
                    end=PERIOD.end,
                )
            }
            own_end = measure[1]
            facts = {
                "status": reports[-1][1] if reports else measure[0],
                "last_two": [r[1] for r in reports[-2:]][::-1],
                "asked_now": "2025H1" in asked,
                "reported_now": reported_in("2025H1"),
                "asked_before": False,  # 2025H1 is Falun's first round
                "reported_before": False,
                "levels": levels,
                "period_end": date.fromisoformat(str(own_end)[:10]) if own_end else None,
            }
            assert (line.light, line.rule) == _expected_light(facts), line.title
        assert len({line.light for line in report.lines}) >= 2  # the half-year exercises more than one rule
        assert [rule.name for rule in LIGHT_RULES][-1] == "enligt plan"


@pytest.mark.parametrize(
    ("title", "number", "label"),
    [
        ("1. Barn och unga – geografiska områden", 1, "1. Barn och unga – geografiska områden"),
        ("Otrygghet i stadskärnan", 2, "2. Otrygghet i stadskärnan"),
        ("3) Organiserad brottslighet", 3, "3) Organiserad brottslighet"),
        ("2030-målen", 4, "4. 2030-målen"),
    ],
)
def test_focus_area_label_numbers_once(title: str, number: int, label: str) -> None:
    """A focus area is numbered once in the report, also when the plan wrote the number into its title."""
    assert AreaSection(1, title, "", number=number).label == label
