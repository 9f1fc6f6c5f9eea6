"""Eskaleringar: a task that is long overdue, or a measure that has stalled, raised to someone above.

Level 1 goes to the ansvarig's chef (or the BRÅ-samordnare when no chef is known); level 2 goes to
kommunledningen. An escalation records why, when, to whom, and how it ended; it closes itself when
its cause goes away. The dedupe key names the cause and the day that cause began, so a sweep that runs
twice opens nothing twice, and a cause that returns after it went away opens a new escalation.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import StrEnumType, UTCDateTime, utcnow


class EscalationLevel(IntEnum):
    MANAGER = 1  # the ansvarig's chef or the BRÅ-samordnare
    MANAGEMENT = 2  # kommunledningen


class EscalationReason(StrEnum):
    TASK_OVERDUE = "uppgift_försenad"
    MISSED_FOLLOW_UPS = "uteblivna_rapporter"
    DELAYED_REPORTS = "försenad_i_rad"
    REPORTED_STALLED = "rapporterad_avstannad"
    PAST_END_DATE = "efter_slutdatum"
    INTERVENTION_OVERDUE = "insats_försenad"
    PERSISTING_PROBLEM = "ihållande_problem"  # EST: the same area and category above threshold N periods

    @property
    def label(self) -> str:
        """What a person reads instead of the key: "uteblivna statusrapporter", not "uteblivna_rapporter"."""
        return REASON_NAMES[self]


REASON_NAMES: dict[EscalationReason, str] = {
    EscalationReason.TASK_OVERDUE: "uppgift försenad",
    EscalationReason.MISSED_FOLLOW_UPS: "uteblivna statusrapporter",
    EscalationReason.DELAYED_REPORTS: "försenad i flera rapporter i rad",
    EscalationReason.REPORTED_STALLED: "rapporterad avstannad",
    EscalationReason.PAST_END_DATE: "slutdatum passerat",
    EscalationReason.INTERVENTION_OVERDUE: "EST-insats försenad",
    EscalationReason.PERSISTING_PROBLEM: "ihållande problem",
}


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (sa.UniqueConstraint("dedupe_key", name="uq_escalation_dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    level: int = Field(description="1: chef or BRÅ-samordnare, 2: kommunledningen")
    reason: EscalationReason = Field(sa_type=StrEnumType(EscalationReason))
    detail: str = Field(default="", max_length=2000, description="What happened, in Swedish")
    subject: str = Field(max_length=1000)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    measure_id: int | None = Field(default=None, foreign_key="measure.id", index=True)
    intervention_id: int | None = Field(default=None, foreign_key="intervention.id")
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id")
    cause_since: date = Field(description="The day the cause began: part of the dedupe key")
    opened_on: date
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_on: date | None = None
    resolution: str = Field(default="", max_length=1000)
    dedupe_key: str = Field(max_length=300)
    # The message that announced this escalation; None until the outbox has taken it.
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id", index=True)


def open_escalations(session: Session, municipality_id: int) -> list[Escalation]:
    """The kommun's escalations that have not been resolved, oldest first."""
    return list(
        session.exec(
            select(Escalation)
            .where(Escalation.municipality_id == municipality_id, col(Escalation.resolved_on).is_(None))
            .order_by(col(Escalation.opened_on), col(Escalation.id))
        )
    )
