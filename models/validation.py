"""One validation for both databases: a value SQLite would store and PostgreSQL refuse is refused first.

SQLite stores a NUL character and a text longer than its column's declared length; PostgreSQL refuses
both (``invalid byte sequence for encoding "UTF8": 0x00``, ``value too long for type character
varying(4000)``). So the same file imported on SQLite and crashed on PostgreSQL. Here the schema is the
rule: every ``String(length)`` column holds at most ``length`` characters, and no text anywhere (also
inside JSON columns) holds a NUL, checked before any row is written on either database.

Importers call ``row_problems`` on the rows they are about to write and name the file, row and column
(see ``importers.problems``). Beneath them, ``guard`` runs before every ORM flush of every session, and
``check_values`` before the core inserts of ``models.records``, so no path writes what one database
would refuse: it raises ``StoredValueError`` (Swedish, naming table and column, never the value).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

__all__ = ["NUL", "StoredValueError", "ValueProblem", "check_values", "column_length", "row_problems"]

NUL = "\x00"
NUL_MESSAGE = "texten innehåller ett NUL-tecken"


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """A value one database would refuse: which column, and why (Swedish, without the value)."""

    table: str
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.message}"


class StoredValueError(ValueError):
    """A row about to be written holds a value the schema does not allow; nothing was written."""

    def __init__(self, problems: list[ValueProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def column_length(model: type[SQLModel], column: str) -> int | None:
    """The declared length of ``model``'s text column ``column`` (None: unlimited, or not text)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    length = getattr(table.c[column].type, "length", None)
    return length if isinstance(length, int) else None


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


@functools.cache
def _text_limits(table: sa.Table) -> tuple[tuple[str, int | None], ...]:
    """Each column of ``table`` with its declared text length (None: unlimited, or not text)."""
    return tuple(
        (column.name, length if isinstance(length := getattr(column.type, "length", None), int) else None)
        for column in table.columns
    )


def _problems(table: sa.Table, values: Mapping[str, Any]) -> list[ValueProblem]:
    # Called for every row a national sweep writes (some hundred thousand values at once): plain
    # checks inline, a call only for the rare nested value, the messages built only on a problem.
    found: list[ValueProblem] = []
    for name, limit in _text_limits(table):
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            if NUL in value:
                found.append(ValueProblem(table.name, name, NUL_MESSAGE))
            elif limit is not None and len(value) > limit:
                found.append(
                    ValueProblem(table.name, name, f"texten är {len(value)} tecken; högst {limit} får plats")
                )
        elif isinstance(value, Mapping | list | tuple) and _holds_nul(value):
            found.append(ValueProblem(table.name, name, NUL_MESSAGE))
    return found


def row_problems(row: SQLModel) -> list[ValueProblem]:
    """What in ``row`` (a table model) one of the databases would refuse."""
    table: sa.Table = row.__table__  # type: ignore[attr-defined]
    return _problems(table, {column.name: getattr(row, column.name, None) for column in table.columns})


def check_values(table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Raise StoredValueError when any of ``rows`` (column → value) holds what a database would refuse."""
    found = [problem for values in rows for problem in _problems(table, values)]
    if found:
        raise StoredValueError(found)


def guard(session: Session, _context: object, _instances: object) -> None:
    """Before a flush: refuse the new and changed rows that hold what a database would refuse."""
    found = [
        problem
        for row in (*session.new, *session.dirty)
        if isinstance(row, SQLModel) and hasattr(row, "__table__")
        for problem in row_problems(row)
    ]
    if found:
        raise StoredValueError(found)


event.listen(Session, "before_flush", guard)
