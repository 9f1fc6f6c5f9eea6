"""The clock, always in Europe/Stockholm: what day it is, and the moment a run records.

Every "today" in Samordna comes from here, so a test or a simulation that needs another day passes
``as_of`` instead of patching the clock, and no module reads the local time of the machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from core.settings import TIMEZONE

STOCKHOLM = ZoneInfo(TIMEZONE)


def now() -> datetime:
    """The current moment, aware, in UTC (how every moment is stored)."""
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The date ``moment`` falls on in Europe/Stockholm (a naive moment is refused)."""
    if moment.tzinfo is None:
        raise ValueError(f"tidpunkten saknar tidszon: {moment.isoformat()}")
    return moment.astimezone(STOCKHOLM).date()


def today() -> date:
    """The date it is now in Europe/Stockholm: the default ``as_of`` of every run and command."""
    return local_day(now())


def moment_of(day: date, at: time = time(12, 0)) -> datetime:
    """``at`` o'clock Europe/Stockholm on ``day``, as an aware UTC datetime.

    What a run on ``day`` records as its moment: built from the run's day, never from the clock, so a
    simulated or repeated run records the same.
    """
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)
