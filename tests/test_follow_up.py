"""Tests for importers.follow_up: forums, frequency and stated period of an "Uppföljning" text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importers.follow_up import FollowUp, parse_follow_up
from importers.periods import InvalidDateError, Period
from models.enums import FollowUpFrequency, ForumKind

BRA = ForumKind.LOCAL_BRA
KS = ForumKind.MUNICIPAL_BOARD
LEDNING = ForumKind.MUNICIPAL_MANAGEMENT
EST = ForumKind.EST_GROUP
STYR = ForumKind.STEERING_GROUP
F = FollowUpFrequency
D = date


def dated(start: date | None, end: date | None, *, recurring: bool = False, ongoing: bool = False) -> Period:
    return Period(start, end, ongoing=ongoing, recurring=recurring, understood=True)


def follow_up(
    forums: tuple[ForumKind, ...] = (),
    names: tuple[str, ...] = (),
    frequency: FollowUpFrequency | None = None,
    period: Period | None = None,
) -> FollowUp:
    understood = bool(forums) or frequency is not None or period is not None
    return FollowUp(forums, names, frequency, period, understood=understood)


NOT_UNDERSTOOD = FollowUp((), (), None, None, understood=False)
FALUN_DEFAULT = "Faluns BRÅ och Kommunstyrelsen en gång per halvår."

# Every follow-up text in the seeds: Falun's and Orsa's "Uppföljning" cells, Falun's HTML cell
# split over two rows (and joined), the plan-level sentences naming forums and rhythms, and the
# stadsdel template's OCR text stating rhythms.
SEED_FOLLOW_UPS = [
    # Falun, "Uppföljning"
    (FALUN_DEFAULT, follow_up((BRA, KS), ("Faluns BRÅ", "Kommunstyrelsen"), F.HALF_YEARLY)),
    ("Vid styrgruppsmöten för", follow_up((STYR,), ("styrgruppsmöten",), F.PER_MEETING)),
    ("Tillsammans för varje barn.", NOT_UNDERSTOOD),
    (
        "Vid styrgruppsmöten för Tillsammans för varje barn.",
        follow_up((STYR,), ("styrgruppsmöten för Tillsammans för varje barn",), F.PER_MEETING),
    ),
    (
        "Styrgruppen för tillsammans för varje barn",
        follow_up((STYR,), ("Styrgruppen för tillsammans för varje barn",)),
    ),
    ("", NOT_UNDERSTOOD),
    # Falun, plan text
    (
        (
            "Uppföljning av åtgärdsplanen genomförs vid ett tillfälle per halvår i Faluns"
            " brottsförebyggande råd samt i en mer övergripande form i Kommunstyrelsen"
            " vid ett tillfälle per halvår."
        ),
        follow_up((BRA, KS), ("Faluns brottsförebyggande råd", "Kommunstyrelsen"), F.HALF_YEARLY),
    ),
    (
        (
            "En rutin finns om när problembilden ska lyftas till Faluns brottsförebyggande råd och/eller"
            " kommunledningen för beslut om mer omfattande insatser."
        ),
        follow_up((BRA, LEDNING), ("Faluns brottsförebyggande råd", "kommunledningen")),
    ),
    # Orsa, "Uppföljning"
    ("Sept. 2024", follow_up(period=dated(D(2024, 9, 1), D(2024, 9, 30)))),
    ("Hösten 2024", follow_up(period=dated(D(2024, 8, 1), D(2024, 12, 31)))),
    ("Okt. 2024", follow_up(period=dated(D(2024, 10, 1), D(2024, 10, 31)))),
    ("Lokala BRÅ Orsa", follow_up((BRA,), ("Lokala BRÅ Orsa",))),
    ("Kommunikation", NOT_UNDERSTOOD),
    ("Löpande rapportering till lokala BRÅ Orsa", follow_up((BRA,), ("lokala BRÅ Orsa",), F.CONTINUOUS)),
    ("2025", follow_up(period=dated(D(2025, 1, 1), D(2025, 12, 31)))),
    ("Uppstart höst 2024", follow_up(period=dated(D(2024, 8, 1), None))),
    # Orsa, plan facts
    ("Beslutad av: Kommunstyrelsen, § 104", follow_up((KS,), ("Kommunstyrelsen",))),
    ("Vid behov", NOT_UNDERSTOOD),
    # Stadsdel template (OCR: å/ä/ö lost)
    ("Tema en\ngang per ar pa alla", follow_up(frequency=F.YEARLY)),
    ("Delta pa manadsmoten hos pensiondrsorganisationer arligen.", follow_up(frequency=F.YEARLY)),
    ("staende punkt pa agendan", follow_up(frequency=F.PER_MEETING)),
    ("Linjearbete", NOT_UNDERSTOOD),
]


@pytest.mark.parametrize(("text", "expected"), SEED_FOLLOW_UPS)
def test_seed_follow_ups(text: str, expected: FollowUp) -> None:
    """Every follow-up text of the seed plans reads to exactly the expected follow-up."""
    assert parse_follow_up(text) == expected


@pytest.mark.parametrize(
    ("text", "forums", "names"),
    [
        ("Brå", (BRA,), ("Brå",)),
        ("BRA", (BRA,), ("BRA",)),
        ("brottsförebyggande rådet", (BRA,), ("brottsförebyggande rådet",)),
        ("Rapport till Orsas lokala BRÅ", (BRA,), ("Orsas lokala BRÅ",)),
        ("Rapporteras till lokala Brå en gång per år", (BRA,), ("lokala Brå",)),
        ("lokala Brå hösten 2025", (BRA,), ("lokala Brå",)),
        ("Lokala BRÅ Sept. 2024", (BRA,), ("Lokala BRÅ",)),
        ("Lokala BRÅ Löpande", (BRA,), ("Lokala BRÅ",)),
        ("Faluns BRÅ Kommunstyrelsen", (BRA, KS), ("Faluns BRÅ", "Kommunstyrelsen")),
        ("BRÅ Orsa\nKS", (BRA, KS), ("BRÅ Orsa", "KS")),
        ("KS", (KS,), ("KS",)),
        ("Redovisas för KS.", (KS,), ("KS",)),
        ("kommunstyrelsen", (KS,), ("kommunstyrelsen",)),
        ("Kommunledningen", (LEDNING,), ("Kommunledningen",)),
        ("kommundirektören", (LEDNING,), ("kommundirektören",)),
        ("Kommundirektör", (LEDNING,), ("Kommundirektör",)),
        ("EST", (EST,), ("EST",)),
        ("EST-gruppen", (EST,), ("EST-gruppen",)),
        ("på EST-möte", (EST,), ("EST-möte",)),
        ("styrgruppen", (STYR,), ("styrgruppen",)),
        ("SSPF-styrgruppen, varje kvartal", (STYR,), ("SSPF-styrgruppen",)),
        ("Styrgruppen för SSPF och KS", (STYR, KS), ("Styrgruppen för SSPF", "KS")),
        ("Kommunstyrelsen och Faluns BRÅ", (KS, BRA), ("Kommunstyrelsen", "Faluns BRÅ")),
        ("BRÅ, KS och lokala BRÅ Orsa", (BRA, KS), ("BRÅ", "KS")),
        (
            "EST-gruppen lyfter till BRÅ och kommunledningen",
            (EST, BRA, LEDNING),
            ("EST-gruppen", "BRÅ", "kommunledningen"),
        ),
    ],
)
def test_forums_and_names(text: str, forums: tuple[ForumKind, ...], names: tuple[str, ...]) -> None:
    """Forums are recognised in order of first mention, one per kind, with the phrase as written."""
    result = parse_follow_up(text)
    assert result.forums == forums
    assert result.forum_names == names


@pytest.mark.parametrize(
    "text",
    [
        "Det fungerar bra",
        "Bra",
        "BRÅ-samordnare",
        "BRÅ-samordnaren rapporterar",
        "est",
        "tks",
        "Kommunikation",
        "kommunens hemsida",
    ],
)
def test_ordinary_words_are_not_forums(text: str) -> None:
    """ "bra" (good), "est", a BRÅ-samordnare (a person) and "Kommunikation" are not forums."""
    assert parse_follow_up(text).forums == ()


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("en gång per halvår", F.HALF_YEARLY),
        ("varje halvår", F.HALF_YEARLY),
        ("halvårsvis", F.HALF_YEARLY),
        ("två gånger per år", F.HALF_YEARLY),
        ("2 ggr/år", F.HALF_YEARLY),
        ("vid ett tillfälle per halvår", F.HALF_YEARLY),
        ("en gång per termin", F.HALF_YEARLY),
        ("en gång om året", F.YEARLY),
        ("en gång per år", F.YEARLY),
        ("årligen", F.YEARLY),
        ("årsvis", F.YEARLY),
        ("varje år", F.YEARLY),
        ("1 gång/år", F.YEARLY),
        ("kvartalsvis", F.QUARTERLY),
        ("per kvartal", F.QUARTERLY),
        ("fyra gånger per år", F.QUARTERLY),
        ("tertialvis", F.TERTIAL),
        ("per tertial", F.TERTIAL),
        ("tre gånger per år", F.TERTIAL),
        ("månadsvis", F.MONTHLY),
        ("varje månad", F.MONTHLY),
        ("en gång i månaden", F.MONTHLY),
        ("tolv gånger per år", F.MONTHLY),
        ("12 ggr per år", F.MONTHLY),
        ("löpande", F.CONTINUOUS),
        ("kontinuerligt", F.CONTINUOUS),
        ("fortlöpande", F.CONTINUOUS),
        ("vid ordinarie möten", F.PER_MEETING),
        ("vid varje möte", F.PER_MEETING),
        ("vid möte", F.PER_MEETING),
        ("en gång", F.ONCE),
        ("HALVARSVIS", F.HALF_YEARLY),
        ("en gang per halvar", F.HALF_YEARLY),
    ],
)
def test_frequencies(text: str, frequency: FollowUpFrequency) -> None:
    """Each way of writing a rhythm maps to its FollowUpFrequency."""
    assert parse_follow_up(text) == follow_up(frequency=frequency)


@pytest.mark.parametrize(
    "text",
    ["1-2 gånger per år", "två till tre gånger per år", "varje vecka", "5 dagar/vecka", "i år", "Vid behov"],
)
def test_counts_without_a_known_rhythm_are_no_frequency(text: str) -> None:
    """A range of counts or a rhythm without a FollowUpFrequency gives no frequency."""
    assert parse_follow_up(text).frequency is None


def test_first_stated_rhythm_wins() -> None:
    """When several rhythms are written, the first one that names a frequency is taken."""
    assert (
        parse_follow_up("1-2 gånger per år, sammanställning kvartalsvis och årligen").frequency == F.QUARTERLY
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Lokala BRÅ senast hösten 2025",
            follow_up((BRA,), ("Lokala BRÅ",), None, dated(None, D(2025, 12, 31))),
        ),
        (
            "KS halvårsvis från 2025",
            # "från 2025" without an end is ongoing from 2025 (issue 14).
            follow_up(
                (KS,), ("KS",), F.HALF_YEARLY, dated(D(2025, 1, 1), None, recurring=True, ongoing=True)
            ),
        ),
        ("Pågående", NOT_UNDERSTOOD),
        ("årsskiftet 2024/2025", NOT_UNDERSTOOD),
    ],
)
def test_period_is_kept_only_when_a_time_is_stated(text: str, expected: FollowUp) -> None:
    """The period is kept when parse_period finds a start or an end, and left None otherwise."""
    assert parse_follow_up(text) == expected


def test_impossible_date_propagates() -> None:
    """An impossible date in the follow-up text raises InvalidDateError."""
    with pytest.raises(InvalidDateError, match='"31/4 2025" är inget giltigt datum'):
        parse_follow_up("Lokala BRÅ 31/4 2025")


# ---------------------------------------------------------------------------------------------
# Properties.

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)
COUNTS = {"en": 1, "1": 1, "två": 2, "2": 2, "tre": 3, "3": 3, "fyra": 4, "4": 4, "tolv": 12}
UNITS = {"år": 1, "året": 1, "halvår": 2, "termin": 2, "tertial": 3, "kvartal": 4, "månad": 12, "månaden": 12}
EXPECTED = {1: F.YEARLY, 2: F.HALF_YEARLY, 3: F.TERTIAL, 4: F.QUARTERLY, 12: F.MONTHLY}
FORUM_PHRASES = {
    BRA: "Faluns BRÅ",
    KS: "Kommunstyrelsen",
    LEDNING: "kommunledningen",
    EST: "EST-gruppen",
    STYR: "styrgruppen",
}


@PROPERTY_SETTINGS
@given(
    st.sampled_from(sorted(COUNTS)),
    st.sampled_from(["gång", "gånger", "ggr", "tillfälle"]),
    st.sampled_from([" per ", "/", " om ", " i "]),
    st.sampled_from(sorted(UNITS)),
)
def test_count_per_unit_is_times_per_year(count: str, noun: str, connector: str, unit: str) -> None:
    """ "N gånger per unit" maps N × units per year to its frequency, or to none."""
    expected = EXPECTED.get(COUNTS[count] * UNITS[unit])
    assert parse_follow_up(f"{count} {noun}{connector}{unit}").frequency == expected


@PROPERTY_SETTINGS
@given(st.permutations(sorted(FORUM_PHRASES)), st.integers(1, 5), st.sampled_from([" och ", ", ", " samt "]))
def test_forums_follow_order_of_mention(kinds: list[ForumKind], count: int, separator: str) -> None:
    """Forums and their names come out in the order they are written, whatever that order."""
    chosen = tuple(kinds[:count])
    result = parse_follow_up(separator.join(FORUM_PHRASES[kind] for kind in chosen))
    assert result.forums == chosen
    assert result.forum_names == tuple(FORUM_PHRASES[kind] for kind in chosen)


@PROPERTY_SETTINGS
@given(
    st.integers(1990, 2100),
    st.sampled_from(
        [("hösten", (8, 1), (12, 31)), ("Våren", (1, 1), (6, 30)), ("sommaren", (6, 1), (8, 31))]
    ),
)
def test_stated_term_becomes_the_period(
    year: int, term: tuple[str, tuple[int, int], tuple[int, int]]
) -> None:
    """A forum with a term and year keeps the forum and reads the term as the period."""
    word, first, last = term
    result = parse_follow_up(f"Lokala BRÅ Orsa, {word} {year}")
    assert result == follow_up((BRA,), ("Lokala BRÅ Orsa",), None, dated(D(year, *first), D(year, *last)))


@settings(max_examples=120, deadline=None)
@given(st.text())
def test_arbitrary_text_is_consistent(text: str) -> None:
    """Any text gives aligned, duplicate-free forums, and understood exactly when something was found."""
    try:
        result = parse_follow_up(text)
    except InvalidDateError:
        return
    assert len(result.forums) == len(result.forum_names) == len(set(result.forums))
    assert result.understood == bool(result.forums or result.frequency or result.period)
    assert all(name.strip() == name and name for name in result.forum_names)
