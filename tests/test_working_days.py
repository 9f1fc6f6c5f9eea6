"""Swedish working days: holidays by name, moving due dates, counting and stepping working days."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import working_days
from models.swedish_holidays import HOLIDAYS
from models.working_days import (
    FIRST_YEAR,
    LAST_YEAR,
    add_working_days,
    is_working_day,
    next_working_day,
    non_working_reason,
    previous_working_day,
    working_days_between,
    working_days_in,
)

ONE_DAY = timedelta(days=1)
PROPERTY = settings(max_examples=200, deadline=None)

DATES = st.dates(min_value=date(1995, 1, 1), max_value=date(2095, 12, 31))
WORKING_DAYS = DATES.filter(is_working_day)
STEPS = st.integers(min_value=-60, max_value=60)

FIXED_HOLIDAYS = [
    (1, 1, "Nyårsdagen"),
    (1, 6, "Trettondedag jul"),
    (5, 1, "Första maj"),
    (6, 6, "Nationaldagen"),
    (12, 24, "Julafton"),
    (12, 25, "Juldagen"),
    (12, 26, "Annandag jul"),
    (12, 31, "Nyårsafton"),
]
# Easter Sundays: 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16, 2029-04-01, 2030-04-21.
# Långfredagen is two days before, Annandag påsk one day after, Kristi himmelsfärdsdag 39 days after.
MOVING_HOLIDAYS = [
    (date(2025, 4, 18), "Långfredagen"),
    (date(2025, 4, 21), "Annandag påsk"),
    (date(2025, 5, 29), "Kristi himmelsfärdsdag"),
    (date(2025, 6, 20), "Midsommarafton"),
    (date(2026, 4, 3), "Långfredagen"),
    (date(2026, 4, 6), "Annandag påsk"),
    (date(2026, 5, 14), "Kristi himmelsfärdsdag"),
    (date(2026, 6, 19), "Midsommarafton"),
    (date(2027, 3, 26), "Långfredagen"),
    (date(2027, 3, 29), "Annandag påsk"),
    (date(2027, 5, 6), "Kristi himmelsfärdsdag"),
    (date(2027, 6, 25), "Midsommarafton"),
    (date(2028, 4, 14), "Långfredagen"),
    (date(2028, 4, 17), "Annandag påsk"),
    (date(2028, 5, 25), "Kristi himmelsfärdsdag"),
    (date(2028, 6, 23), "Midsommarafton"),
    (date(2029, 3, 30), "Långfredagen"),
    (date(2029, 4, 2), "Annandag påsk"),
    (date(2029, 5, 10), "Kristi himmelsfärdsdag"),
    (date(2029, 6, 22), "Midsommarafton"),
    (date(2030, 4, 19), "Långfredagen"),
    (date(2030, 4, 22), "Annandag påsk"),
    (date(2030, 5, 30), "Kristi himmelsfärdsdag"),
    (date(2030, 6, 21), "Midsommarafton"),
]
OTHER_DAYS: list[tuple[date, str | None]] = [
    (date(2026, 3, 13), None),  # an ordinary Friday
    (date(2026, 3, 14), "Lördag"),
    (date(2026, 3, 15), "Söndag"),
    (date(2025, 12, 23), None),  # the day before Julafton works
    (date(2026, 4, 2), None),  # Skärtorsdagen is only a bank half-day
    (date(2026, 4, 30), None),  # Valborgsmässoafton likewise
    (date(2027, 1, 5), None),  # Trettondagsafton likewise
    (date(2026, 4, 5), "Påskdagen"),  # a holiday on a Sunday keeps its name
    (date(2026, 6, 6), "Nationaldagen"),  # and on a Saturday
    (date(2026, 6, 20), "Midsommardagen"),
    (date(2026, 10, 31), "Alla helgons dag"),
    (date(2008, 5, 1), "Första maj och Kristi himmelsfärdsdag"),
    (date(2004, 5, 31), "Annandag pingst"),  # a holiday until 2004
    (date(2005, 5, 16), None),  # and a working day from 2005
    (date(2003, 6, 6), None),  # Nationaldagen was a working day until 2004
    (date(2005, 6, 6), "Nationaldagen"),
]
KNOWN_DAYS = [
    *((date(year, month, day), name) for year in range(2025, 2031) for month, day, name in FIXED_HOLIDAYS),
    *MOVING_HOLIDAYS,
    *OTHER_DAYS,
]
NAMED_DAYS_2026 = {
    date(2026, 1, 1): "Nyårsdagen",
    date(2026, 1, 6): "Trettondedag jul",
    date(2026, 4, 3): "Långfredagen",
    date(2026, 4, 5): "Påskdagen",
    date(2026, 4, 6): "Annandag påsk",
    date(2026, 5, 1): "Första maj",
    date(2026, 5, 14): "Kristi himmelsfärdsdag",
    date(2026, 5, 24): "Pingstdagen",
    date(2026, 6, 6): "Nationaldagen",
    date(2026, 6, 19): "Midsommarafton",
    date(2026, 6, 20): "Midsommardagen",
    date(2026, 10, 31): "Alla helgons dag",
    date(2026, 12, 24): "Julafton",
    date(2026, 12, 25): "Juldagen",
    date(2026, 12, 26): "Annandag jul",
    date(2026, 12, 31): "Nyårsafton",
}
# 261 weekdays (2026 starts on a Thursday, so it has 53 Thursdays) less the ten holidays and eves that
# fall on weekdays: 1 and 6 Jan, 3 and 6 Apr, 1 and 14 May, 19 Jun, 24, 25 and 31 Dec.
WORKING_DAYS_2026 = 251


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


def _named_days(year: int) -> dict[date, str | None]:
    return {
        day: reason
        for day in _days(date(year, 1, 1), date(year, 12, 31))
        if (reason := non_working_reason(day)) not in {None, "Lördag", "Söndag"}
    }


def _clear_caches() -> None:
    working_days._holiday_names.cache_clear()
    working_days._working_days_of_year.cache_clear()


@pytest.mark.parametrize(("day", "reason"), KNOWN_DAYS, ids=str)
def test_known_days(day: date, reason: str | None) -> None:
    """Known holidays, eves, weekends and working days 2025–2030 (and history) carry their Swedish name."""
    assert non_working_reason(day) == reason
    assert is_working_day(day) is (reason is None)


def test_every_named_day_of_2026() -> None:
    """The named non-working days of 2026 are exactly the public holidays and the three eves."""
    assert _named_days(2026) == NAMED_DAYS_2026


def test_working_day_count_of_2026() -> None:
    """2026 has 251 working days, by listing and by counting."""
    assert len(working_days_in(date(2026, 1, 1), date(2026, 12, 31))) == WORKING_DAYS_2026
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == WORKING_DAYS_2026


def test_eves_agree_with_the_package() -> None:
    """For every supported year the non-working days match `holidays`' public and de facto categories."""
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        table = holidays.country_holidays("SE", years=year, language="sv", categories=("public", "de_facto"))
        expected = {day: " och ".join(table.get_list(day)) for day in table}
        assert _named_days(year) == expected, year


