"""Read the free-text periods of Swedish crime-prevention plans ("Tid", "När", "Uppföljning").

``parse_period(text)`` returns a :class:`Period`: a first day, a last day, and whether the
measure is ongoing or recurring. It is a pure function: no I/O, no clock.

How a text is read
------------------
The text is folded once (casefold, NFKD with the combining marks dropped so that å/ä/ö match
a/a/o as in OCR-damaged text, every dash unified to ``-``), then matched against a table of
time expressions. Each expression X covers a span of days, X.start to X.end:

* ISO date ``2025-03-15``, Swedish dates ``15 mars 2025``, ``15/3 2025``, ``15/3-2025``:
  that day.
* ISO month ``2026-07``; month names, full or abbreviated, with or without a dot
  (``mars 2025``, ``Sept. 2024``, ``febr. 2025``); month spans ``mars-maj 2025``.
* ISO weeks ``vecka 12 2025``, ``v. 12 2025``, ``v12 2025``, ``2025-W12``: Monday to Sunday; week
  spans ``v. 26–33 2026``: Monday of the first to Sunday of the last.
* School years ``Läsåret 2026/27``, ``läsår 2026/2027``: 1 Aug 2026-30 Jun 2027 (the second year
  must be the next one).
* Quarters ``Q2 2025``, ``kvartal 2 2025``, ``andra kvartalet 2025``, ``2025Q2``;
  tertials (four months) ``T1 2025``, ``tertial 1 2025``, ``första tertialet 2025``,
  ``2025T1``; half years ``H1 2025``, ``första halvåret 2025``, ``2025H1`` (H1 = Jan-Jun).
* Terms: ``våren``/``vår``/``VT`` = 1 Jan-30 Jun, ``hösten``/``höst``/``HT`` = 1 Aug-31 Dec,
  ``sommaren`` = 1 Jun-31 Aug; ``VT25``/``HT-24`` (two-digit years only after VT/HT);
  ``vår och höst 2025`` = the whole year 2025.
* A bare year ``2025``: 1 Jan-31 Dec. Years outside 1990-2100 are not years.

The expressions found are then combined:

* one expression X: start = X.start, end = X.end;
* ``Start X``, ``Uppstart X``, ``med start X``, ``X-``, ``X och framåt``: start = X.start, end = None;
* ``från (och med) X``, ``fr.o.m. X``, ``från X``: start = X.start, end = None, and ongoing (from X on);
* ``senast X``, ``t.o.m. X``, ``till (och med) X``, ``klart X``: start = None, end = X.end;
* ranges ``X - Y``, ``X till Y``, ``X/Y``, ``X t.o.m. Y``: start = X.start, end = Y.end.

Independently of the dates, ``ongoing`` is set by words such as pågående, löpande,
kontinuerligt, påbörjad, linjearbete, stående, tills vidare, under planperioden (not after
"ej"/"inte"), and
``recurring`` by rhythms such as "per termin", "1-2 gånger per år", "årligen", "vår och höst".

Never guess
-----------
A time that is written but cannot be read exactly leaves start and end empty and makes
``understood`` False, even when ongoing/recurring words were recognised, so that the caller
keeps the raw text and flags it instead of silently dropping a deadline. That covers: a range
that ends before it starts, more than two time expressions or two without a range word
between them, vague qualifiers (``årsskiftet 2024/2025``, ``början av 2025``, ``vintern 2025``,
``före 2025``, ``ca 2025``), years outside 1990-2100 in a qualified expression
(``hösten 1980``), an ISO month above 12 (``2024-25``), and loose numbers glued to an
expression (``15-20 mars 2025``, ``12 2025``). ``understood`` is also False when nothing at all
was recognised (``Vid behov``, ``Ca 2,5 timmar/per tillfälle``, empty text).

An impossible calendar unit (``30 februari 2025``, ``2025-02-30``, ``31/4 2025``,
``2025-13-01``, ``vecka 53 2025``, ``Q5 2025``) raises :class:`InvalidDateError` with a Swedish
message quoting the bad part as it was written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeAlias

from core.text import MONTH_NAMES

__all__ = ["FoldedText", "InvalidDateError", "Period", "fold_text", "parse_period"]


@dataclass(frozen=True, slots=True)
class Period:
    """When a measure runs, as far as its plan says."""

    start: date | None
    end: date | None
    ongoing: bool
    recurring: bool
    understood: bool


class InvalidDateError(ValueError):
    """The text names a calendar day, week or part of a year that does not exist."""

    def __init__(self, fragment: str, reason: str, *, kind: str = "inget giltigt datum") -> None:
        super().__init__(f'"{fragment}" är {kind} ({reason}).')
        self.fragment = fragment


# ---------------------------------------------------------------------------------------------
# Folding: one pass over the text, remembering where every folded character came from so that
# error messages and forum names can quote the original spelling.

_DASHES: Final = frozenset("-‐‑‒–—―−﹘﹣－")
_LINE_BREAKS: Final = frozenset("\n\r\t")


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A text folded for matching (see the module docstring), mapped back to the original."""

    original: str
    text: str
    origin: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original character range behind the non-empty folded range ``text[start:end]``."""
        return self.origin[start], self.origin[end - 1] + 1

    def quote(self, start: int, end: int) -> str:
        """The original text behind the non-empty folded range ``text[start:end]``."""
        first, last = self.original_span(start, end)
        return self.original[first:last]


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def _unify(char: str) -> str:
    if char in _DASHES:
        return "-"
    # Line breaks end clauses in table cells: keep them; every other space becomes " ".
    if char.isspace() and char not in _LINE_BREAKS:
        return " "
    return char


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    # Strip twice: casefolding can produce new combining marks ("İ" -> "i" + dot above).
    return "".join(_unify(part) for part in _strip_marks(_strip_marks(char).casefold()))


def fold_text(text: str) -> FoldedText:
    """Casefold, drop diacritics (å/ä/ö -> a/a/o) and unify dashes, keeping a map to ``text``."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return FoldedText(text, "".join(pieces), tuple(origin))


