"""EST (Effektiv samordning för trygghet): the fortnightly cycles and the insatser they decide."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import StrEnumType, UTCDateTime, utcnow


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
    judged_on: date | None = Field(
        default=None,
        description="When the EST cycle judged the closed period for persisting problems (None: not yet)",
    )
    # The meeting invitation as last sent: its SEQUENCE (RFC 5545) and what it said (start, end,
    # place). A meeting that moves gets the next sequence, so calendars update the entry they have.
    invitation_sequence: int = Field(default=0)
    invitation_fingerprint: str = Field(default="", max_length=200)


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
    place: str = Field(default="", max_length=200)
    responsible_person_id: int | None = Field(default=None, foreign_key="person.id")
    due_date: date
    state: InterventionState = Field(default=InterventionState.OPEN, sa_type=StrEnumType(InterventionState))
    closed_on: date | None = None


class EstAttendance(SQLModel, table=True):
    """Who was present at an EST meeting and who was not, as the protocol records it."""

    __tablename__ = "est_attendance"
    __table_args__ = (sa.UniqueConstraint("est_cycle_id", "person_id", name="uq_est_attendance_person"),)

    id: int | None = Field(default=None, primary_key=True)
    est_cycle_id: int = Field(foreign_key="est_cycle.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    present: bool


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


class PersistingProblem(SQLModel, table=True):
    """The same area and category above the kommun's threshold in N consecutive EST periods.

    One row per streak (key: kommun, area, category and the first period of the streak), so however
    often the flows run, a streak is raised once: one Escalation, and one item on the agenda of the
    forum the kommun's rutin names (the BRÅ or kommunledningen), with its history of periods and counts.
    """

    __tablename__ = "persisting_problem"
    __table_args__ = (sa.UniqueConstraint("dedupe_key", name="uq_persisting_problem_dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    area: str = Field(max_length=80)
    category: str = Field(max_length=40)
    first_cycle_number: int = Field(description="The first EST period of the streak")
    last_cycle_number: int = Field(description="The newest period the streak is known to hold")
    # [{"period": "EST-12", "start": "2025-05-21", "end": "2025-06-03", "count": 7}, …]
    history: list[dict[str, object]] = Field(default_factory=list, sa_type=sa.JSON)
    forum_kind: str = Field(max_length=40, description="lokala_bra or kommunledningen")
    forum_meeting_on: date | None = Field(default=None, description="The forum meeting it goes to")
    escalation_id: int | None = Field(default=None, foreign_key="escalation.id")
    opened_on: date
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_on: date | None = None
    dedupe_key: str = Field(max_length=300)


def open_persisting_problems(session: Session, municipality_id: int) -> list[PersistingProblem]:
    """The kommun's persisting problems that are not resolved, oldest first."""
    return list(
        session.exec(
            select(PersistingProblem)
            .where(
                PersistingProblem.municipality_id == municipality_id,
                col(PersistingProblem.resolved_on).is_(None),
            )
            .order_by(col(PersistingProblem.opened_on), col(PersistingProblem.id))
        )
    )
