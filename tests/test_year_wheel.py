"""The årshjul holds every scheduled event of the year, from the engine's own sources, and its ICS parses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from sqlmodel import Session, select

from cycles.est_calendar import meeting_at
from cycles.follow_up import follow_up_occasions
from cycles.situation_assessment import assessment_steps, plan_revisions
from flows.simulation import scheduled_instants
from models.db import transaction
from models.directory import Forum, ForumMeeting
from models.municipality import Municipality
from models.plan import ActionPlan, SituationAssessment
from models.rhythm import rhythm_from_json
from reports.year_wheel import Ring, stamp_of, wheel_events, wheel_ics, wheel_image
from samordna.cli_common import PREFECT_YAML

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_wheel_holds_every_scheduled_event_and_its_ics_parses(engine: sa.Engine, falun: int) -> None:
    """Every scheduled event of 2026 is on the wheel and in the ICS."""
    with transaction(engine) as session:
        assessment = SituationAssessment(
            municipality_id=falun, title="Lägesbild 2025", decided_on=date(2025, 3, 4)
        )
        session.add(assessment)
        plan = session.exec(select(ActionPlan)).one()
        plan.revision_due = date(2026, 12, 15)
        session.add(plan)
    with Session(engine) as session:
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        events = wheel_events(session, municipality, 2026)
        rhythm = rhythm_from_json(municipality.rhythm)
        # Each EST meeting of 2026 at its own instant (the calendar's; the national EST run that
        # prepares it fires the same day, at 22:00).
        est = [
            moment
            for moment in (meeting_at(rhythm, number) for number in range(1, 60))
            if moment.astimezone(STOCKHOLM).year == 2026
        ]
        assert [run.astimezone(STOCKHOLM).date() for run, cycle in scheduled_instants(
            municipality.rhythm, date(2026, 1, 1), date(2026, 12, 31), PREFECT_YAML
        ) if cycle == "est"] == [moment.astimezone(STOCKHOLM).date() for moment in est]  # fmt: skip
        deadlines = [
            o.due_date for o in follow_up_occasions(session, municipality, rhythm) if o.due_date.year == 2026
        ]
        meetings = {
            kind: [
                m.meeting_date
                for m, f in session.exec(select(ForumMeeting, Forum).join(Forum)).all()
                if f.kind == kind and m.meeting_date.year == 2026
            ]
            for kind in ("lokala_bra", "kommunstyrelsen")
        }
        steps = [s.due_date for s in assessment_steps(assessment, rhythm) if s.due_date.year == 2026]
        revisions = [r.due_date for r in plan_revisions([plan], rhythm)] + [date(2026, 12, 15)]
        ics = wheel_ics(events, 2026, municipality, stamp_of(2026))
        svg = wheel_image(events, 2026, municipality, "svg")
    by_ring = {ring: [e for e in events if e.ring is ring] for ring in Ring}
    assert [e.start for e in by_ring[Ring.EST]] == est
    assert len(est) == 26
    assert [e.day for e in by_ring[Ring.FOLLOW_UP]] == deadlines
    assert len(deadlines) == 2
    assert [e.day for e in by_ring[Ring.BRA]] == meetings["lokala_bra"]
    assert len(meetings["lokala_bra"]) == 4
    assert [e.day for e in by_ring[Ring.BOARD]] == meetings["kommunstyrelsen"]
    assert [e.day for e in by_ring[Ring.SITUATION_ASSESSMENT]] == steps
    assert len(steps) >= 2
    assert sorted(e.day for e in by_ring[Ring.REVISION]) == sorted(revisions)
    calendar = icalendar.Calendar.from_ical(ics)
    parsed = {str(c["uid"]): c for c in calendar.walk("VEVENT")}
    assert set(parsed) == {e.uid for e in events}
    for event in by_ring[Ring.EST]:
        start = parsed[event.uid].decoded("dtstart")
        assert isinstance(start, datetime)
        assert start.astimezone(STOCKHOLM).time() == time(9, 0)
        assert start.astimezone(UTC) == event.start
    assert calendar.walk("VTIMEZONE")
    assert svg.lstrip().startswith(b"<?xml")
    assert b"<svg" in svg


def test_arshjul_command_writes_svg_png_pdf_and_ics(falun_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`samordna arshjul --ar 2026` writes the wheel as SVG, PNG and an A4 PDF and the calendar as ICS."""
    code, out, _ = falun_cli("arshjul", "--ar", "2026", "--kommun", "2080", "--ut", tmp_path)
    assert code == 0
    assert (tmp_path / "arshjul-2080-2026.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "arshjul-2080-2026.pdf").read_bytes().startswith(b"%PDF")
    assert b"BEGIN:VCALENDAR" in (tmp_path / "arshjul-2080-2026.ics").read_bytes()
    assert "arshjul-2080-2026.svg" in out
