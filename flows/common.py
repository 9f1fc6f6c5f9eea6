"""What every cycle shares: exactly-once inserts, who answers for a measure, and what a run produced.

Cycles are plain functions ``run_<cycle>(session, municipality, as_of) -> list[Event]``: they read no
clock (``as_of`` is the day the run stands on), never commit (the caller owns the transaction), and
create records only through ``insert_once``, so a cycle that runs twice, or is killed and run again,
leaves the same rows: the database's unique keys decide, not luck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from models.directory import OrganisationContact, Person, persons_with_role
from models.plan import MeasureParty, PartyRole
from samordna.settings import TIMEZONE


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


def moment_of(as_of: date, at: time = time(12, 0)) -> datetime:
    """The moment recorded for something a run on ``as_of`` did: ``at`` Europe/Stockholm, in UTC.

    Built from the run's day, never from the clock, so a simulated or repeated run records the same.
    """
    return datetime.combine(as_of, at, tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # One compiled statement, executed with many parameter sets: SQLAlchemy batches them into
    # multi-row INSERTs ("insertmanyvalues") and still hands back the RETURNING rows.
    statement = insert.on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
    inserted: set[Any] = set()
    for start in range(0, len(rows), INSERT_CHUNK):
        parameters = [
            {name: getattr(row, name) for name in columns} for row in rows[start : start + INSERT_CHUNK]
        ]
        inserted.update(session.execute(statement, parameters).scalars())
    return inserted


def bra_coordinator(session: Session, municipality_id: int) -> Person | None:
    """The kommun's BRÅ-samordnare: the fallback ansvarig and the first step for unmatched parties."""
    found = persons_with_role(session, municipality_id, "bra_samordnare")
    return found[0] if found else None


def management(session: Session, municipality_id: int) -> list[Person]:
    """Kommunledningen: the top of every escalation chain."""
    return persons_with_role(session, municipality_id, "kommunledning")


def responsible_person(session: Session, measure_id: int, municipality_id: int) -> Person | None:
    """Who is asked about a measure: the first named ansvarig person, else the contact person of the
    first named organisation, else the BRÅ-samordnare (a forum named as ansvarig, such as "Faluns
    BRÅ", is run by the BRÅ-samordnare)."""
    parties = session.exec(
        select(MeasureParty)
        .where(MeasureParty.measure_id == measure_id, MeasureParty.role == PartyRole.RESPONSIBLE)
        .order_by(col(MeasureParty.position))
    ).all()
    for party in parties:
        if party.person_id is not None:
            return session.get(Person, party.person_id)
        if party.organisation_id is not None:
            contact = session.get(OrganisationContact, party.organisation_id)
            if contact is not None:
                return session.get(Person, contact.person_id)
    return bra_coordinator(session, municipality_id)


def manager_or_coordinator(session: Session, person_id: int | None, municipality_id: int) -> Person | None:
    """Level 1 of an escalation: the person's chef, or the BRÅ-samordnare when no chef is known."""
    person = session.get(Person, person_id) if person_id is not None else None
    if person is not None and person.manager_id is not None:
        return session.get(Person, person.manager_id)
    return bra_coordinator(session, municipality_id)