# ---------------------------------------------------------------------------------------------
# Vocabulary (folded spelling).

_FIRST_YEAR: Final = 1990
_LAST_YEAR: Final = 2100
_MONTHS_PER_YEAR: Final = 12

_MONTH_NAMES: Final = MONTH_NAMES
# Full names, three-letter abbreviations and the customary "febr." and "sept.".
_MONTH_SPELLINGS: Final = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "febr": 2,
    "sept": 9,
}

_ORDINALS: Final = {"forsta": 1, "andra": 2, "tredje": 3, "fjarde": 4, "1:a": 1, "2:a": 2, "3:e": 3, "4:e": 4}

# Terms: (first month, first day), (last month, last day).
_SPRING: Final = ((1, 1), (6, 30))
_AUTUMN: Final = ((8, 1), (12, 31))
_SUMMER: Final = ((6, 1), (8, 31))
_TERMS: Final = {
    "varen": _SPRING,
    "var": _SPRING,
    "vt": _SPRING,
    "varterminen": _SPRING,
    "hosten": _AUTUMN,
    "host": _AUTUMN,
    "ht": _AUTUMN,
    "hostterminen": _AUTUMN,
    "sommaren": _SUMMER,
    "sommar": _SUMMER,
}


@dataclass(frozen=True, slots=True)
class _YearPart:
    """A quarter, tertial or half year: how many a year has and how many months each lasts."""

    count: int
    months: int
    name: str


_QUARTER: Final = _YearPart(4, 3, "kvartal")
_TERTIAL: Final = _YearPart(3, 4, "tertial")
_HALF: Final = _YearPart(2, 6, "halvår")
_YEAR_PARTS: Final = {
    "q": _QUARTER,
    "kvartal": _QUARTER,
    "kvartalet": _QUARTER,
    "t": _TERTIAL,
    "tertial": _TERTIAL,
    "tertialet": _TERTIAL,
    "h": _HALF,
    "halvar": _HALF,
    "halvaret": _HALF,
}

_Span: TypeAlias = tuple[date, date]
_Groups: TypeAlias = Mapping[str, str | None]
_Builder: TypeAlias = Callable[[_Groups, str], _Span | None]


# ---------------------------------------------------------------------------------------------
# Builders: from the groups of one matched expression to its span of days. ``None`` means the
# expression has a recognisable shape but cannot be read (a year outside 1990-2100, "2024-25");
# an impossible calendar unit raises InvalidDateError.


def _number(groups: _Groups, name: str) -> int:
    return int(groups.get(name) or "0")


