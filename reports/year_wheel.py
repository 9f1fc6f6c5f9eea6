"""The årshjul: every dated event of a kommun's year, from the same sources the engine runs on.

- EST meetings: ``cycles.est.meeting_at`` over the kommun's rhythm (what the EST schedule fires at), when
  the kommun has an EST group;
- follow-up deadlines: ``cycles.follow_up.follow_up_occasions`` (the status reports' due dates);
- BRÅ and Kommunstyrelsen meetings: the directory's meetings of forums of kind ``lokala_bra`` and
  ``kommunstyrelsen``;
- lägesbild milestones: ``cycles.situation_assessment.assessment_steps`` from the latest decided lägesbild;
- plan revision: ``plan_revisions`` (the revision task's due date) and each plan's revision date.

The same events become the wheel (an A4 page as SVG, PNG or PDF: the wheel and, under it, every
event's day and name month by month, legible on paper) and an ICS calendar with stable UIDs, so a
coordinator who subscribes sees an event updated rather than doubled when the calendar is written
again. Half-years are named in words ("första halvåret 2026").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from sqlmodel import Session, col, select

from core.clock import STOCKHOLM
from core.text import MONTH_NAMES, half_year_name, swedish_date
from cycles.est import has_est_group
from cycles.est_calendar import meeting_at, meeting_cancelled, meeting_date, meeting_note
from cycles.follow_up import follow_up_occasions
from cycles.situation_assessment import assessment_steps, latest_assessment, plan_revisions
from documents.calendar import CalendarEvent, ics_calendar
from documents.year_wheel import WheelMark, year_wheel
from models.directory import Forum, ForumMeeting
from models.enums import ForumKind
from models.municipality import Municipality
from models.plan import ActionPlan
from models.rhythm import rhythm_from_json

__all__ = ["Ring", "WheelEvent", "wheel_events", "wheel_ics", "wheel_image", "wheel_notes"]


class Ring(StrEnum):
    """The wheel's rings, inside out."""

    EST = "EST-möten"
    FOLLOW_UP = "Uppföljning: statusrapporter"
    BRA = "BRÅ-möten"
    BOARD = "Kommunstyrelsen"
    SITUATION_ASSESSMENT = "Lägesbild"
    REVISION = "Planens revidering"


_RING_INDEX = {ring: index for index, ring in enumerate(Ring)}
_FORUM_RINGS = {ForumKind.LOCAL_BRA: Ring.BRA, ForumKind.MUNICIPAL_BOARD: Ring.BOARD}


@dataclass(frozen=True, slots=True)
class WheelEvent:
    ring: Ring
    uid: str
    summary: str
    start: datetime | date  # an aware datetime for a meeting at a time, else the day
    short: str = ""  # the event's name in the page's calendar (about 30 characters); else the summary

    @property
    def day(self) -> date:
        return self.start.astimezone(STOCKHOLM).date() if isinstance(self.start, datetime) else self.start


def _est(municipality: Municipality, session: Session, year: int) -> list[WheelEvent]:
    if not has_est_group(session, municipality.id or 0):
        return []
    rhythm = rhythm_from_json(municipality.rhythm)
    events: list[WheelEvent] = []
    number = 1
    while (day := meeting_date(rhythm, number)).year <= year:
        if day.year == year:
            note = meeting_note(rhythm, number)
            events.append(
                WheelEvent(
                    Ring.EST,
                    f"est-{municipality.code}-{number}@samordna",
                    f"EST-möte {number}" + (f" – {note}" if note else ""),
                    meeting_at(rhythm, number),
                    f"EST-möte {number}, kl. {swedish_date(meeting_at(rhythm, number), 'HH:mm')}"
                    + (
                        (" (inställt)" if meeting_cancelled(rhythm, number) else " (flyttat)") if note else ""
                    ),
                )
            )
        number += 1
    return events


def _forums(session: Session, municipality: Municipality, year: int) -> list[WheelEvent]:
    rows = session.exec(
        select(ForumMeeting, Forum)
        .join(Forum, col(Forum.id) == col(ForumMeeting.forum_id))
        .where(
            Forum.municipality_id == municipality.id,
            col(Forum.kind).in_(list(_FORUM_RINGS)),
            col(ForumMeeting.meeting_date) >= date(year, 1, 1),
            col(ForumMeeting.meeting_date) <= date(year, 12, 31),
        )
        .order_by(col(ForumMeeting.meeting_date), col(ForumMeeting.id))
    ).all()
    events = []
    for meeting, forum in rows:
        start: datetime | date = meeting.meeting_date
        if meeting.start_time is not None:
            start = datetime.combine(meeting.meeting_date, meeting.start_time, tzinfo=STOCKHOLM)
        events.append(
            WheelEvent(
                _FORUM_RINGS[forum.kind],
                f"forum-{municipality.code}-{meeting.id}@samordna",
                f"{forum.name}: möte",
                start,
                forum.name,
            )
        )
    return events


