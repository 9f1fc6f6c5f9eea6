"""Swedish text helpers shared by every layer: folding names, shortening, dates and numbers.

One implementation each: a name typed by a person is compared with ``fold`` wherever it is looked up,
a title is cut with ``shorten`` wherever it is shown, a date is written with ``swedish_date``, a number
with ``swedish_number`` (a decimal comma, a real minus sign, a non-breaking space before "%" and
between thousands: "31,5 %", "−12 %", "12 345"), a change with ``percent_change`` (none from zero), a
half-year with ``half_year_name`` ("andra halvåret 2025"), and a table in a plain-text mail with
``text_table`` (aligned rows, not a cell per line).
"""

from __future__ import annotations

import math
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache

import pendulum

from core.settings import TIMEZONE

__all__ = [
    "MINUS",
    "MONTH_NAMES",
    "NBSP",
    "capitalised",
    "fold",
    "half_year_name",
    "half_year_short",
    "iso_date",
    "local_time",
    "name_key",
    "percent_change",
    "shorten",
    "swedish_date",
    "swedish_number",
    "swedish_percent",
    "text_table",
]


MONTH_NAMES = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


def fold(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single-spaced: how names are compared.

    "Älvbacka", "ÄLVBACKA" and "alvbacka" fold alike, as do "Faluns BRÅ" and "faluns bra".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", stripped).split())


def name_key(text: str) -> str:
    """A name or address as lookups compare it exactly: case folded for every letter (Å, Ä, Ö, É too)
    and its spaces collapsed. SQLite's lower() folds only ASCII, so lookups compare this in Python on
    both databases ("Älvbacka", "ÄLVBACKA" and " älvbacka " are one kommun). Unlike ``fold`` it keeps
    diacritics and punctuation, so e-mail addresses stay distinct."""
    return " ".join(text.casefold().split())


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–") + "…"


@lru_cache(maxsize=4096)  # a digest writes the same few dates many times; pendulum's formatting is slow
def swedish_date(value: date | datetime | None, pattern: str = "dddd D MMMM YYYY") -> str:
    """``tisdag 3 mars 2026``; an aware datetime is shown in Europe/Stockholm."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = pendulum.instance(value).in_timezone(TIMEZONE)
    else:
        moment = pendulum.datetime(value.year, value.month, value.day, tz=TIMEZONE)
    return moment.format(pattern, locale="sv")


def iso_date(value: date | None) -> str:
    """``2026-03-03``, or an empty string for no date."""
    return value.isoformat() if value else ""


NBSP = "\u00a0"
MINUS = "\u2212"
_GROUP_FROM = 10_000  # Swedish style groups thousands from five digits ("1456" but "12 345")
_HALF_YEAR = re.compile(r"^\s*(?P<year>\d{4})\s*[Hh](?P<half>[12])\s*$")
_HALF_NAMES = {1: "första halvåret", 2: "andra halvåret"}
_HALF_SHORT = {1: "jan–jun", 2: "jul–dec"}


def _grouped(digits: str) -> str:
    if len(digits) < len(str(_GROUP_FROM)):
        return digits
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[index : index + 3] for index in range(head, len(digits), 3)]
    return NBSP.join(groups)


def swedish_number(value: float, decimals: int | None = None) -> str:
    """``31,5``, ``−3``, ``12 345``: a decimal comma, the minus sign, a non-breaking space between
    thousands. ``decimals`` fixes the decimals; by default a whole number has none and any other
    number at most two (trailing zeros dropped)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if decimals is None:
        text = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.{decimals}f}"
    negative = text.startswith("-") and text.strip("-0.,") != ""
    whole, _, fraction = text.lstrip("-").partition(".")
    result = _grouped(whole) + ("," + fraction if fraction else "")
    return MINUS + result if negative else result


def swedish_percent(value: float, decimals: int | None = 0) -> str:
    """``31,5 %`` (a non-breaking space before the sign)."""
    return f"{swedish_number(value, decimals)}{NBSP}%"


def percent_change(now: float, before: float) -> str | None:
    """``+12 %`` or ``−40 %`` from ``before`` to ``now``; None when ``before`` is zero (a change from
    nothing has no percentage: the caller says "ny" or nothing)."""
    if before == 0:
        return None
    change = round(100 * (now - before) / before)
    sign = "+" if change > 0 else ""
    return sign + swedish_percent(change)


def half_year_name(label: str) -> str:
    """``2025H2`` → ``andra halvåret 2025``; any other text is returned as it is."""
    found = _HALF_YEAR.match(label)
    if found is None:
        return label
    return f"{_HALF_NAMES[int(found['half'])]} {found['year']}"


def half_year_short(label: str) -> str:
    """``2025H2`` → ``jul–dec 2025``, for chart axes; any other text is returned as it is."""
    found = _HALF_YEAR.match(label)
    if found is None:
        return label
    return f"{_HALF_SHORT[int(found['half'])]} {found['year']}"


_NUMERIC = re.compile(r"^[+\-\u2212]?[\d\u00a0 ]+(?:,\d+)?(?:\u00a0?%)?$|^[–-]$|^ny$")
TEXT_WIDTH = 78  # what a plain-text mail shows without wrapping


def text_table(rows: Sequence[Sequence[str]], *, width: int = TEXT_WIDTH) -> str:
    """A table as aligned plain text: the first row is the header, underlined; numbers right-aligned;
    columns two spaces apart. When the rows are wider than ``width``, the widest text columns wrap
    within their cells (never narrower than their longest word), so a row reads across."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    cells = [[" ".join(str(cell).split()) for cell in row] + [""] * (columns - len(row)) for row in rows]
    numeric = [
        all(_NUMERIC.match(row[index]) or not row[index] for row in cells[1:]) for index in range(columns)
    ]
    widths = [max(len(row[index]) for row in cells) for index in range(columns)]
    floors = [
        max((len(word) for row in cells for word in row[index].split()), default=1)
        for index in range(columns)
    ]
    for index in range(columns):
        if numeric[index]:  # a number never wraps; its heading may
            floors[index] = max([floors[index], *[len(row[index]) for row in cells[1:]]])
    gap = 2
    while sum(widths) + gap * (columns - 1) > width:
        shrinkable = [index for index in range(columns) if widths[index] > floors[index]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda index: widths[index])
        widths[widest] -= 1
    lines: list[str] = []
    for number, row in enumerate(cells):
        wrapped = [textwrap.wrap(text, widths[index]) or [""] for index, text in enumerate(row)]
        for line in range(max(len(parts) for parts in wrapped)):
            parts = []
            for index, chunks in enumerate(wrapped):
                text = chunks[line] if line < len(chunks) else ""
                parts.append(
                    text.rjust(widths[index]) if numeric[index] and number else text.ljust(widths[index])
                )
            lines.append((" " * gap).join(parts).rstrip())
        if number == 0:
            lines.append((" " * gap).join("-" * size for size in widths))
    return "\n".join(lines)


def capitalised(text: str) -> str:
    """The first letter in upper case ("andra halvåret" → "Andra halvåret"), the rest untouched."""
    return text[:1].upper() + text[1:]


def local_time(value: datetime | None) -> str:
    """``2026-12-07 08:15``: a stored (aware) moment in Europe/Stockholm, or an empty string."""
    if value is None:
        return ""
    return pendulum.instance(value).in_timezone(TIMEZONE).format("YYYY-MM-DD HH:mm")