def test_the_written_table_is_the_package() -> None:
    """models/swedish_holidays.py holds, for every supported year, exactly the public holidays the
    installed `holidays` package names (rewrite it with `python -m models.working_days` when it changes)."""
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        written = {date(year, month, day): name for month, day, name in HOLIDAYS[year]}
        assert written == working_days.names_from_package(year), year
    assert set(HOLIDAYS) == set(range(FIRST_YEAR, LAST_YEAR + 1))


def test_working_days_do_not_import_the_package() -> None:
    """Counting working days never imports `holidays` (150 ms on every command): the table is read."""
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys, models.working_days as w; w.is_working_day(w.date(2026, 6, 19));"
                " print('holidays' in sys.modules)"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "False"


@pytest.fixture
def sundays_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = holidays.country_holidays

    def listing_sundays(*args: Any, **kwargs: Any) -> holidays.HolidayBase:
        return real(*args, include_sundays=True, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", listing_sundays)


@pytest.mark.usefixtures("sundays_listed")
def test_sunday_entries_are_ignored() -> None:
    """A `holidays` version that lists every Sunday as "Söndag" writes the same table."""
    assert holidays.country_holidays("SE", years=2026, language="sv").get(date(2026, 3, 15)) == "Söndag"
    written = {date(2026, month, day): name for month, day, name in HOLIDAYS[2026]}
    assert working_days.names_from_package(2026) == written


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 13), date(2026, 3, 13)),  # a working day stays
        (date(2026, 3, 14), date(2026, 3, 13)),  # Saturday → Friday
        (date(2026, 3, 15), date(2026, 3, 13)),  # Sunday → Friday
        (date(2026, 6, 19), date(2026, 6, 18)),  # Midsommarafton → Thursday
        (date(2026, 12, 24), date(2026, 12, 23)),
        (date(2026, 12, 25), date(2026, 12, 23)),
        (date(2026, 12, 26), date(2026, 12, 23)),
        (date(2026, 12, 27), date(2026, 12, 23)),
        (date(2026, 4, 6), date(2026, 4, 2)),  # Annandag påsk → Thursday before Långfredagen
        (date(2027, 1, 1), date(2026, 12, 30)),  # across the year end, past Nyårsafton
    ],
    ids=str,
)
def test_previous_working_day(day: date, expected: date) -> None:
    """A due date on a non-working day moves back to the nearest earlier working day."""
    assert previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 13), date(2026, 3, 13)),
        (date(2026, 3, 14), date(2026, 3, 16)),
        (date(2026, 4, 3), date(2026, 4, 7)),  # Långfredagen → Tuesday after Annandag påsk
        (date(2026, 12, 24), date(2026, 12, 28)),
        (date(2026, 12, 31), date(2027, 1, 4)),  # across the year end, past Nyårsdagen and a weekend
    ],
    ids=str,
)
def test_next_working_day(day: date, expected: date) -> None:
    """A non-working day moves forward to the nearest later working day."""
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (date(2026, 3, 13), 1, date(2026, 3, 16)),  # Friday + 1 → Monday
        (date(2026, 3, 16), -1, date(2026, 3, 13)),  # Monday - 1 → Friday
        (date(2026, 3, 13), 0, date(2026, 3, 13)),
        (date(2026, 6, 18), 1, date(2026, 6, 22)),  # over Midsommarafton
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # over Easter
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 23), 2, date(2026, 12, 29)),
        (date(2026, 12, 28), -1, date(2026, 12, 23)),
        (date(2026, 12, 30), 1, date(2027, 1, 4)),  # across the year end
        (date(2027, 1, 4), -1, date(2026, 12, 30)),
        (date(2025, 12, 31), WORKING_DAYS_2026, date(2026, 12, 30)),  # the whole of 2026
        (date(2026, 3, 14), 0, date(2026, 3, 13)),  # from Saturday: 0 → previous working day
        (date(2026, 3, 14), 1, date(2026, 3, 16)),  # +1 → Monday
        (date(2026, 3, 14), -1, date(2026, 3, 13)),  # -1 → Friday
        (date(2026, 3, 14), -3, date(2026, 3, 11)),  # -3 → Wednesday
    ],
    ids=str,
)
def test_add_working_days(day: date, count: int, expected: date) -> None:
    """Stepping skips weekends and holidays; from a non-working day 0 means the previous working day."""
    assert add_working_days(day, count) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 13), date(2026, 3, 13), 0),
        (date(2026, 3, 13), date(2026, 3, 15), 0),  # Friday to Sunday
        (date(2026, 3, 13), date(2026, 3, 16), 1),
        (date(2026, 3, 16), date(2026, 3, 13), -1),
        (date(2026, 12, 23), date(2026, 12, 28), 1),
        (date(2026, 12, 28), date(2026, 12, 23), -1),
        (date(2026, 12, 23), date(2027, 1, 8), 7),  # 28, 29, 30 Dec, 4, 5, 7, 8 Jan
    ],
    ids=str,
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    """Working days d with start < d <= end are counted, negatively when end is before start."""
    assert working_days_between(start, end) == expected


