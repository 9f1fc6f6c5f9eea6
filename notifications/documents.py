"""Documents through the outbox: one message per recipient, each carrying the same attached files.

``write_document_messages(session, municipality_id, subject, letters, attachments, at)`` runs in the
caller's transaction and never commits. Each letter (dedupe key, recipient, plain text, HTML) becomes
an OutboxMessage (MessageKind.OTHER), inserted with INSERT … ON CONFLICT DO NOTHING on its dedupe key;
the attachments (OutboxAttachment rows) are then inserted for exactly the messages this call inserted,
found by their keys, each row once on (message, file name). A call that is retried or races another
thus writes no message and no attachment twice, and a message never gets the files of another call.
Delivery (notifications/delivery.py) sends the files with e-mail; other channels get the text and a
line saying the files come by e-mail.

Used by the EST agenda (flows/est_agenda.py): the DOCX agenda, the ICS invitation, and the charts as
PNG images that the HTML shows inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from models.outbox import MessageKind, OutboxAttachment, OutboxMessage, message_ids_by_key
from models.records import insert_many, insert_once

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ICS_TYPE = "text/calendar"
PNG_TYPE = "image/png"  # a chart shown inline in the HTML (cid:), not a file to open


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Letter:
    """One recipient's message: its dedupe key, the person, and the texts rendered for them."""

    dedupe_key: str
    recipient_person_id: int
    body_text: str
    body_html: str


def write_document_messages(
    session: Session,
    municipality_id: int,
    subject: str,
    letters: Sequence[Letter],
    attachments: Sequence[Attachment],
    at: datetime,
) -> set[str]:
    """Insert the letters not yet in the outbox, each with ``attachments``; the keys this call inserted."""
    messages = [
        OutboxMessage(
            municipality_id=municipality_id,
            dedupe_key=letter.dedupe_key,
            kind=MessageKind.OTHER,
            recipient_person_id=letter.recipient_person_id,
            subject=subject[:500],
            body_text=letter.body_text,
            body_html=letter.body_html,
            created_at=at,
            next_attempt_at=at,
        )
        for letter in letters
    ]
    inserted: set[str] = insert_many(session, messages, key="dedupe_key")
    for message_id in message_ids_by_key(session, sorted(inserted)).values():
        for attachment in attachments:
            insert_once(
                session,
                OutboxAttachment(
                    message_id=message_id,
                    filename=attachment.filename,
                    mime_type=attachment.mime_type,
                    content=attachment.content,
                ),
                key=("message_id", "filename"),
            )
    return inserted
