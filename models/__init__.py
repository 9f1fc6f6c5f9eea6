"""Tables, schemas and typed queries, one module per aggregate. Query functions never commit: the
caller owns the transaction."""

from models import (
    directory,
    escalation,
    est,
    follow_up,
    incident,
    indicator,
    municipality,
    outbox,
    plan,
    task,
)

__all__ = [
    "directory",
    "escalation",
    "est",
    "follow_up",
    "incident",
    "indicator",
    "municipality",
    "outbox",
    "plan",
    "task",
]