def test_working_days_in() -> None:
    """The inclusive list over Christmas and New Year skips holidays, eves and weekends."""
    assert working_days_in(date(2026, 12, 21), date(2027, 1, 8)) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 7),
        date(2027, 1, 8),
    ]
    assert working_days_in(date(2026, 3, 14), date(2026, 3, 15)) == []
    assert working_days_in(date(2026, 3, 16), date(2026, 3, 13)) == []


def test_supported_years() -> None:
    """1990 and 2100 work; days and answers outside them raise ValueError in Swedish."""
    assert non_working_reason(date(1990, 1, 1)) == "Nyårsdagen"
    assert non_working_reason(date(2100, 12, 31)) == "Nyårsafton"
    for outside in (date(1989, 12, 29), date(2101, 1, 3)):
        with pytest.raises(ValueError, match=r"^Arbetsdagar kan bara beräknas för åren 1990–2100"):
            is_working_day(outside)
        with pytest.raises(ValueError, match="1990–2100"):
            working_days_between(date(2026, 1, 1), outside)
    with pytest.raises(ValueError, match=r"^Räknat från 1990-01-01 hamnar svaret utanför åren 1990–2100"):
        previous_working_day(date(1990, 1, 1))
    with pytest.raises(ValueError, match=r"^Räknat från 2100-12-31 hamnar svaret utanför"):
        next_working_day(date(2100, 12, 31))
    with pytest.raises(ValueError, match=r"^Räknat från 2100-12-01 hamnar svaret utanför"):
        add_working_days(date(2100, 12, 1), 30)


