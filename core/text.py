"""Swedish text helpers shared by every layer: folding names, shortening, dates and numbers.

One implementation each: a name typed by a person is compared with ``fold`` wherever it is looked up,
a title is cut with ``shorten`` wherever it is shown, a date is written with ``swedish_date``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

import pendulum

from core.settings import TIMEZONE

__all__ = ["fold", "iso_date", "local_time", "shorten", "swedish_date"]


def fold(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single-spaced: how names are compared.

    "Älvbacka", "ÄLVBACKA" and "alvbacka" fold alike, as do "Faluns BRÅ" and "faluns bra".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", stripped).split())


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


def local_time(value: datetime | None) -> str:
    """``2026-12-07 08:15``: a stored (aware) moment in Europe/Stockholm, or an empty string."""
    if value is None:
        return ""
    return pendulum.instance(value).in_timezone(TIMEZONE).format("YYYY-MM-DD HH:mm")
