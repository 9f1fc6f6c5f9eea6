"""The alias table and the matching of free-text ansvariga."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.columns import ALIASES, Field, match_column, parse_mapping
from importers.parties import DirectoryEntry, DirectoryIndex, PartyKind

# Every column name the three seed plans use, as written (the template's OCR-damaged ones too).
SEED_HEADERS = [
    ("Åtgärd", Field.MEASURE),
    ("Tid", Field.PERIOD),
    ("Omfattning", Field.SCOPE),
    ("Ansvariga", Field.RESPONSIBLE),
    ("Ansvarig", Field.RESPONSIBLE),
    ("Kostnad", Field.COST),
    ("Mål", Field.GOAL),
    ("Uppföljning", Field.FOLLOW_UP),
    ("Samverkan", Field.PARTNERS),
    ("Prioriterat omrade", Field.FOCUS_AREA),
    ("Problemomrade", Field.PROBLEM),
    ("Orsak", Field.CAUSE),
    ("Atgard", Field.MEASURE),
    ("Operativa mal", Field.GOAL),
    ("Nar", Field.PERIOD),
    ("Uppfoljning", Field.FOLLOW_UP),
    ("Fokusområde", Field.FOCUS_AREA),
]


@pytest.mark.parametrize(("header", "field"), SEED_HEADERS)
def test_every_seed_header_is_known(header: str, field: Field) -> None:
    """Every column name in the seed plans maps to its concept without --map."""
    assert match_column(header).field is field
    assert not match_column(header).fuzzy


@given(
    alias=st.sampled_from([(alias, field) for field, names in ALIASES.items() for alias in names]),
    upper=st.booleans(),
    padding=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_aliases_match_in_any_case_and_spacing(alias: tuple[str, Field], upper: bool, padding: str) -> None:  # noqa: FBT001 - hypothesis passes by name
    """An alias matches whatever its case and surrounding white space."""
    name, field = alias
    header = f"{padding}{name.upper() if upper else name}{padding}"
    assert match_column(header).field is field


def test_near_miss_is_matched_and_marked() -> None:
    """An OCR near miss ("Atgird") maps to its concept and is marked fuzzy, so the summary can say so."""
    found = match_column("Atgird")
    assert (found.field, found.fuzzy) == (Field.MEASURE, True)
    assert match_column("Färg").field is None


def test_mapping_wins_over_aliases() -> None:
    """--map decides what a header means, even one the alias table knows."""
    mapping = parse_mapping(["Tid=uppföljning", "Vad ska göras=Åtgärd"])
    assert match_column("TID", mapping).field is Field.FOLLOW_UP
    assert match_column("VAD SKA GORAS", mapping).field is Field.MEASURE


def test_parties_found_in_prose_and_unmatched_listed() -> None:
    """Named parties are found by alias across dashes and 'och'; unknown list items are reported."""
    index = DirectoryIndex(
        [
            DirectoryEntry(PartyKind.ORGANISATION, 1, "Falu kommun", ("kommunen",)),
            DirectoryEntry(PartyKind.ORGANISATION, 2, "Arbetslivs- och socialförvaltningen", ()),
            DirectoryEntry(PartyKind.PERSON, 3, "Anna Lindqvist", ("BRÅ-samordnare",)),
            DirectoryEntry(PartyKind.FORUM, 4, "Faluns BRÅ", ("BRÅ",)),
        ]
    )
    found = index.match(
        "Falu kommun (Faluns BRÅ sammankallar), Arbetslivs- och socialförvaltningen, andra bostadsbolag, "
        "BRÅ-samordnare m.fl."
    )
    assert [entry.id for entry in found.entries] == [1, 4, 2, 3]
    assert found.unmatched == ("andra bostadsbolag",)


@pytest.mark.parametrize(
    ("header", "field", "head"),
    [
        ("Ansvarig enhet", Field.RESPONSIBLE, "ansvar"),
        ("Ansvarsfördelning", Field.RESPONSIBLE, "ansvar"),
        ("Tidplan för genomförande", Field.PERIOD, "tid"),
        ("När sker det", Field.PERIOD, "när"),
        ("Målsättning", Field.GOAL, "mål"),
        ("Uppföljningsansvar", Field.FOLLOW_UP, "uppfölj"),
        ("Samverkanspartners och aktörer", Field.PARTNERS, "samverk"),
        ("Åtgärd/aktivitet i detalj", Field.MEASURE, "åtgärd"),
    ],
)
def test_a_header_with_a_fields_head_word_maps_to_it(header: str, field: Field, head: str) -> None:
    """A header none of the aliases names maps by the head word its first word begins with."""
    match = match_column(header)
    assert (match.field, match.head_word) == (field, head)


@pytest.mark.parametrize(
    "header",
    [
        "Målgrupp för insatsen",
        "Närvaro",
        "Trygghetsskapande åtgärder",
        "Tidigare beslut",
        "Kommentar om ansvar",
    ],
)
def test_words_that_only_look_like_head_words_do_not_map(header: str) -> None:
    """Målgrupp, närvaro, a head word in a later word, or a longer text: no head-word mapping."""
    assert match_column(header).head_word == ""
