"""Swedish numbers, half-years and plain-text tables: one implementation for every text a person reads."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from core.text import (
    MINUS,
    NBSP,
    half_year_name,
    half_year_short,
    percent_change,
    swedish_number,
    swedish_percent,
    text_table,
)


def test_numbers_have_a_decimal_comma_a_minus_sign_and_grouped_thousands() -> None:
    """31,5 not 31.5; −3 with the minus sign; 12 345 grouped (non-breaking), 1456 not."""
    assert swedish_number(31.5) == "31,5"
    assert swedish_number(6.40) == "6,4"
    assert swedish_number(3.0) == "3"
    assert swedish_number(-3) == f"{MINUS}3"
    assert swedish_number(-0.0) == "0"
    assert swedish_number(1456) == "1456"
    assert swedish_number(12345) == f"12{NBSP}345"
    assert swedish_number(2.5, decimals=2) == "2,50"
    assert swedish_percent(31.5, 1) == f"31,5{NBSP}%"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_no_number_has_a_decimal_point(value: float) -> None:
    """Whatever the value, the text has no decimal point and reads back as (about) the value."""
    text = swedish_number(value)
    assert "." not in text
    back = float(text.replace(MINUS, "-").replace(NBSP, "").replace(",", "."))
    assert abs(back - value) <= 0.005 + 1e-9 * abs(value)


def test_no_percentage_change_from_nothing() -> None:
    """A change from zero has no percentage (the caller says "ny"); others are signed and rounded."""
    assert percent_change(5, 0) is None
    assert percent_change(0, 0) is None
    assert percent_change(6, 5) == f"+20{NBSP}%"
    assert percent_change(0, 4) == f"{MINUS}100{NBSP}%"
    assert percent_change(5, 5) == f"0{NBSP}%"


def test_half_years_are_named_in_words() -> None:
    """2025H2 is "andra halvåret 2025" in text and "jul–dec 2025" on a chart axis; other labels stay."""
    assert half_year_name("2025H1") == "första halvåret 2025"
    assert half_year_name("2025h2") == "andra halvåret 2025"
    assert half_year_name("2024") == "2024"
    assert half_year_short("2025H1") == "jan–jun 2025"


def test_text_table_aligns_rows_and_wraps_within_cells() -> None:
    """A table reads across: one row per line, numbers right-aligned under their heading, a long text
    wrapped inside its column, never wider than a mail line."""
    rows = [
        ["Kategori", "Perioden", "Förändring"],
        [
            "Narkotika (misstänkt försäljning, påverkade personer, på fler ställen än förut)",
            "3",
            f"{MINUS}40{NBSP}%",
        ],
        ["Klotter", "12", "ny"],
    ]
    lines = text_table(rows).splitlines()
    assert all(len(line) <= 78 for line in lines)
    assert re.match(r"^Kategori +Perioden +Förändring$", lines[0])
    assert set(lines[1].replace(" ", "")) == {"-"}
    klotter = next(line for line in lines if line.startswith("Klotter"))
    assert klotter.endswith("ny")
    assert klotter.index("12") + 2 == lines[0].index("Perioden") + len("Perioden")
    assert sum(1 for line in lines if line.startswith(("Narkotika", " "))) >= 1
    assert len(lines) > len(rows) + 1  # the long category wrapped onto more lines
