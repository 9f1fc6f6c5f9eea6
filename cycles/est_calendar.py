"""The EST meeting calendar: when meeting ``n`` of a kommun takes place, and which period it closes.

Meeting ``n`` is ``rhythm.est.first_meeting + (n - 1) * interval_days`` at ``rhythm.est.meeting_time``
Europe/Stockholm local time: across a DST change the UTC offset moves, the local time does not. Its
period runs from the day after the previous meeting up to the meeting day. Pure functions of the
rhythm (no session): the EST cycle, the EST-lägesbild, the agenda, the årshjul and the simulation all
read the calendar here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pendulum

from core.settings import TIMEZONE
from models.est import EstCycle
from models.rhythm import Rhythm
from models.working_days import add_working_days, previous_working_day


def meeting_date(rhythm: Rhythm, number: int) -> date:
    """The local date of EST meeting ``number`` (1 is the rhythm's first meeting)."""
    if number < 1:
        raise ValueError(f"EST-möten numreras från 1, inte {number}.")
    return rhythm.est.first_meeting + timedelta(days=(number - 1) * rhythm.est.interval_days)


def meeting_at(rhythm: Rhythm, number: int) -> datetime:
    """The instant (aware, UTC) of EST meeting ``number``: the same local time on every meeting day."""
    day = meeting_date(rhythm, number)
    clock = rhythm.est.meeting_time
    local = pendulum.datetime(
        day.year, day.month, day.day, clock.hour, clock.minute, clock.second, tz=TIMEZONE
    )
    # A plain datetime: pendulum's subclass warns on some methods, and tests run with -W error.
    return datetime.fromtimestamp(local.timestamp(), tz=UTC)


def cycle_number_at(rhythm: Rhythm, as_of: date) -> int:
    """The number of the first EST meeting on or after ``as_of`` (1 for any day up to the first)."""
    elapsed = (as_of - rhythm.est.first_meeting).days
    if elapsed <= 0:
        return 1
    return -(-elapsed // rhythm.est.interval_days) + 1


def report_due_date(rhythm: Rhythm, number: int) -> date:
    """When the EST actors' reports (and insats follow-ups) for meeting ``number`` are due."""
    lead = rhythm.est.report_lead_working_days
    return previous_working_day(add_working_days(meeting_date(rhythm, number), -lead))


def period_label(number: int) -> str:
    return f"EST-{number}"


def cycle_row(municipality_id: int, rhythm: Rhythm, number: int) -> EstCycle:
    """A new (unsaved) EstCycle row for meeting ``number``: its period and meeting instant."""
    day = meeting_date(rhythm, number)
    return EstCycle(
        municipality_id=municipality_id,
        number=number,
        period_start=day - timedelta(days=rhythm.est.interval_days - 1),
        period_end=day,
        meeting_at=meeting_at(rhythm, number),
    )


def held_meeting_number(rhythm: Rhythm, as_of: date) -> int | None:
    """The newest meeting on or before ``as_of`` (its period has closed), or None before the first."""
    current = cycle_number_at(rhythm, as_of)
    number = current if meeting_date(rhythm, current) <= as_of else current - 1
    return number if number >= 1 else None
