"""The outbox: every message Samordna sends, written in the same transaction as what caused it.

A message is a fixed text (rendered when it is written) to one person. Its dedupe key is unique, so
writing it twice is a no-op. Delivery moves it PENDING → SENDING → SENT, or back to PENDING with a
later ``next_attempt_at`` after a failed attempt, or to FAILED after the last attempt. A message found
in SENDING after its lease ran out was being sent by a process that died: its fate is UNKNOWN, and it
is not sent again blindly (see notifications/delivery.py for the semantics). A message whose subject
matter was settled before its turn came is OBSOLETE and never sent.

A message may carry attachments (OutboxAttachment: a file name, a MIME type and the bytes), written in
the same transaction as the message; e-mail delivers them, other channels say they come by e-mail.

A channel (the mail server, a webhook) that cannot be reached is recorded in DeliveryChannel and paused
with backoff: messages wait for it without spending their attempts. ``rejections`` counts only what a
reachable channel refused for this message (a recipient unknown to the mail server); ``attempts``
counts every armed send (the crash detection in notifications/delivery.py reads it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.records import one_of
from models.types import StrEnumType, UTCDateTime, utcnow


class MessageKind(StrEnum):
    DIGEST = "sammandrag"  # one per recipient and working day: due and overdue items
    ESCALATION = "eskalering"  # always on its own, marked as such
    FALLBACK = "reservkanal"  # to the coordinator when a message could not be delivered
    OTHER = "övrigt"  # agendas, reports (later issues)
    # To the coordinator when a plan is taken into use: what was already late, what is misconfigured.
    SUMMARY = "översikt"


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
    # Where a reply by e-mail goes (the BRÅ-samordnare, for digests and escalations); empty: the sender.
    reply_to: str = Field(default="", max_length=320)
    # Sends a reachable channel refused for this message: only these count against max_attempts.
    rejections: int = 0
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Times the message was queued again after FAILED or UNKNOWN (by hand, or when its channel recovered).
    requeues: int = 0


def new_message_row(
    *,
    municipality_id: int,
    dedupe_key: str,
    kind: MessageKind,
    recipient_person_id: int | None,
    subject: str,
    body_text: str,
    body_html: str,
    created_at: datetime,
    reply_to: str = "",
) -> dict[str, Any]:
    """Every column of a new PENDING message, first due at ``created_at``: the values a set-based insert
    writes (``models.records.insert_values``) where building thousands of OutboxMessage objects would
    cost more than the statement."""
    return {
        "municipality_id": municipality_id,
        "dedupe_key": dedupe_key,
        "kind": kind,
        "recipient_person_id": recipient_person_id,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "created_at": created_at,
        "state": MessageState.PENDING,
        "attempts": 0,
        "next_attempt_at": created_at,
        "leased_until": None,
        "sent_at": None,
        "last_error": "",
        "reply_to": reply_to,
        "rejections": 0,
        "failed_at": None,
        "requeues": 0,
    }


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
    # The channel the target belongs to (DeliveryChannel.key); "" for rows from before channels existed.
    channel: str = Field(default="", max_length=300)


class OutboxAttachment(SQLModel, table=True):
    """A file sent with a message (an agenda's DOCX, its ICS invitation): fixed bytes, like the text."""

    __tablename__ = "outbox_attachment"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "filename", name="uq_outbox_attachment_message_filename"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(
        sa_column_args=[sa.ForeignKey("outbox_message.id", name="fk_outbox_attachment_message_id")],
        index=True,
    )
    filename: str = Field(max_length=200)
    mime_type: str = Field(max_length=100)
    content: bytes = Field(sa_type=sa.LargeBinary)


class ChannelState(StrEnum):
    OK = "i drift"
    # Could not be reached (refused, timed out, a server error): nothing is sent on it until a health
    # probe, or for channels without one the next send, gets through.
    PAUSED = "pausad"
    # E-mail without SAMORDNA_MAIL_URL: messages that can only go by e-mail wait; nothing fails.
    UNCONFIGURED = "ej konfigurerad"


class DeliveryChannel(SQLModel, table=True):
    """A place messages are sent through (the mail server, one webhook), and whether it can be reached.

    ``key`` never holds a credential (scheme, host, port and path only)."""

    __tablename__ = "delivery_channel"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_delivery_channel_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    state: ChannelState = Field(default=ChannelState.OK, sa_type=StrEnumType(ChannelState))
    failures: int = 0  # consecutive failed probes or sends since it went down
    down_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_probe_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def channels(session: Session) -> list[DeliveryChannel]:
    """Every channel that has been down or unconfigured at some time, by key."""
    return list(session.exec(select(DeliveryChannel).order_by(col(DeliveryChannel.key))))


def attachments_of(session: Session, message_id: int) -> list[OutboxAttachment]:
    """The message's attachments, in the order they were written."""
    return list(
        session.exec(
            select(OutboxAttachment)
            .where(OutboxAttachment.message_id == message_id)
            .order_by(col(OutboxAttachment.id))
        )
    )


def attachment_counts(session: Session, message_ids: Sequence[int]) -> dict[int, int]:
    """How many attachments each of the messages has (messages without any are left out)."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(OutboxAttachment.message_id, sa.func.count())
        .where(col(OutboxAttachment.message_id).in_(message_ids))
        .group_by(col(OutboxAttachment.message_id))
    )
    return {message_id: int(count) for message_id, count in rows}


def message_ids_by_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """The ids of the messages with these dedupe keys, by key (keys not written yet are left out)."""
    if not keys:
        return {}
    rows = session.exec(
        select(OutboxMessage.dedupe_key, OutboxMessage.id).where(
            one_of(session, col(OutboxMessage.dedupe_key), keys)
        )
    )
    return {key: message_id for key, message_id in rows if message_id is not None}
