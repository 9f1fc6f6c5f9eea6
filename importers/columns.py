"""Which column of a plan means what: the alias table and the header-row search.

Kommuner name the same concept differently ("Tid", "När", "Uppföljning"; "Ansvarig", "Ansvariga"),
and text extracted from PDF loses å, ä and ö ("Atgard", "Nar", "Operativa mal"). Names are compared
after folding case and diacritics; a near miss (OCR damage) is accepted and named in a warning.
Anything else is kept as extra text on the measure, or mapped by the user with ``--map``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from core.text import fold
from importers.tables import Sheet


class Field(StrEnum):
    """The concepts a plan table carries. Values are the Swedish names ``--map`` accepts."""

    MEASURE = "åtgärd"
    DESCRIPTION = "beskrivning"
    PERIOD = "tid"
    SCOPE = "omfattning"
    RESPONSIBLE = "ansvarig"
    PARTNERS = "samverkan"
    COST = "kostnad"
    GOAL = "mål"
    FOLLOW_UP = "uppföljning"
    PROBLEM = "problem"
    CAUSE = "orsak"
    FOCUS_AREA = "fokusområde"
    STATUS = "status"
    IGNORE = "ignorera"


# Every column name in the three seed plans, and the common variants of each.
ALIASES: dict[Field, tuple[str, ...]] = {
    Field.MEASURE: ("åtgärd", "åtgärder", "insats", "insatser", "aktivitet och åtgärd"),
    Field.DESCRIPTION: ("beskrivning", "aktivitet", "aktiviteter", "hur", "genomförande", "delaktivitet"),
    Field.PERIOD: ("tid", "när", "tidsplan", "tidpunkt", "period", "tidsram", "tidsperiod", "genomförs"),
    Field.SCOPE: ("omfattning", "målgrupp", "plats", "var"),
    Field.RESPONSIBLE: ("ansvarig", "ansvariga", "ansvar", "huvudansvarig", "ansvarig för åtgärden"),
    Field.PARTNERS: (
        "samverkan",
        "samverkanspart",
        "samverkansparter",
        "samarbetspartner",
        "i samverkan med",
    ),
    Field.COST: ("kostnad", "kostnader", "budget", "finansiering", "resurser"),
    Field.GOAL: ("mål", "operativa mål", "operativt mål", "effektmål", "förväntat resultat", "delmål"),
    Field.FOLLOW_UP: ("uppföljning", "återrapportering", "rapportering", "uppföljning och rapportering"),
    Field.PROBLEM: ("problemområde", "problem", "identifierat problem", "utmaning", "problembild"),
    Field.CAUSE: ("orsak", "orsaker", "identifierad orsak", "orsaksanalys"),
    Field.FOCUS_AREA: (
        "fokusområde",
        "prioriterat område",
        "prioriterat samverkansområde",
        "prioriterat brottsproblem",
        "prioriterade områden",
    ),
    Field.STATUS: ("status", "läge", "lägesrapport"),
}

# Characters OCR put where å, ä and ö stood in the stadsdel template ("6ka" for "öka").
_OCR = str.maketrans({"6": "o", "é": "e", "è": "e", "|": "i"})


def _fold_header(text: str) -> str:
    return (
        fold(text.casefold().translate(_OCR))
        if re.search(r"[a-zåäö]6|6[a-zåäö]", text.casefold())
        else fold(text)
    )


_EXACT: dict[str, Field] = {fold(alias): field for field, names in ALIASES.items() for alias in names}
FUZZY_CUTOFF = 0.8
MIN_FUZZY_LENGTH = 4


@dataclass(frozen=True, slots=True)
class ColumnMatch:
    field: Field | None
    header: str
    fuzzy: bool = False  # matched a near-miss spelling; the import summary says so


def parse_mapping(specs: list[str]) -> dict[str, Field]:
    """``--map "Kolumnnamn=fält"`` options as folded header → field. Raises ValueError in Swedish."""
    mapping: dict[str, Field] = {}
    known = {fold(field.value): field for field in Field}
    for spec in specs:
        header, separator, target = spec.rpartition("=")
        if not separator or not header.strip() or not target.strip():
            raise ValueError(f'--map "{spec}" ska skrivas "Kolumnnamn=fält".')
        field = known.get(fold(target))
        if field is None:
            names = ", ".join(field.value for field in Field)
            raise ValueError(f'--map "{spec}": okänt fält "{target.strip()}"; kända fält: {names}.')
        mapping[_fold_header(header)] = field
    return mapping


def match_column(header: str, mapping: dict[str, Field] | None = None) -> ColumnMatch:
    """What a header names: the user's mapping first, then the alias table, then a near miss."""
    key = _fold_header(header)
    if not key:
        return ColumnMatch(None, header)
    if mapping and key in mapping:
        return ColumnMatch(mapping[key], header)
    if key in _EXACT:
        return ColumnMatch(_EXACT[key], header)
    close = difflib.get_close_matches(key, list(_EXACT), n=1, cutoff=FUZZY_CUTOFF)
    if (
        close and len(key) >= MIN_FUZZY_LENGTH
    ):  # short names ("tid", "mål") match too much when spelled loosely
        return ColumnMatch(_EXACT[close[0]], header, fuzzy=True)
    return ColumnMatch(None, header)


@dataclass(frozen=True, slots=True)
class Header:
    index: int  # 0-based row index in the sheet
    columns: list[ColumnMatch]


HEADER_SEARCH_ROWS = 40


def find_header(sheet: Sheet, mapping: dict[str, Field] | None = None) -> Header | None:
    """The first row, among the first rows of the sheet, that names an åtgärd column and one more concept."""
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        columns = [match_column(cell.text, mapping) for cell in row]
        fields = [column.field for column in columns if column.field not in (None, Field.IGNORE)]
        if Field.MEASURE in fields and len(set(fields)) >= 2:  # noqa: PLR2004 - "åtgärd" and one more concept
            return Header(index, columns)
    return None
