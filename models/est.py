"""EST (Effektiv samordning för trygghet): the fortnightly cycles and the insatser they decide."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import StrEnumType, UTCDateTime


class EstCycle(SQLModel, table=True):
    """One EST period and the meeting that closes it."""

    __tablename__ = "est_cycle"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "number", name="uq_est_cycle_number"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    number: int = Field(description="1 for the meeting on the rhythm's first date, then one per interval")
    period_start: date
    period_end: date
    meeting_at: datetime = Field(sa_type=UTCDateTime)


class InterventionState(StrEnum):
    OPEN = "öppen"
    DONE = "genomförd"
    CANCELLED = "avbruten"


class Intervention(SQLModel, table=True):
    """An insats decided at an EST meeting: what, where, who and by when."""

    __tablename__ = "intervention"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    est_cycle_id: int | None = Field(default=None, foreign_key="est_cycle.id")
    title: str = Field(max_length=1000)
    area: str = Field(default="", max_length=200)
    responsible_person_id: int | None = Field(default=None, foreign_key="person.id")
    due_date: date
    state: InterventionState = Field(default=InterventionState.OPEN, sa_type=StrEnumType(InterventionState))
    closed_on: date | None = None


def est_cycle_by_number(session: Session, municipality_id: int, number: int) -> EstCycle | None:
    return session.exec(
        select(EstCycle).where(EstCycle.municipality_id == municipality_id, EstCycle.number == number)
    ).first()


def open_interventions(session: Session, municipality_id: int) -> list[Intervention]:
    """Insatser not yet done or cancelled, by due date."""
    return list(
        session.exec(
            select(Intervention)
            .where(
                Intervention.municipality_id == municipality_id, Intervention.state == InterventionState.OPEN
            )
            .order_by(col(Intervention.due_date), col(Intervention.id))
        )
    )
