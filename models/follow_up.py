"""Uppföljningsomgångar: one round of status reports for the åtgärdsplan, due before a forum meets."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.directory import Forum, ForumMeeting
from models.types import UTCDateTime


class FollowUpRound(SQLModel, table=True):
    """A follow-up round (``2025H1``): its tasks are due on ``due_date``; compiled when due."""

    __tablename__ = "follow_up_round"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "period_label", name="uq_follow_up_round_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    period_label: str = Field(max_length=20)
    forum_meeting_id: int | None = Field(default=None, foreign_key="forum_meeting.id")
    meeting_date: date
    due_date: date
    compiled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reported_count: int = 0
    missing_count: int = 0


def rounds(session: Session, municipality_id: int) -> list[FollowUpRound]:
    """The kommun's follow-up rounds, oldest first."""
    return list(
        session.exec(
            select(FollowUpRound)
            .where(FollowUpRound.municipality_id == municipality_id)
            .order_by(col(FollowUpRound.meeting_date))
        )
    )


def round_forum_name(session: Session, round_: FollowUpRound) -> str | None:
    """The name of the forum whose meeting the round serves, or None when it serves no known meeting."""
    if round_.forum_meeting_id is None:
        return None
    return session.exec(
        select(Forum.name)
        .join(ForumMeeting, col(ForumMeeting.forum_id) == col(Forum.id))
        .where(ForumMeeting.id == round_.forum_meeting_id)
    ).first()
