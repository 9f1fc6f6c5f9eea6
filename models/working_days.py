"""Swedish working days, for due dates and reminder days.

A pure module: no clock, no I/O. A day is non-working when it is a Saturday or a Sunday, a Swedish
public holiday (allmän helgdag, as the `holidays` package lists it, with its Swedish names and its
history, e.g. Annandag pingst until 2004 and Nationaldagen from 2005), or one of the eves that the
Annual Leave Act (semesterlagen 1977:480, 7 §) treats like a Sunday: Midsommarafton, Julafton and
Nyårsafton.

The holidays are read from `models/swedish_holidays.py`, the package's answers for every supported
year written out once (`python -m models.working_days` writes it again; a test holds it equal to the
installed package): importing the package itself costs about 150 ms, on every command that counts a
working day.

Only the years FIRST_YEAR–LAST_YEAR are supported; any day outside them, as input or as an answer,
raises ValueError with a Swedish message. A `datetime` raises TypeError: it never equals a `date`, so
holiday look-ups would silently miss.

Counting convention: `working_days_between(start, end)` counts the working days d with
start < d <= end, and `add_working_days` walks that many working days, so that
`working_days_between(a, add_working_days(a, n)) == n` for every working day a.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path

from models.swedish_holidays import HOLIDAYS

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "add_working_days",
    "is_working_day",
    "next_working_day",
    "non_working_reason",
    "previous_working_day",
    "working_days_between",
    "working_days_in",
]

FIRST_YEAR = 1990
LAST_YEAR = 2100

_FRIDAY = 4
_WEEKEND_NAMES = {5: "Lördag", 6: "Söndag"}
# Some versions of `holidays` list every Sunday as a holiday under this name. Weekends are recognised
# by weekday here, so the entry is dropped: it must neither hide nor be glued onto a real holiday name.
_SUNDAY_ENTRY = "Söndag"


def _check_day(day: date) -> None:
    if isinstance(day, datetime):
        raise TypeError(f"Ange ett datum utan klockslag, inte {day.isoformat()}.")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            f"Arbetsdagar kan bara beräknas för åren {FIRST_YEAR}–{LAST_YEAR}, inte för {day.isoformat()}."
        )


def _eves(year: int) -> list[tuple[date, str]]:
    # Computed here rather than taken from the package's `de_facto` category, so that the rule does
    # not depend on which categories the installed `holidays` version offers (a test checks agreement).
    june_19 = date(year, 6, 19)
    midsummer_eve = june_19 + timedelta(days=(_FRIDAY - june_19.weekday()) % 7)
    return [
        (midsummer_eve, "Midsommarafton"),
        (date(year, 12, 24), "Julafton"),
        (date(year, 12, 31), "Nyårsafton"),
    ]


def names_from_package(year: int) -> dict[date, str]:
    """The public holidays of ``year`` by their Swedish names, from the `holidays` package (several on
    one day joined by "och"): what `models/swedish_holidays.py` holds. Only for writing and checking
    that table: the package is imported here, not by commands."""
    import holidays  # noqa: PLC0415 - 150 ms, only to write or check the table

    table = holidays.country_holidays("SE", years=year, language="sv")
    names: dict[date, str] = {}
    for day in sorted(table):
        listed = [str(name) for name in table.get_list(day) if name != _SUNDAY_ENTRY]
        if listed:
            # Two holidays can share a day (Första maj and Kristi himmelsfärdsdag in 2008); people read "och".
            names[day] = " och ".join(listed)
    return names


@functools.cache
def _holiday_names(year: int) -> Mapping[date, str]:
    """Every non-working day of `year` that has a name other than Lördag/Söndag, with that name."""
    names: dict[date, list[str]] = {
        date(year, month, day): [name] for month, day, name in HOLIDAYS.get(year, ())
    }
    for day, name in _eves(year):
        names.setdefault(day, []).append(name)
    return {day: " och ".join(listed) for day, listed in sorted(names.items())}


@functools.cache
def _working_days_of_year(year: int) -> tuple[date, ...]:
    """The working days of `year`, sorted, so that counting and stepping are bisections."""
    names = _holiday_names(year)
    first = date(year, 1, 1)
    length = (date(year + 1, 1, 1) - first).days
    every_day = (first + timedelta(days=offset) for offset in range(length))
    return tuple(day for day in every_day if day.weekday() not in _WEEKEND_NAMES and day not in names)


def _working_day_at(year: int, index: int, origin: date) -> date:
    """The working day at position `index` of `year`'s list; positions run on into the years around."""
    while index < 0:
        year -= 1
        _check_result_year(year, origin)
        index += len(_working_days_of_year(year))
    while index >= len(_working_days_of_year(year)):
        index -= len(_working_days_of_year(year))
        year += 1
        _check_result_year(year, origin)
    return _working_days_of_year(year)[index]


