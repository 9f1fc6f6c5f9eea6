"""Personnummer and samordningsnummer: validate one, and find any in free text.

A personnummer is the birth date (YYMMDD or YYYYMMDD), a separator ("-", or "+" from the year a person
turns 100), three digits and a check digit by the Luhn algorithm over the ten digits YYMMDDNNN. A
samordningsnummer is the same with 60 added to the day.

Two uses: SSPF validates the optional personnummer of a youth before it is encrypted, and every free
text a person types elsewhere (an EST incident, a comment) is searched so that a personnummer never
enters a part of Samordna that is not built to guard it. Messages never repeat the number itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core import clock

SAMORDNINGSNUMMER_DAY_OFFSET = 60

_SHAPE = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$")
# Anything in a text that has the shape of a personnummer: 6 or 8 digits, an optional separator
# (also a space, as people type), four digits; not part of a longer run of digits.
_IN_TEXT = re.compile(r"(?<![\d])(\d{2})?(\d{6})\s?([-+]?)\s?(\d{4})(?![\d])")


class PersonnummerError(ValueError):
    """A personnummer that is not valid; the message is Swedish and does not repeat the number."""


@dataclass(frozen=True, slots=True)
class Personnummer:
    birth_date: date
    serial: str  # the three digits after the date
    check_digit: int
    coordination_number: bool  # samordningsnummer: day + 60

    @property
    def canonical(self) -> str:
        """YYYYMMDD-NNNC, with the day as written (a samordningsnummer keeps its +60)."""
        day = self.birth_date.day + (SAMORDNINGSNUMMER_DAY_OFFSET if self.coordination_number else 0)
        return f"{self.birth_date:%Y%m}{day:02d}-{self.serial}{self.check_digit}"

    def age_on(self, day: date) -> int:
        """Whole years of age on ``day``."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def luhn_check_digit(nine_digits: str) -> int:
    """The check digit of the nine digits YYMMDDNNN (weights 2,1,2,1,… from the left)."""
    total = 0
    for position, character in enumerate(nine_digits):
        product = int(character) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product  # noqa: PLR2004 - digit sum of a two-digit product
    return (10 - total % 10) % 10


def _century(yymmdd: str, separator: str, today: date) -> int:
    """The century of a ten-digit number: the latest birth not in the future, a hundred years more for +."""
    year = int(yymmdd[:2])
    century = today.year // 100 * 100
    born_year = century + year if century + year <= today.year else century - 100 + year
    if separator == "+":
        born_year -= 100
    return born_year // 100 * 100


def parse_personnummer(text: str, *, today: date | None = None) -> Personnummer:
    """A valid personnummer or samordningsnummer, or PersonnummerError saying what is wrong."""
    today = today or clock.today()
    match = _SHAPE.match(text.strip().replace(" ", ""))
    if match is None:
        raise PersonnummerError("personnumret ska skrivas ÅÅMMDD-NNNN eller ÅÅÅÅMMDD-NNNN.")
    yymmdd, serial, check = match["yymmdd"], match["serial"], int(match["check"])
    century = int(match["century"]) * 100 if match["century"] else _century(yymmdd, match["sep"], today)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    coordination = day > SAMORDNINGSNUMMER_DAY_OFFSET
    if coordination:
        day -= SAMORDNINGSNUMMER_DAY_OFFSET
    try:
        born = date(century + int(yymmdd[:2]), month, day)
    except ValueError:
        raise PersonnummerError("personnumret innehåller inget giltigt födelsedatum.") from None
    if born > today:
        raise PersonnummerError("personnumrets födelsedatum ligger i framtiden.")
    if luhn_check_digit(yymmdd + serial) != check:
        raise PersonnummerError("personnumrets kontrollsiffra stämmer inte.")
    return Personnummer(birth_date=born, serial=serial, check_digit=check, coordination_number=coordination)


def find_personnummer(text: str, *, today: date | None = None) -> list[tuple[int, int]]:
    """Where ``text`` holds something that is a valid personnummer: (start, end) of each.

    Only numbers with a valid date and check digit count, so an order number or a phone number of the
    same length is rarely refused by mistake.
    """
    found: list[tuple[int, int]] = []
    for match in _IN_TEXT.finditer(text):
        candidate = f"{match[1] or ''}{match[2]}{match[3]}{match[4]}"
        try:
            parse_personnummer(candidate, today=today)
        except PersonnummerError:
            continue
        found.append(match.span())
    return found