def _year(groups: _Groups) -> int | None:
    # Two-digit years are only matched after VT/HT ("VT25"), in the group "short".
    short = groups.get("short")
    year = 2000 + int(short) if short else _number(groups, "year")
    return year if _FIRST_YEAR <= year <= _LAST_YEAR else None


def _months(year: int, first: int, last: int) -> _Span:
    return date(year, first, 1), date(year, last, monthrange(year, last)[1])


def _day(fragment: str, year: int | None, month: int, day: int) -> _Span | None:
    if year is None:
        return None
    if not 1 <= month <= _MONTHS_PER_YEAR:
        raise InvalidDateError(fragment, f"det finns ingen månad {month}")
    days = monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise InvalidDateError(fragment, f"{_MONTH_NAMES[month - 1]} {year} har {days} dagar")
    return date(year, month, day), date(year, month, day)


def _month_of(groups: _Groups, name: str = "month") -> int:
    spelling = groups.get(name) or "0"
    return _MONTH_SPELLINGS[spelling] if spelling in _MONTH_SPELLINGS else int(spelling)


def _build_day(groups: _Groups, fragment: str) -> _Span | None:
    return _day(fragment, _year(groups), _month_of(groups), _number(groups, "day"))


def _build_month(groups: _Groups, _fragment: str) -> _Span | None:
    year, month = _year(groups), _month_of(groups)
    # "2024-25" is more likely a short range of years than a month 25: not read.
    if year is None or not 1 <= month <= _MONTHS_PER_YEAR:
        return None
    return _months(year, month, month)


def _build_month_span(groups: _Groups, _fragment: str) -> _Span | None:
    year, first, last = _year(groups), _month_of(groups, "first"), _month_of(groups)
    # "nov-feb 2025" crosses a year boundary the text does not state: not read.
    return None if year is None or last < first else _months(year, first, last)


def _build_week(groups: _Groups, fragment: str) -> _Span | None:
    year, week = _year(groups), _number(groups, "week")
    if year is None:
        return None
    weeks = date(year, 12, 28).isocalendar().week  # 28 December always lies in the last ISO week
    if not 1 <= week <= weeks:
        raise InvalidDateError(fragment, f"{year} har {weeks} veckor", kind="ingen giltig vecka")
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=6)


def _build_week_span(groups: _Groups, fragment: str) -> _Span | None:
    """``v. 26–33 2026``: Monday of the first week to Sunday of the last."""
    first = _build_week({**groups, "week": groups.get("first")}, fragment)
    last = _build_week(groups, fragment)
    if first is None or last is None or last[1] < first[0]:
        return None
    return first[0], last[1]


def _build_school_year(groups: _Groups, _fragment: str) -> _Span | None:
    """``Läsåret 2026/27``: 1 August 2026 to 30 June 2027; the second year must follow the first."""
    year = _year(groups)
    following = groups.get("next") or ""
    if year is None or following not in {str(year + 1), f"{(year + 1) % 100:02d}"}:
        return None
    return date(year, _AUTUMN[0][0], _AUTUMN[0][1]), date(year + 1, _SPRING[1][0], _SPRING[1][1])


def _build_year_part(groups: _Groups, fragment: str) -> _Span | None:
    # "Q2 2025" names the unit before the number, "andra kvartalet 2025" after the ordinal.
    year, part = _year(groups), _YEAR_PARTS[groups.get("unit") or groups.get("named") or "q"]
    ordinal = groups.get("ordinal")
    number = _ORDINALS[ordinal] if ordinal else _number(groups, "number")
    if year is None:
        return None
    if not 1 <= number <= part.count:
        reason = f"ett år har {part.name} 1–{part.count}"
        raise InvalidDateError(fragment, reason, kind=f"inget giltigt {part.name}")
    return _months(year, part.months * (number - 1) + 1, part.months * number)


def _build_term(groups: _Groups, _fragment: str) -> _Span | None:
    year = _year(groups)
    if year is None:
        return None
    (first_month, first_day), (last_month, last_day) = _TERMS[groups.get("term") or "var"]
    return date(year, first_month, first_day), date(year, last_month, last_day)


def _build_year(groups: _Groups, _fragment: str) -> _Span | None:
    year = _year(groups)
    return None if year is None else _months(year, 1, _MONTHS_PER_YEAR)