def _check_result_year(year: int, origin: date) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"Räknat från {origin.isoformat()} hamnar svaret utanför åren {FIRST_YEAR}–{LAST_YEAR}, "
            "som är de enda år arbetsdagar kan beräknas för."
        )


def non_working_reason(day: date) -> str | None:
    """The Swedish name of why `day` is not a working day, or None on a working day.

    A named holiday wins over the weekday (Nationaldagen 2026 is a Saturday and says "Nationaldagen");
    a plain weekend day says "Lördag" or "Söndag".
    """
    _check_day(day)
    name = _holiday_names(day.year).get(day)
    if name is not None:
        return name
    return _WEEKEND_NAMES.get(day.weekday())


def is_working_day(day: date) -> bool:
    """Whether `day` is a Swedish working day."""
    return non_working_reason(day) is None


def previous_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the nearest earlier working day.

    This is the rule for due dates: one that falls on a non-working day moves back, never forward.
    """
    _check_day(day)
    return _working_day_at(day.year, bisect_right(_working_days_of_year(day.year), day) - 1, day)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the nearest later working day."""
    _check_day(day)
    return _working_day_at(day.year, bisect_left(_working_days_of_year(day.year), day), day)


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after `day` (before it when `count` is negative).

    The answer is always a working day. From a non-working `day` each step lands on the next working
    day in the direction of travel: from Saturday, +1 is Monday and -1 is Friday. Count 0 gives
    `previous_working_day(day)`, the same rule as for due dates; it also keeps
    `working_days_between(day, add_working_days(day, n)) == n` true for every day when n >= 0
    (for negative n it holds when `day` is a working day).
    """
    _check_day(day)
    days = _working_days_of_year(day.year)
    if count >= 0:
        # Counting forward starts from the last working day on or before `day`.
        return _working_day_at(day.year, bisect_right(days, day) - 1 + count, day)
    # Counting backward starts from the first working day on or after `day`.
    return _working_day_at(day.year, bisect_left(days, day) + count, day)


def working_days_between(start: date, end: date) -> int:
    """The number of working days d with start < d <= end; negative when end is before start."""
    _check_day(start)
    _check_day(end)
    if end < start:
        return -working_days_between(end, start)
    whole_years = sum(len(_working_days_of_year(year)) for year in range(start.year, end.year))
    up_to_end = bisect_right(_working_days_of_year(end.year), end)
    up_to_start = bisect_right(_working_days_of_year(start.year), start)
    return whole_years + up_to_end - up_to_start


def working_days_in(start: date, end: date) -> list[date]:
    """The working days from `start` to `end`, both included, in order; empty when end is before start."""
    _check_day(start)
    _check_day(end)
    found: list[date] = []
    for year in range(start.year, end.year + 1):
        days = _working_days_of_year(year)
        found.extend(days[bisect_left(days, start) : bisect_right(days, end)])
    return found


def _write_table(path: Path) -> None:
    """Write `models/swedish_holidays.py` from the installed `holidays` package."""
    lines = [
        '"""Swedish public holidays FIRST_YEAR–LAST_YEAR by their Swedish names, as the `holidays` package',
        "lists them: year → (month, day, name). Written by `python -m models.working_days`; do not edit (a",
        'test holds it equal to the installed package). Read by models/working_days.py."""',
        "",
        "HOLIDAYS: dict[int, tuple[tuple[int, int, str], ...]] = {",
    ]
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        days = ", ".join(
            f"({day.month}, {day.day}, {name!r})" for day, name in names_from_package(year).items()
        )
        lines.append(f"    {year}: ({days},),")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    _write_table(Path(__file__).with_name("swedish_holidays.py"))