def test_datetime_is_refused() -> None:
    """A datetime is refused: it never equals a date, so holidays would silently be missed."""
    with pytest.raises(TypeError, match=r"^Ange ett datum utan klockslag"):
        is_working_day(datetime(2026, 12, 24, 9, 0))  # noqa: DTZ001 - the naive value is the point


@PROPERTY
@given(DATES)
def test_previous_working_day_property(day: date) -> None:
    """previous_working_day(d) is a working day, not after d, with no working day in between."""
    previous = previous_working_day(day)
    assert previous <= day
    assert is_working_day(previous)
    assert not any(is_working_day(between) for between in _days(previous + ONE_DAY, day - ONE_DAY))


@PROPERTY
@given(DATES)
def test_next_working_day_property(day: date) -> None:
    """next_working_day(d) is a working day, not before d, with no working day in between."""
    following = next_working_day(day)
    assert following >= day
    assert is_working_day(following)
    assert not any(is_working_day(between) for between in _days(day + ONE_DAY, following - ONE_DAY))


@PROPERTY
@given(WORKING_DAYS, STEPS)
def test_add_then_count(day: date, count: int) -> None:
    """add_working_days(a, n) from a working day lands on a working day exactly n working days away."""
    result = add_working_days(day, count)
    assert is_working_day(result)
    assert working_days_between(day, result) == count


@PROPERTY
@given(WORKING_DAYS, STEPS)
def test_add_round_trip(day: date, count: int) -> None:
    """Adding n working days and then -n returns to the working day one started from."""
    assert add_working_days(add_working_days(day, count), -count) == day


@PROPERTY
@given(DATES, STEPS)
def test_add_from_any_day(day: date, count: int) -> None:
    """From any day, forward counting starts at the previous working day, backward at the next."""
    result = add_working_days(day, count)
    assert is_working_day(result)
    if count >= 0:
        assert result == add_working_days(previous_working_day(day), count)
        assert working_days_between(day, result) == count
    else:
        assert result == add_working_days(next_working_day(day), count)


@PROPERTY
@given(DATES, st.integers(min_value=-800, max_value=800))
def test_counting_matches_day_by_day(start: date, span: int) -> None:
    """working_days_between and working_days_in agree with checking each day on its own."""
    end = start + timedelta(days=span)
    low, high = min(start, end), max(start, end)
    expected = [day for day in _days(low, high) if is_working_day(day)]
    assert working_days_in(low, high) == expected
    counted = len([day for day in expected if day != low])
    assert working_days_between(start, end) == (counted if end >= start else -counted)


@PROPERTY
@given(DATES, st.sampled_from([5, 6]))
def test_weekends_never_work(day: date, weekday: int) -> None:
    """Every Saturday and every Sunday is a non-working day."""
    weekend_day = day + timedelta(days=(weekday - day.weekday()) % 7)
    assert weekend_day.weekday() == weekday
    assert not is_working_day(weekend_day)
