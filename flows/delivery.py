"""The delivery cycle: drain the outbox every five minutes (the logic is notifications/delivery.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from core.settings import get_settings
from models.db import make_engine
from notifications.delivery import deliver_due


@flow(name="leverans", description="Utkorgen: leverera väntande meddelanden med apprise.")
def delivery_flow(now: str | None = None) -> dict[str, int]:
    """One delivery pass over the outbox at ``now`` (ISO 8601 with offset; default: now)."""
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"now saknar tidszon: {now}")
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        return deliver_due(engine, moment, settings).as_dict()
    finally:
        engine.dispose()
