"""Runs of a cycle for a kommun never overlap: a lock row per cycle and kommun, held by the transaction.

Every door runs a cycle for a kommun in a transaction (``services.cycles``): the command line, the
simulation, a Prefect chunk on any worker. The transaction first takes ``lock_runs``: an
``INSERT … ON CONFLICT DO UPDATE`` of the row (cycle, kommun), in kommun order. On PostgreSQL that row
stays locked until the transaction ends, so a second run of the same cycle for the same kommun (another
worker's chunk, a manual ``samordna run``) waits for the first to commit, then reads what it wrote and
finds nothing left to do; runs of other cycles or other kommuner do not wait. On SQLite the write takes
the database's single writer lock, with the same effect (there every writer waits). Locks are taken in
ascending kommun order, so two chunks that share kommuner cannot deadlock. The row also records when
the cycle last started for the kommun (``started_at``), which an operator can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from models.records import prepared
from models.types import UTCDateTime


class CycleRunLock(SQLModel, table=True):
    __tablename__ = "cycle_run_lock"

    cycle: str = Field(primary_key=True, max_length=40, description="The cycle's name: daglig, est, …")
    municipality_id: int = Field(primary_key=True, foreign_key="municipality.id")
    started_at: datetime = Field(sa_type=UTCDateTime, description="When a run of it last began")


@prepared
def _take_lock(dialect: str) -> sa.Insert:
    """The upsert of one lock row, built once per kind of database (every cycle run takes one)."""
    table: sa.Table = CycleRunLock.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.values(
        cycle=sa.bindparam("cycle"),
        municipality_id=sa.bindparam("municipality_id"),
        started_at=sa.bindparam("started_at", type_=table.c.started_at.type),
    ).on_conflict_do_update(
        index_elements=["cycle", "municipality_id"], set_={"started_at": insert.excluded.started_at}
    )


def lock_runs(session: Session, cycle: str, municipality_ids: Sequence[int], now: datetime) -> None:
    """Hold the run lock of ``cycle`` for each kommun until the session's transaction ends (waiting for
    a transaction that holds one of them). Never commits."""
    ids = sorted(set(municipality_ids))
    if not ids:
        return
    # One row after the other, in kommun order: the order in which the locks are taken.
    session.execute(
        _take_lock(session),
        [{"cycle": cycle, "municipality_id": municipality_id, "started_at": now} for municipality_id in ids],
    )
