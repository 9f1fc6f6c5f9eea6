"""The outbox: every message Samordna sends, written in the same transaction as what caused it.

A message is a fixed text (rendered when it is written) to one person. Its dedupe key is unique, so
writing it twice is a no-op. Delivery moves it PENDING → SENDING → SENT, or back to PENDING with a
later ``next_attempt_at`` after a failed attempt, or to FAILED after the last attempt. A message found
in SENDING after its lease ran out was being sent by a process that died: its fate is UNKNOWN, and it
is not sent again blindly (see notifications/delivery.py for the semantics). A message whose subject
matter was settled before its turn came is OBSOLETE and never sent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import StrEnumType, UTCDateTime, utcnow


class MessageKind(StrEnum):
    DIGEST = "sammandrag"  # one per recipient and working day: due and overdue items
    ESCALATION = "eskalering"  # always on its own, marked as such
    FALLBACK = "reservkanal"  # to the coordinator when a message could not be delivered
    OTHER = "övrigt"  # agendas, reports (later issues)


class MessageState(StrEnum):
    PENDING = "väntar"
    SENDING = "skickas"
    SENT = "skickat"
    FAILED = "misslyckat"
    UNKNOWN = "okänt"
    # Everything the message was about was settled before it could be sent (a digest whose tasks were
    # all answered, an escalation already resolved): it is not sent, so nobody is reminded of done work.
    OBSOLETE = "inaktuellt"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    dedupe_key: str = Field(max_length=300)
    kind: MessageKind = Field(sa_type=StrEnumType(MessageKind))
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    subject: str = Field(max_length=500)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: MessageState = Field(default=MessageState.PENDING, sa_type=StrEnumType(MessageState), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)


class DeliveryAttempt(SQLModel, table=True):
    """One attempt to deliver a message to one target. ``target`` never holds a credential."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True)
    attempt: int
    target: str = Field(max_length=300)
    ok: bool
    detail: str = Field(default="", max_length=1000)
    at: datetime = Field(sa_type=UTCDateTime)
