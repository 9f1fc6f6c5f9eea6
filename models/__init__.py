"""Tables, schemas and typed queries, one module per aggregate. Query functions never commit: the
caller owns the transaction."""

from models import (
    audit,
    directory,
    escalation,
    est,
    follow_up,
    incident,
    indicator,
    municipality,
    outbox,
    plan,
    run_lock,
    sspf,
    task,
    validation,
    web,
)

__all__ = [
    "audit",
    "directory",
    "escalation",
    "est",
    "follow_up",
    "incident",
    "indicator",
    "municipality",
    "outbox",
    "plan",
    "run_lock",
    "sspf",
    "task",
    "validation",
    "web",
]
