"""Records every run leaves exactly once, and the events a run reports.

Cycles and the outbox create rows only through ``insert_once`` and ``insert_many``: a run that is
repeated, or killed and run again, leaves the same rows, because the database's unique keys decide.
These live beside the models (not in flows/) so that notifications/ can use them without importing
flows/: imports run one way, CLI → flows → notifications → models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from models.validation import check_values


@dataclass(frozen=True, slots=True)
class Event:
    """Something a cycle created: a task, a reminder, an escalation opened or resolved, a round compiled.

    The simulation prints these as its timeline; ``recipient`` is a person's name, never case data.
    """

    when: date
    kind: str  # "uppgift", "påminnelse", "eskalering", "eskalering löst", "uppgift klar", "sammanställning"
    subject: str
    recipient: str = ""
    level: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "när": self.when.isoformat(),
            "typ": self.kind,
            "mottagare": self.recipient,
            "ämne": self.subject,
            "nivå": self.level,
        }


def count_events(events: Sequence[Event]) -> dict[str, int]:
    """How many events of each kind: what a run reports (no names, no subjects)."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    return counts


def insert_once(session: Session, row: SQLModel, *, key: str | Sequence[str]) -> bool:
    """Insert ``row`` unless a row with the same values in the unique column(s) ``key`` exists.

    ``INSERT … ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL: two sweeps racing each other
    both succeed and exactly one row results. Returns True when this call inserted the row.
    """
    table = row.__table__  # type: ignore[attr-defined]
    values = {
        column.name: getattr(row, column.name)
        for column in table.columns
        if not (column.primary_key and getattr(row, column.name) is None)
    }
    check_values(table, [values])
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # RETURNING tells whether this statement inserted: rowcount is -1 on PostgreSQL when SQLAlchemy
    # adds its own RETURNING, so it cannot be trusted on both databases.
    statement = (
        insert.values(**values)
        .on_conflict_do_nothing(index_elements=[key] if isinstance(key, str) else list(key))
        .returning(sa.literal(1))
    )
    return session.execute(statement).first() is not None


INSERT_CHUNK = 500  # rows per statement: well inside SQLite's and PostgreSQL's parameter limits


def insert_many(session: Session, rows: Sequence[SQLModel], *, key: str) -> set[Any]:
    """``insert_once`` for many rows of one table, a statement per ``INSERT_CHUNK`` rows.

    Returns the values of the unique column ``key`` of the rows this call inserted: the caller reports
    events for exactly those, and nothing for rows that already existed.
    """
    if not rows:
        return set()
    table = rows[0].__table__  # type: ignore[attr-defined]
    columns = [column.name for column in table.columns if not column.primary_key]
    return insert_values(
        session, table, [{name: getattr(row, name) for name in columns} for row in rows], key=key
    )


def insert_values(
    session: Session, table: sa.Table | type[SQLModel], rows: Sequence[Mapping[str, Any]], *, key: str
) -> set[Any]:
    """``insert_many`` for rows given as plain values (column → value, the same columns in every row):
    no ORM object is built, so a sweep writing thousands of rows pays only for the statement.

    ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING key``, a statement per ``INSERT_CHUNK`` rows; the
    values of ``key`` this call inserted.
    """
    if not rows:
        return set()
    core: sa.Table = table if isinstance(table, sa.Table) else table.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(core) if dialect == "postgresql" else sqlite.insert(core)
    # One compiled statement, executed with many parameter sets: SQLAlchemy batches them into
    # multi-row INSERTs ("insertmanyvalues") and still hands back the RETURNING rows.
    statement = insert.on_conflict_do_nothing(index_elements=[key]).returning(core.c[key])
    inserted: set[Any] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        parameters = rows[start : start + INSERT_CHUNK]
        check_values(core, parameters)
        inserted.update(session.execute(statement, list(parameters)).scalars())
    return inserted
