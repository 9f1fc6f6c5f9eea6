"""Personnummer: validation by date and check digit, and finding them in free text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.personnummer import (
    PersonnummerError,
    find_personnummer,
    luhn_check_digit,
    parse_personnummer,
)

TODAY = date(2026, 11, 27)
BIRTHS = st.dates(min_value=date(1930, 1, 1), max_value=TODAY)
SERIALS = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


def _number(born: date, serial: str, *, coordination: bool = False, long: bool = False) -> str:
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{serial}"
    head = f"{born:%Y%m}{day:02d}" if long else nine[:6]
    return f"{head}-{serial}{luhn_check_digit(nine)}"


def test_known_valid_number() -> None:
    """Skatteverket's test number 811218-9876 is valid and born 18 December 1981."""
    parsed = parse_personnummer("811218-9876", today=TODAY)
    assert parsed.birth_date == date(1981, 12, 18)
    assert parsed.canonical == "19811218-9876"


@settings(max_examples=200, deadline=None)
@given(born=BIRTHS, serial=SERIALS, coordination=st.booleans(), long=st.booleans())
def test_valid_numbers_give_their_birth_date(
    *, born: date, serial: str, coordination: bool, long: bool
) -> None:
    """Every number built from a date and a serial with its Luhn digit parses back to that date."""
    if not long and TODAY.year - born.year >= 100:
        return
    parsed = parse_personnummer(_number(born, serial, coordination=coordination, long=long), today=TODAY)
    assert parsed.birth_date == born
    assert parsed.coordination_number is coordination


@settings(max_examples=200, deadline=None)
@given(BIRTHS, SERIALS, st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_refused(born: date, serial: str, shift: int) -> None:
    """Changing the check digit makes the number invalid, and the message does not repeat it."""
    valid = _number(born, serial, long=True)
    wrong = valid[:-1] + str((int(valid[-1]) + shift) % 10)
    with pytest.raises(PersonnummerError, match="kontrollsiffra") as caught:
        parse_personnummer(wrong, today=TODAY)
    assert wrong not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("811318-9876", "födelsedatum"), ("12345", "ÅÅMMDD"), ("20301218-9870", "framtiden")],
)
def test_invalid_shapes_and_dates_are_named(text: str, fragment: str) -> None:
    """A bad month, a wrong shape and a future birth each get their own Swedish reason."""
    with pytest.raises(PersonnummerError, match=fragment):
        parse_personnummer(text, today=date(2026, 1, 1))


@settings(max_examples=100, deadline=None)
@given(
    BIRTHS, SERIALS, st.sampled_from(["Pojken ", "Anmälan gäller ", ""]), st.sampled_from([" i parken", ""])
)
def test_numbers_are_found_in_text(born: date, serial: str, before: str, after: str) -> None:
    """A valid personnummer anywhere in a text is found where it stands."""
    number = _number(born, serial, long=True)
    text = f"{before}{number}{after}"
    assert find_personnummer(text, today=TODAY) == [(len(before), len(before) + len(number))]


def test_other_numbers_are_not_personnummer() -> None:
    """Phone numbers, order numbers and dates without a valid check digit are left alone."""
    text = "Ring 023-838 00 eller 070-1234567, ärende 2025-0412, klockan 21.30 den 2025-03-14."
    assert find_personnummer(text, today=TODAY) == []
