"""The schema's text limits, said with the place in the file: the same refusal on SQLite and PostgreSQL.

``models.validation`` refuses every over-long text and NUL before any write, naming table and column;
an importer checks its own values first with ``too_long``, so the coordinator reads the file, sheet, row
and column instead.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from core.text import swedish_number
from importers.problems import Location, Problem
from models.validation import NUL, column_length

__all__ = ["too_long"]


def too_long(where: Location, model: type[SQLModel], column: str, text: str) -> Problem | None:
    """A problem at ``where`` when ``text`` cannot be stored in ``model.column`` (longer than the column,
    or holding a NUL); None when it can."""
    if NUL in text:
        return Problem(where, "texten innehåller ett NUL-tecken, som inte kan sparas.")
    limit = column_length(model, column)
    if limit is None or len(text) <= limit:
        return None
    return Problem(
        where,
        f"texten är {swedish_number(len(text))} tecken; högst {swedish_number(limit)} får plats.",
    )