def wheel_events(session: Session, municipality: Municipality, year: int) -> list[WheelEvent]:
    """Every event of ``year`` for the kommun, by day, then ring."""
    rhythm = rhythm_from_json(municipality.rhythm)
    code = municipality.code
    events = _est(municipality, session, year) + _forums(session, municipality, year)
    for occasion in follow_up_occasions(session, municipality, rhythm):
        if occasion.due_date.year == year:
            events.append(
                WheelEvent(
                    Ring.FOLLOW_UP,
                    f"uppfoljning-{code}-{occasion.period_label}@samordna",
                    f"Statusrapporterna för {half_year_name(occasion.period_label)} ska vara inne "
                    f"(mötet {swedish_date(occasion.meeting_date, 'D MMMM')})",
                    occasion.due_date,
                    "Statusrapporter inne",
                )
            )
    assessment = latest_assessment(session, municipality.id or 0)
    if assessment is not None:
        for step in assessment_steps(assessment, rhythm):
            if step.due_date.year == year:
                events.append(
                    WheelEvent(
                        Ring.SITUATION_ASSESSMENT,
                        f"{step.key}-{code}@samordna",
                        step.subject,
                        step.due_date,
                        step.subject.split(": ", 1)[-1],
                    )
                )
    plans = list(session.exec(select(ActionPlan).where(ActionPlan.municipality_id == municipality.id)))
    for revision in plan_revisions(plans, rhythm):
        if revision.due_date.year == year:
            events.append(
                WheelEvent(
                    Ring.REVISION,
                    f"{revision.key}-{code}@samordna",
                    revision.subject,
                    revision.due_date,
                    "Förbered planens revidering",
                )
            )
    for plan in plans:
        if plan.revision_due is not None and plan.revision_due.year == year:
            events.append(
                WheelEvent(
                    Ring.REVISION,
                    f"revision-{code}-{plan.id}-{plan.revision_due.isoformat()}@samordna",
                    f"Åtgärdsplanen ska vara reviderad: {plan.title}",
                    plan.revision_due,
                    "Planen ska vara reviderad",
                )
            )
    return sorted(events, key=lambda event: (event.day, _RING_INDEX[event.ring], event.uid))


def wheel_notes(session: Session, municipality: Municipality) -> dict[Ring, str]:
    """What a ring's legend should say instead of its count: a lägesbild without a decision date has
    no steps to draw, and "Lägesbild (0)" would hide that (``samordna plan lagesbild --datum``)."""
    notes: dict[Ring, str] = {}
    if latest_assessment(session, municipality.id or 0) is None:
        notes[Ring.SITUATION_ASSESSMENT] = "datum saknas"
    return notes


def wheel_image(
    events: list[WheelEvent],
    year: int,
    municipality: Municipality,
    fmt: str,
    notes: dict[Ring, str] | None = None,
) -> bytes:
    marks = [WheelMark(_RING_INDEX[event.ring], event.day, event.short or event.summary) for event in events]
    return year_wheel(
        year,
        [ring.value for ring in Ring],
        marks,
        title=f"Årshjul {year}: {municipality.name}",
        months=MONTH_NAMES,
        fmt=fmt,
        notes={_RING_INDEX[ring]: note for ring, note in (notes or {}).items()},
    )


def wheel_ics(events: list[WheelEvent], year: int, municipality: Municipality, stamp: datetime) -> bytes:
    entries = [
        CalendarEvent(uid=event.uid, summary=event.summary, start=event.start, categories=(event.ring.value,))
        for event in events
    ]
    return ics_calendar(entries, name=f"Årshjul {year} {municipality.name}", stamp=stamp)


def stamp_of(year: int) -> datetime:
    """The DTSTAMP of a year's calendar: fixed per year, so the same data gives the same bytes."""
    return datetime.combine(date(year, 1, 1), time(0, 0), tzinfo=STOCKHOLM)
