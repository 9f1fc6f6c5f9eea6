"""What a person types, read one way for every front door: dates in options and form fields."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from core.errors import InvalidInputError
from importers.periods import InvalidDateError, parse_period

_ISO_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
HINT = "skriv ÅÅÅÅ-MM-DD, t.ex. 2026-03-03"


def parse_day(value: str, what: str, *, pick: Literal["day", "start", "end"] = "day") -> date:
    """The date ``value`` names: ISO (``2026-03-03``) or Swedish (``3 mars 2026``).

    ``pick`` says what a period may stand for: ``day`` accepts exactly one day; ``start`` and ``end``
    accept a longer period and take its first or last day (``--revideras-senast 2026-07`` is the 31st).
    ``what`` names the option or field in the Swedish message of an ``InvalidInputError``.
    """
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        if _ISO_LIKE.match(text):
            raise InvalidInputError(f'{what}: "{value}" är inget datum ({HINT}).') from None
    try:
        period = parse_period(text)
    except InvalidDateError as error:
        raise InvalidInputError(f"{what}: {error}") from error
    chosen = period.end if pick == "end" else period.start
    if chosen is None or not period.understood or (pick == "day" and period.start != period.end):
        raise InvalidInputError(f'{what}: "{value}" är inget datum ({HINT}).')
    return chosen


def optional_day(
    value: str | None, what: str, *, pick: Literal["day", "start", "end"] = "day"
) -> date | None:
    """``parse_day`` for an option that may be left out (None or empty gives None)."""
    return parse_day(value, what, pick=pick) if value and value.strip() else None
