"""ICS calendars (RFC 5545) for meeting invitations and the årshjul.

Times are written as local Europe/Stockholm times with a VTIMEZONE, so a calendar shows 09:00 as
09:00 in both summer and winter; a whole-day event is a DATE. The VTIMEZONE's transitions come from the
tz database for the whole span of the calendar's events (from a year before the first to a year after
the last): icalendar's default stops at 2038, which put 16 of 26 EST meetings of 2038 an hour off in a
client that reads the VTIMEZONE rather than the zone's name. Every event has a stable UID built by
the caller from what it is (a meeting's number, a deadline's key), so importing a calendar again
updates events instead of adding copies.

An invitation (``method="REQUEST"``) names its ORGANIZER (the coordinator who sends it) and each
attendee with name, role and a request to answer (RSVP), as Outlook, Gmail and phone calendars expect
of a meeting request; SEQUENCE counts the revisions of the event (0 first, one more each time the
meeting moves), so a client replaces the entry it has rather than keeping the old time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import icalendar

TIMEZONE = "Europe/Stockholm"
PRODUCT_ID = "-//Samordna//Samordna//SV"


@dataclass(frozen=True, slots=True)
class Participant:
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str  # stable and unique, e.g. "est-2080-42@samordna"
    summary: str
    start: datetime | date  # an aware datetime, or a date for a whole-day event
    end: datetime | date | None = None  # default: one hour later, or the same day
    location: str = ""
    description: str = ""
    categories: Sequence[str] = ()
    attendees: Sequence[str | Participant] = ()  # e-mail addresses, or addresses with names
    organizer: Participant | None = None
    sequence: int = 0


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        message = "a calendar time must be aware"
        raise ValueError(message)
    return moment.astimezone(ZoneInfo(TIMEZONE))


def _address(person: Participant, *, organizer: bool) -> icalendar.vCalAddress:
    import icalendar  # noqa: PLC0415 - 70 ms, only when a calendar is written

    address = icalendar.vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = icalendar.vText(person.name)
    if not organizer:
        address.params["CUTYPE"] = icalendar.vText("INDIVIDUAL")
        address.params["ROLE"] = icalendar.vText("REQ-PARTICIPANT")
        address.params["PARTSTAT"] = icalendar.vText("NEEDS-ACTION")
        address.params["RSVP"] = icalendar.vText("TRUE")
    return address


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _span(events: Sequence[CalendarEvent]) -> tuple[date, date]:
    """From a year before the first event to a year after the last (icalendar's own default, 1970 to
    2038, when there are none)."""
    days = [_day(moment) for event in events for moment in (event.start, event.end) if moment is not None]
    if not days:
        return date(1970, 1, 1), date(2038, 1, 1)
    first, last = min(days), max(days)
    return date(first.year - 1, 1, 1), date(last.year + 2, 1, 1)


def ics_calendar(
    events: Sequence[CalendarEvent], *, name: str, stamp: datetime, method: str | None = None
) -> bytes:
    """A calendar holding ``events``; ``stamp`` is DTSTAMP (pass the run's moment, not the clock, so
    the same input gives the same bytes). ``method="REQUEST"`` makes it an invitation."""
    import icalendar  # noqa: PLC0415 - 70 ms, only when a calendar is written (not for a lägesbild)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIMEZONE)
    if method:
        calendar.add("method", method)
    for event in events:
        entry = icalendar.Event()
        entry.add("uid", event.uid)
        entry.add("dtstamp", stamp.astimezone(UTC))
        entry.add("sequence", event.sequence)
        entry.add("summary", event.summary)
        start: datetime | date
        end: datetime | date
        if isinstance(event.start, datetime):
            start = _local(event.start)
            end = _local(event.end) if isinstance(event.end, datetime) else start + timedelta(hours=1)
        else:
            start = event.start
            end = event.end if isinstance(event.end, date) else event.start + timedelta(days=1)
        entry.add("dtstart", start)
        entry.add("dtend", end)
        if event.location:
            entry.add("location", event.location)
        if event.description:
            entry.add("description", event.description)
        if event.categories:
            entry.add("categories", list(event.categories))
        if event.organizer is not None:
            entry.add("organizer", _address(event.organizer, organizer=True))
        for attendee in event.attendees:
            person = attendee if isinstance(attendee, Participant) else Participant(attendee)
            entry.add("attendee", _address(person, organizer=False))
        calendar.add_component(entry)
    # VTIMEZONE components for every zone used above, so calendars that do not know the zone id
    # still place the times right across daylight saving changes, over the events' whole span.
    first, last = _span(events)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    ical: bytes = calendar.to_ical()
    return ical
