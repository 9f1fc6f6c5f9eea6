"""Sending a message again on a person's request: the one rule, for the dashboard and the command line."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from core.errors import InvalidInputError, NotFoundError
from models.outbox import MessageState, OutboxMessage

REQUEUEABLE = frozenset({MessageState.FAILED, MessageState.UNKNOWN})


def requeue_message(session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """Put a FAILED or UNKNOWN message back in the queue, due at ``now``; the next delivery pass sends it.

    For a message whose fate was unknown, the person asking has checked that it did not arrive; for a
    failed one, that its cause (an address, a server) is put right. The message keeps its attempts, so
    the delivery's rule "armed but not recorded is unknown" still holds, and it gets one more attempt:
    if that fails too it is FAILED again (its failure notice was sent the first time). Targets that
    accepted it before are skipped, as on every retry. A conditional UPDATE: two requests at once
    requeue it once. Raises NotFoundError or InvalidInputError (Swedish); never commits.
    """
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundError(f"Meddelande {message_id} finns inte i utkorgen.")
    if message.state not in REQUEUEABLE:
        raise InvalidInputError(
            f"Meddelande {message_id} är {message.state.value}: bara misslyckade meddelanden och "
            "meddelanden med okänt utfall kan skickas om."
        )
    changed = session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.state).in_(REQUEUEABLE))
        .values(state=MessageState.PENDING, next_attempt_at=now, leased_until=None, last_error="")
        .returning(col(OutboxMessage.id)),
        execution_options={"synchronize_session": "fetch"},
    ).first()
    if changed is None:
        raise InvalidInputError(f"Meddelande {message_id} skickas redan om.")
    session.flush()
    session.refresh(message)
    return message