def _words(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first (the regex takes the first that fits)."""
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH_ALTERNATIVES: Final = _words(_MONTH_SPELLINGS)
_YEAR_DIGITS: Final = r"(?P<year>[0-9]{4})"
_YEAR: Final = _YEAR_DIGITS + r"(?![0-9])"
_MONTH: Final = rf"\b(?P<month>{_MONTH_ALTERNATIVES})\b\.?"
_AFTER_NUMBER: Final = r"(?<![0-9])"

# The expression table, most specific first: at a given position the first pattern that
# matches wins, so "15 mars 2025" is read as a day before "mars 2025" could be read as a month.
_EXPRESSIONS: Final[tuple[tuple[str, str, _Builder], ...]] = (
    (
        "iso_date",
        rf"{_AFTER_NUMBER}{_YEAR_DIGITS}-(?P<month>[0-9]{{1,2}})-(?P<day>[0-9]{{1,2}})(?![0-9])",
        _build_day,
    ),
    ("iso_week", rf"{_AFTER_NUMBER}{_YEAR_DIGITS}-?w(?P<week>[0-9]{{1,2}})(?![0-9])", _build_week),
    ("year_part", rf"{_AFTER_NUMBER}{_YEAR_DIGITS} ?(?P<unit>[hqt])(?P<number>[0-9])\b", _build_year_part),
    ("iso_month", rf"{_AFTER_NUMBER}{_YEAR_DIGITS}-(?P<month>[0-9]{{2}})(?![0-9])", _build_month),
    ("day_month", rf"{_AFTER_NUMBER}(?P<day>[0-9]{{1,2}})(?::?[ae])?\.? *{_MONTH} *{_YEAR}", _build_day),
    (
        "day_slash",
        rf"(?<![0-9/])(?P<day>[0-9]{{1,2}})/(?P<month>[0-9]{{1,2}})(?: *- *| +|/){_YEAR}",
        _build_day,
    ),
    (
        "school_year",
        rf"\b(?:lasaret|lasar|la) *{_YEAR_DIGITS} *[/-] *(?P<next>[0-9]{{4}}|[0-9]{{2}})(?![0-9])",
        _build_school_year,
    ),
    (
        "week_span",
        rf"\b(?:veckorna|vecka|veckan|v)\.? *(?P<first>[0-9]{{1,2}}) *- *(?P<week>[0-9]{{1,2}}) *,? *{_YEAR}",
        _build_week_span,
    ),
    ("week", rf"\b(?:vecka|veckan|v)\.? *(?P<week>[0-9]{{1,2}}) *(?:[,/-] *)?{_YEAR}", _build_week),
    (
        "year_part_words",
        (
            rf"\b(?:(?P<unit>kvartal|tertial|halvar|q|t|h) *(?P<number>[0-9])\b"
            rf"|(?P<ordinal>{_words(_ORDINALS)}) +(?P<named>kvartalet|tertialet|halvaret)) *,? *{_YEAR}"
        ),
        _build_year_part,
    ),
    ("term_pair", rf"\b(?:varen|var|vt) +och +(?:hosten|host|ht) *-? *{_YEAR}", _build_year),
    ("term", rf"\b(?P<term>{_words(_TERMS)}) *-? *{_YEAR}", _build_term),
    ("term_short", r"\b(?P<term>vt|ht) *-? *(?P<short>[0-9]{2})(?![0-9])", _build_term),
    ("month_span", rf"\b(?P<first>{_MONTH_ALTERNATIVES})\b\.? *- *{_MONTH} *{_YEAR}", _build_month_span),
    ("month", rf"{_MONTH} *{_YEAR}", _build_month),
    (
        "year",
        # Not a decimal ("2,2025"), not a case number ("KS 2024/274"), not an amount ("2000 kr").
        (
            r"(?<![0-9])(?<![0-9][.,])(?P<year>199[0-9]|20[0-9]{2}|2100)(?![0-9])(?![.,][0-9])"
            r"(?! */ *[0-9]{1,3}(?![0-9]))(?! *(?:(?:kr|kronor|sek|tkr|mkr|procent|st)\b|%))"
        ),
        _build_year,
    ),
)


def _local_groups(pattern: str, kind: str) -> str:
    """Prefix every group name of ``pattern`` with ``kind``: Python wants unique names."""
    return pattern.replace("(?P<", f"(?P<{kind}__")


_EXPRESSION: Final = re.compile(
    "|".join(f"(?P<{kind}>{_local_groups(pattern, kind)})" for kind, pattern, _ in _EXPRESSIONS), re.ASCII
)
_BUILDERS: Final = {kind: builder for kind, _, builder in _EXPRESSIONS}


def _groups_of(match: re.Match[str], kind: str) -> dict[str, str | None]:
    prefix = f"{kind}__"
    return {
        name.removeprefix(prefix): value
        for name, value in match.groupdict().items()
        if name.startswith(prefix)
    }


# ---------------------------------------------------------------------------------------------
# Markers around expressions and flags anywhere in the text.

# Alternations for _MARKER_BEFORE; it is anchored at the expression, so their order does not matter.
_START_WORDS: Final = r"start|startar|uppstart|med start|borjar|inleds|paborjas"
# "Från och med X" without an end: from X on, for as long as the plan runs, so ongoing as well.
_FROM_WORDS: Final = r"fran och med|fr\.? ?o\.? ?m|from|fran"
_END_WORDS: Final = (
    r"senast|till och med|t\.? ?o\.? ?m|tom|till|klart|klar|fardigt|fardig|genomford|genomfort|avslutas"
)
# Words that make the following time approximate or relative: never read, never guessed.
# The unit words without their number ("kvartalet 2025", "vecka 2025") are among them.
_VAGUE_WORDS: Final = (
    "arsskiftet|arsskifte|borjan av|slutet av|mitten av|halften av|delen av|vintern|vinter|fore|innan"
    "|efter|omkring|cirka|ca|runt|kring|tidigast|preliminart|prel|ungefar|lasaret|lasar|dag|nr|dnr|ks"
    "|kvartal|kvartalet|tertial|tertialet|halvar|halvaret|vecka|veckan|manad|manaden|termin|terminen"
)
_MARKER_BEFORE: Final = re.compile(
    rf"(?<![a-z0-9])(?:(?P<vague>{_VAGUE_WORDS})|(?P<start>{_START_WORDS})|(?P<since>{_FROM_WORDS})"
    rf"|(?P<end>{_END_WORDS}))"
    r"[ .,:]*$",
    re.ASCII,
)
_OPEN_AFTER: Final = re.compile(
    r" *(?:-+[ .,;:!)]*$|-* *(?:och +)?(?:framat|vidare|tills? *vidare)\b)", re.ASCII
)
_RANGE_WORD: Final = re.compile(
    r"[ ,;]*(?:-+|/|till och med|till|t\.? ?o\.? ?m\.?|tom"
    r"|(?:(?:och|samt) +)?(?:klart senast|senast|klart|klar))[ ,;:]*",
    re.ASCII,
)
_LOOSE_DIGIT_LEFT: Final = re.compile(r"[0-9][ /.,:\-]*$", re.ASCII)
_LOOSE_DIGIT_RIGHT: Final = re.compile(r"[ /.,:\-]*[0-9]", re.ASCII)

_ONGOING: Final = re.compile(
    r"\b(?<!\bej )(?<!\binte )(?:pagaende|pagar|lopande|l6pande|kontinuerlig[a-z]*|fortlopande|fortgaende"
    r"|paborjad|paborjat|paborjats|linjearbete|linjeverksamhet|staende|tills *vidare"
    r"|(?:under|inom) +(?:hela +)?(?:planperioden|planens +giltighetstid|plantiden)|planperioden +ut)\b",
    re.ASCII,
)
_UNITS: Final = (
    r"ar|aret|termin|terminen|halvar|halvaret|kvartal|kvartalet|tertial|tertialet|manad|manaden|vecka|veckan"
)
_RECURRING: Final = re.compile(
    rf"\b(?:(?:per|varje|vart) +(?:{_UNITS})|om +aret|i +manaden|(?:ggr|gang|ganger) */ *(?:{_UNITS})"
    r"|arligen|arsvis|halvarsvis|halvarligen|kvartalsvis|tertialvis|manadsvis|manatligen|veckovis"
    r"|terminsvis|aterkommande|varannan|vartannat|var +[0-9]+:?e"
    r"|(?:varen|var|vt) +och +(?:hosten|host|ht)|(?:hosten|host|ht) +och +(?:varen|var|vt))\b",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class _Expression:
    start: int
    end: int
    span: _Span


@dataclass(frozen=True, slots=True)
class _Dates:
    start: date | None
    end: date | None
    readable: bool  # False: a time is written but cannot be read without guessing
    open_from: bool = False  # "från (och med) X" with no end: ongoing from X


_ONE_LINE: Final = str.maketrans(dict.fromkeys(_LINE_BREAKS, " "))
_NO_TIME: Final = _Dates(None, None, readable=True)
_UNREADABLE: Final = _Dates(None, None, readable=False)


def _span_of(folded: FoldedText, match: re.Match[str]) -> _Span | None:
    kind = match.lastgroup or ""
    return _BUILDERS[kind](_groups_of(match, kind), folded.quote(match.start(), match.end()))


def _find_expressions(folded: FoldedText, text: str) -> list[_Expression] | None:
    """Every time expression in ``text``; None when one has the shape of a time but cannot be read."""
    # Build every span before giving up, so that an impossible date anywhere still raises.
    found = [(match, _span_of(folded, match)) for match in _EXPRESSION.finditer(text)]
    expressions = [_Expression(match.start(), match.end(), span) for match, span in found if span is not None]
    return expressions if len(expressions) == len(found) else None


def _has_loose_digits(text: str, expressions: list[_Expression]) -> bool:
    """A number glued to an expression ("15-20 mars 2025", "12 2025") makes the time unreadable."""

    def covered(index: int) -> bool:
        return any(expression.start <= index < expression.end for expression in expressions)

    for expression in expressions:
        left = _LOOSE_DIGIT_LEFT.search(text, 0, expression.start)
        right = _LOOSE_DIGIT_RIGHT.match(text, expression.end)
        if (left and not covered(left.start())) or (right and not covered(right.end() - 1)):
            return True
    return False


def _marker_before(text: str, position: int) -> str | None:
    match = _MARKER_BEFORE.search(text, 0, position)
    return match.lastgroup if match else None


def _read_single(text: str, expression: _Expression) -> _Dates:
    span = expression.span
    marker = _marker_before(text, expression.start)
    open_ended = _OPEN_AFTER.match(text, expression.end) is not None
    if marker == "vague" or (marker == "end" and open_ended):
        return _UNREADABLE
    if marker == "since":
        return _Dates(span[0], None, readable=True, open_from=True)
    if marker == "start" or open_ended:
        return _Dates(span[0], None, readable=True)
    if marker == "end":
        return _Dates(None, span[1], readable=True)
    return _Dates(span[0], span[1], readable=True)


def _read_range(text: str, first: _Expression, last: _Expression) -> _Dates:
    linked = _RANGE_WORD.fullmatch(text, first.end, last.start) is not None
    if not linked or _marker_before(text, first.start) not in {None, "start", "since"}:
        return _UNREADABLE
    start, end = first.span[0], last.span[1]
    # A range that ends before it starts is a typo we cannot fix by guessing.
    return _Dates(start, end, readable=True) if start <= end else _UNREADABLE


def _read_dates(folded: FoldedText, text: str) -> _Dates:
    expressions = _find_expressions(folded, text)
    if expressions is None or _has_loose_digits(text, expressions):
        return _UNREADABLE
    match expressions:
        case []:
            return _NO_TIME
        case [single]:
            return _read_single(text, single)
        case [first, last]:
            return _read_range(text, first, last)
        case _:  # three or more times in one cell: which one is meant is a guess
            return _UNREADABLE


def parse_period(text: str) -> Period:
    """Read a free-text period such as "Start hösten 2024", "Våren 2025 – 2027." or "Pågående".

    Raises InvalidDateError for an impossible date ("30 februari 2025"); see the module
    docstring for every form and for what is deliberately left not understood.
    """
    folded = fold_text(text)
    # Line breaks matter to forum names, not to periods: one line, with the same indices.
    line = folded.text.translate(_ONE_LINE)
    dates = _read_dates(folded, line)
    ongoing = _ONGOING.search(line) is not None or dates.open_from
    recurring = _RECURRING.search(line) is not None
    has_dates = dates.start is not None or dates.end is not None
    understood = dates.readable and (has_dates or ongoing or recurring)
    return Period(dates.start, dates.end, ongoing=ongoing, recurring=recurring, understood=understood)
