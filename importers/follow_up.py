"""Read the free-text follow-up ("Uppföljning") of a measure: where, how often and by when.

``parse_follow_up(text)`` returns a :class:`FollowUp`. It is a pure function: no I/O, no clock.
The text is folded like a period (see :mod:`importers.periods`: casefold, å/ä/ö -> a/a/o,
unified dashes) and matched against two tables.

Forums (``forums`` in order of first mention, one entry per kind; ``forum_names`` holds, at
the same index, the phrase as written at that first mention):

* LOCAL_BRA: "BRÅ"/"Brå" (OCR "BRA" only in capitals, so that "bra" = good is not a forum),
  "brottsförebyggande råd(et)"; not "BRÅ-samordnare", who is a person. The name takes a
  capitalised genitive before it and a capitalised place after it: "Faluns BRÅ",
  "lokala BRÅ Orsa", "Faluns brottsförebyggande råd".
* MUNICIPAL_BOARD: "Kommunstyrelsen", "KS" (whole word).
* MUNICIPAL_MANAGEMENT: "kommunledningen", "kommundirektör(en)", "kommunchef(en)".
* EST_GROUP: "EST" (in capitals), "EST-gruppen", "EST-möte", "Effektiv samordning för trygghet".
* STEERING_GROUP: "styrgrupp(en)", "styrgruppsmöten"; the name runs from the keyword to the end
  of the clause ("Styrgruppen för tillsammans för varje barn"): up to punctuation, a line
  break, "och"/"samt"/"eller", another forum, a frequency or a time; a dangling "för" is dropped.

Frequencies (the first one that names a rhythm wins):

* a count per unit, reduced to times per year: "en gång per halvår", "vid ett tillfälle per
  halvår", "2 ggr/år", "två gånger per år" (2: HALF_YEARLY), "en gång om året", "1 gång/år",
  "varje år" (1: YEARLY), "fyra gånger per år", "per kvartal" (4: QUARTERLY), "tre gånger per
  år", "per tertial" (3: TERTIAL), "en gång i månaden", "varje månad" (12: MONTHLY); any other
  count ("1-2 gånger per år", "varje vecka") is no frequency;
* adverbs: "halvårsvis", "årligen", "årsvis", "kvartalsvis", "tertialvis", "månadsvis";
* "löpande", "kontinuerligt", "fortlöpande": CONTINUOUS;
* "vid styrgruppsmöten", "vid varje möte", "vid möte", "stående punkt": PER_MEETING;
* "en gång", "vid ett tillfälle" without a unit: ONCE.

The kommun's own forum names: ``parse_follow_up(text, known)`` also recognises every name and alias
the directory gives its forums (``known``: (kind, name) pairs, such as (LOCAL_BRA, "Trygghetsrådet") or
(LOCAL_BRA, "Folkhälso- och trygghetsrådet")), folded and as whole words, before the built-in words;
the name is kept as written in the text ("Till Trygghetsrådet" is the local BRÅ, named Trygghetsrådet).

Period: when :func:`~importers.periods.parse_period` finds a start or an end in the text (Orsa
writes deadlines such as "Sept. 2024" in this column), it is kept; an impossible date raises
:class:`~importers.periods.InvalidDateError`. ``understood`` is False when neither a forum, a
frequency nor a period was recognised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from importers.periods import FoldedText, InvalidDateError, Period, fold_text, parse_period
from models.enums import FollowUpFrequency, ForumKind

__all__ = ["FollowUp", "parse_follow_up"]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """How a measure is followed up, as far as its plan says."""

    forums: tuple[ForumKind, ...]
    forum_names: tuple[str, ...]
    frequency: FollowUpFrequency | None
    period: Period | None
    understood: bool


# ---------------------------------------------------------------------------------------------
# Forums. Patterns match the folded text; a check on the original spelling keeps out the
# ordinary words "bra" (good) and "est".

_FORUM_PATTERNS: Final = (
    (ForumKind.LOCAL_BRA, r"\b(?:brottsforebyggande +rad(?:et|ets)?|bra)\b(?!-samordnar)"),
    (ForumKind.MUNICIPAL_BOARD, r"\b(?:kommunstyrelse(?:n|ns)?|ks)\b"),
    (
        ForumKind.MUNICIPAL_MANAGEMENT,
        r"\b(?:kommunledning(?:en|ens)?|kommundirektor(?:en|ens)?|kommunchef(?:en)?)\b",
    ),
    (
        ForumKind.EST_GROUP,
        r"\b(?:est-?(?:grupp(?:en|er|erna)?|mote(?:t|n|na)?)|est|effektiv +samordning +for +trygghet)\b",
    ),
    (ForumKind.STEERING_GROUP, r"\b(?:[a-z]+-)?styrgrupp[a-z]*"),
)
_FORUM: Final = re.compile(
    "|".join(f"(?P<{kind.name}>{pattern})" for kind, pattern in _FORUM_PATTERNS), re.ASCII
)
# Words that, folded, are also ordinary Swedish: accepted only in these original spellings.
_AMBIGUOUS_SPELLINGS: Final = {"bra": ("BRA", "BRÅ", "Brå", "brå", "BRå"), "est": ("EST",)}

# A capitalised genitive ("Faluns", "Orsas") and/or "lokala" right before a forum keyword.
_NAME_PREFIX: Final = re.compile(
    r"(?:(?P<owner>[^\W\d_]+s)\s+)?(?:(?P<local>(?:det\s+|den\s+)?lokala)\s+)?$", re.IGNORECASE
)
# A capitalised word right after it, as the place in "lokala BRÅ Orsa".
_NAME_PLACE: Final = re.compile(r"\s+(?P<place>[^\W\d_][\w-]*)(?!\s*\d)(?![\w-])")
_YEAR_2000: Final = parse_period("2000")
_DANGLING_WORDS: Final = frozenset({"for", "till", "i", "med", "av", "pa", "om", "vid", "och", "samt"})

# Where a steering group's clause ends (besides other forums and frequencies).
_CLAUSE_END: Final = re.compile(
    r"[.,;:!?()\[\]\n\r\t]|\b(?:och|samt|eller)\b|[0-9]"
    r"|\b(?:varen|var|vt|hosten|host|ht|sommaren|sommar"
    r"|jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec)[a-z]*\.? *[0-9]",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class _ForumMention:
    kind: ForumKind
    start: int  # in the folded text
    end: int


def _is_meant(folded: FoldedText, match: re.Match[str]) -> bool:
    spellings = _AMBIGUOUS_SPELLINGS.get(match.group())
    return spellings is None or folded.quote(match.start(), match.end()) in spellings


def _forum_mentions(folded: FoldedText) -> list[_ForumMention]:
    return [
        _ForumMention(ForumKind[match.lastgroup or ""], match.start(), match.end())
        for match in _FORUM.finditer(folded.text)
        if _is_meant(folded, match)
    ]


# ---------------------------------------------------------------------------------------------
# Frequencies.

_COUNT_WORDS: Final = {"en": 1, "ett": 1, "tva": 2, "tre": 3, "fyra": 4, "tolv": 12}
_UNITS_PER_YEAR: Final = {
    "ar": 1,
    "halvar": 2,
    "termin": 2,
    "tertial": 3,
    "kvartal": 4,
    "manad": 12,
    "vecka": 52,
}
_BY_TIMES_PER_YEAR: Final = {
    1: FollowUpFrequency.YEARLY,
    2: FollowUpFrequency.HALF_YEARLY,
    3: FollowUpFrequency.TERTIAL,
    4: FollowUpFrequency.QUARTERLY,
    12: FollowUpFrequency.MONTHLY,
}


def _unit(group: str) -> str:
    return rf"(?P<{group}>ar|halvar|termin|tertial|kvartal|manad|vecka)(?:et|en|n)?\b"


_NUMBER: Final = rf"(?:{'|'.join(_COUNT_WORDS)}|[0-9]{{1,2}})(?:\b|(?<=[0-9]))"

_FREQUENCY_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    # "1-2 gånger per år": a range of counts, matched so that "per år" is not read alone.
    (
        "counted",
        (
            rf"\b(?P<count>{_NUMBER})(?:(?: *-| +till| +eller) *(?P<upto>{_NUMBER}))?"
            rf" *(?:[a-z]+\.? *)?(?:per|/|om|i|varje) *{_unit('unit')}"
        ),
    ),
    ("each", rf"\b(?:per|varje|vart) +{_unit('each_unit')}"),
    ("HALF_YEARLY", r"\b(?:halvarsvis|halvarligen)\b"),
    ("YEARLY", r"\b(?:arligen|arsvis)\b"),
    ("QUARTERLY", r"\bkvartalsvis\b"),
    ("TERTIAL", r"\btertialvis\b"),
    ("MONTHLY", r"\b(?:manadsvis|manatligen)\b"),
    ("CONTINUOUS", r"\b(?:lopande|l6pande|kontinuerlig[a-z]*|fortlopande)\b"),
    (
        "PER_MEETING",
        r"\bvid +(?:varje +|vart +|alla +|ordinarie +)?[a-z-]*mote(?:t|n|na)?\b|\bstaende +punkt",
    ),
    ("ONCE", r"\b(?:en +gang|ett +tillfalle)\b"),
)
_FREQUENCY: Final = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in _FREQUENCY_PATTERNS), re.ASCII
)


def _counted(match: re.Match[str]) -> FollowUpFrequency | None:
    if match.group("upto"):  # "1-2 gånger per år": no single rhythm
        return None
    groups = match.groupdict()
    count_text = groups["count"] or "1"  # "varje år": once per unit
    count = int(count_text) if count_text.isdigit() else _COUNT_WORDS[count_text]
    unit = groups["unit"] or groups["each_unit"] or ""
    return _BY_TIMES_PER_YEAR.get(count * _UNITS_PER_YEAR[unit])


def _frequency_of(match: re.Match[str]) -> FollowUpFrequency | None:
    name = match.lastgroup or ""
    if name in {"counted", "each"}:
        return _counted(match)
    return FollowUpFrequency[name]


def _find_frequency(folded: FoldedText) -> FollowUpFrequency | None:
    frequencies = (_frequency_of(match) for match in _FREQUENCY.finditer(folded.text))
    return next((frequency for frequency in frequencies if frequency is not None), None)


# ---------------------------------------------------------------------------------------------
# Names as written.


def _clause_end(folded: FoldedText, mention: _ForumMention, boundaries: list[int]) -> int:
    """Where the clause that begins with ``mention`` (a steering group keyword) ends."""
    stop = _CLAUSE_END.search(folded.text, mention.end)
    later = [boundary for boundary in boundaries if boundary >= mention.end]
    return min([stop.start() if stop else len(folded.text), *later])


def _trim(name: str) -> str:
    words = name.split()
    while len(words) > 1 and fold_text(words[-1]).text in _DANGLING_WORDS:
        words.pop()
    return " ".join(words)


def _name_start(original: str, first: int) -> int:
    """Include a capitalised genitive ("Faluns") and "lokala" right before the keyword."""
    prefix = _NAME_PREFIX.search(original, 0, first)
    if prefix is None:
        return first
    owner = prefix.group("owner")
    if owner is not None and owner[0].isupper():
        return prefix.start()
    return prefix.start("local") if prefix.group("local") else first


def _name_end(original: str, last: int) -> int:
    """Include a capitalised place ("Orsa") right after the keyword."""
    place = _NAME_PLACE.match(original, last)
    if place is None or not place.group("place")[0].isupper() or _is_keyword(place.group("place")):
        return last
    return place.end()


def _extend(folded: FoldedText, start: int, end: int) -> str:
    """The original words of a forum keyword, with its genitive owner and its place."""
    first, last = folded.original_span(start, end)
    original = folded.original
    return original[_name_start(original, first) : _name_end(original, last)]


def _is_keyword(word: str) -> bool:
    """A forum or frequency word, or a word that changes how a following year is read ("Hösten")."""
    folded = fold_text(word).text
    if _FORUM.fullmatch(folded) or _FREQUENCY.match(folded):
        return True
    try:
        return parse_period(f"{word} 2000") != _YEAR_2000
    except InvalidDateError:  # "Q5 2000"
        return True


def _name(folded: FoldedText, mention: _ForumMention, boundaries: list[int]) -> str:
    if mention.kind is ForumKind.STEERING_GROUP:
        return _trim(folded.quote(mention.start, _clause_end(folded, mention, boundaries)))
    return _trim(_extend(folded, mention.start, mention.end))


def _known_mentions(folded: FoldedText, known: Sequence[tuple[ForumKind, str]]) -> list[_ForumMention]:
    """Where the text names one of the kommun's own forums, longest names first, never overlapping."""
    found: list[_ForumMention] = []
    names = sorted(
        {(kind, fold_text(name).text.strip()) for kind, name in known if name.strip()},
        key=lambda item: -len(item[1]),
    )
    for kind, name in names:
        for match in re.finditer(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", folded.text):
            if not any(match.start() < other.end and other.start < match.end() for other in found):
                found.append(_ForumMention(kind, match.start(), match.end()))
    return sorted(found, key=lambda mention: mention.start)


def _forums(
    folded: FoldedText, known: Sequence[tuple[ForumKind, str]] = ()
) -> tuple[tuple[ForumKind, ...], tuple[str, ...]]:
    own = _known_mentions(folded, known)
    builtin = [
        mention
        for mention in _forum_mentions(folded)
        if not any(mention.start < other.end and other.start < mention.end for other in own)
    ]
    mentions = sorted([*own, *builtin], key=lambda mention: mention.start)
    boundaries = [mention.start for mention in mentions]
    boundaries += [match.start() for match in _FREQUENCY.finditer(folded.text)]
    first_mentions: dict[ForumKind, str] = {}
    for mention in mentions:
        if mention.kind not in first_mentions:
            first_mentions[mention.kind] = (
                folded.quote(mention.start, mention.end)
                if mention in own
                else _name(folded, mention, boundaries)
            )
    return tuple(first_mentions), tuple(first_mentions.values())


# ---------------------------------------------------------------------------------------------


def _stated_period(text: str) -> Period | None:
    period = parse_period(text)
    return period if period.start is not None or period.end is not None else None


def parse_follow_up(text: str, known: Sequence[tuple[ForumKind, str]] = ()) -> FollowUp:
    """Read a follow-up text such as "Faluns BRÅ och Kommunstyrelsen en gång per halvår.".

    ``known`` are the kommun's own forum names and aliases by kind (see the module docstring).
    Raises InvalidDateError when the text names an impossible date; see the module docstring.
    """
    folded = fold_text(text)
    forums, names = _forums(folded, known)
    frequency = _find_frequency(folded)
    period = _stated_period(text)
    understood = bool(forums) or frequency is not None or period is not None
    return FollowUp(forums, names, frequency, period, understood=understood)
