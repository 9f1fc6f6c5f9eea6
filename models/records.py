"""Records every run leaves exactly once, and the events a run reports.

Cycles and the outbox create rows only through ``insert_once`` and ``insert_many``: a run that is
repeated, or killed and run again, leaves the same rows, because the database's unique keys decide.
These live beside the models (not in flows/) so that notifications/ can use them without importing
flows/: imports run one way, CLI → flows → notifications → models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

    On PostgreSQL one ``INSERT … SELECT … FROM unnest(<one array per column>) ON CONFLICT (key) DO
    NOTHING RETURNING key`` per ``ARRAY_CHUNK`` rows: a parameter per column however many rows (a
    multi-row VALUES list costs the driver more to prepare than the server to run). On SQLite a
    multi-row ``INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING`` per ``INSERT_CHUNK`` rows. The
    values of ``key`` this call inserted.
    """
    if not rows:
        return set()
    core: sa.Table = table if isinstance(table, sa.Table) else table.__table__  # type: ignore[attr-defined]
    if is_postgresql(session):
        return _insert_arrays(session, core, rows, key)
    # One compiled statement, executed with many parameter sets: SQLAlchemy batches them into
    # multi-row INSERTs ("insertmanyvalues") and still hands back the RETURNING rows.
    statement = sqlite.insert(core).on_conflict_do_nothing(index_elements=[key]).returning(core.c[key])
    inserted: set[Any] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        parameters = rows[start : start + INSERT_CHUNK]
        check_values(core, parameters)
        inserted.update(session.execute(statement, list(parameters)).scalars())
    return inserted


ARRAY_CHUNK = 20_000  # rows per unnest INSERT: a few MB of parameters


def _insert_arrays(session: Session, core: sa.Table, rows: Sequence[Mapping[str, Any]], key: str) -> set[Any]:
    names = list(rows[0])
    inserted: set[Any] = set()
    for start in range(0, len(rows), ARRAY_CHUNK):
        chunk = rows[start : start + ARRAY_CHUNK]
        check_values(core, chunk)
        arrays = [
            sa.cast(
                sa.bindparam(
                    f"column_{number}",
                    [row[name] for row in chunk],
                    type_=postgresql.ARRAY(core.c[name].type),
                ),
                postgresql.ARRAY(core.c[name].type),
            )
            for number, name in enumerate(names)
        ]
        source = sa.select(sa.func.unnest(*arrays).table_valued(*names, name="given").render_derived())
        statement = (
            postgresql.insert(core)
            .from_select(names, source)
            .on_conflict_do_nothing(index_elements=[key])
            .returning(core.c[key])
        )
        inserted.update(session.execute(statement).scalars())
    return inserted


def is_postgresql(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN values`` for many values: on PostgreSQL ``column = ANY(<one array parameter>)``, which
    the driver prepares as fast for 10,000 values as for one; on SQLite ``IN (…)`` (callers keep the
    list under SQLite's limit on parameters)."""
    found: sa.ColumnElement[Any] = column  # a column, or the Mapped attribute sqlmodel's col() gives
    if is_postgresql(session):
        array = postgresql.ARRAY(found.type)
        return found == sa.any_(sa.cast(sa.bindparam(None, list(values), type_=array), array))
    return found.in_(list(values))


def fill_once(session: Session, table: sa.Table, column: str, values_by_id: Mapping[int, Any]) -> None:
    """Set ``column`` of the rows of ``table`` whose id is a key of ``values_by_id`` to its value, where
    the column is still NULL (a row another writer filled keeps its value): one ``UPDATE … FROM`` over
    the pairs (``unnest`` of two arrays on PostgreSQL, a ``VALUES`` list per ``INSERT_CHUNK`` pairs on
    SQLite). Never commits."""
    pairs = sorted(values_by_id.items())
    target = table.c[column]
    value_type = target.type
    steps = (
        [pairs]
        if is_postgresql(session)
        else [pairs[i : i + INSERT_CHUNK] for i in range(0, len(pairs), INSERT_CHUNK)]
    )
    for step in steps:
        if not step:
            continue
        given: sa.TableValuedAlias | sa.CTE
        if is_postgresql(session):
            ids = postgresql.ARRAY(sa.Integer)
            values = postgresql.ARRAY(value_type)
            given = (
                sa.func.unnest(
                    sa.cast(sa.bindparam("row_ids", [row_id for row_id, _ in step], type_=ids), ids),
                    sa.cast(sa.bindparam("row_values", [value for _, value in step], type_=values), values),
                )
                .table_valued("row_id", "row_value", name="given")
                .render_derived()
            )
        else:
            # WITH given(row_id, row_value) AS (VALUES …): SQLite names a VALUES list's columns this way.
            given = (
                sa.values(sa.column("row_id", sa.Integer), sa.column("row_value", value_type), name="given")
                .data(step)
                .cte("given")
            )
        session.execute(
            sa.update(table)
            .where(table.c.id == given.c.row_id, target.is_(None))
            .values({column: given.c.row_value})
        )
