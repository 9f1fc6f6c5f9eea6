"""Uppgifter: what the cycles ask of a person, each created once.

The idempotency key (kind + subject + period) is unique: a cycle that runs twice, or is retried after
being killed, inserts the same key again and the database refuses the duplicate.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.types import StrEnumType, UTCDateTime, utcnow


class TaskKind(StrEnum):
    STATUS_REPORT = "statusrapport"
    REPORT_INCIDENTS = "rapportera_handelser"
    INTERVENTION_FOLLOW_UP = "folj_upp_insats"
    SITUATION_ASSESSMENT_STEP = "lagesbild_steg"
    PLAN_REVISION = "revidera_plan"
    SSPF_ACTION = "sspf_atgard"


class TaskState(StrEnum):
    OPEN = "öppen"
    DONE = "klar"
    # The meeting the task served has been held without an answer: no more reminders, and it counts
    # as a missed report when stalled measures are judged.
    MISSED = "missad"
    CANCELLED = "avbruten"


class TaskBase(SQLModel):
    kind: TaskKind = Field(sa_type=StrEnumType(TaskKind))
    subject: str = Field(max_length=1000, description="What the task is about, in Swedish")
    due_date: date
    state: TaskState = Field(default=TaskState.OPEN, sa_type=StrEnumType(TaskState))


class Task(TaskBase, table=True):
    __tablename__ = "task"
    __table_args__ = (sa.UniqueConstraint("idempotency_key", name="uq_task_idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    idempotency_key: str = Field(max_length=300)
    measure_id: int | None = Field(default=None, foreign_key="measure.id", index=True)
    assignee_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    assignee_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    period_label: str = Field(default="", max_length=50, description="e.g. 2025H1, EST-2025-07")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TaskRead(TaskBase):
    id: int
    idempotency_key: str
    measure_id: int | None
    assignee_person_id: int | None


def task_by_key(session: Session, idempotency_key: str) -> Task | None:
    """The task with this idempotency key, if it was created."""
    return session.exec(select(Task).where(Task.idempotency_key == idempotency_key)).first()


def open_tasks(
    session: Session,
    municipality_id: int,
    *,
    due_on_or_before: date | None = None,
    assignee_person_id: int | None = None,
) -> list[Task]:
    """The kommun's open tasks by due date, optionally only those due by a date or of one person."""
    query = select(Task).where(Task.municipality_id == municipality_id, Task.state == TaskState.OPEN)
    if assignee_person_id is not None:
        query = query.where(Task.assignee_person_id == assignee_person_id)
    if due_on_or_before is not None:
        query = query.where(Task.due_date <= due_on_or_before)
    return list(session.exec(query.order_by(col(Task.due_date), col(Task.id))))


class ReminderKind(StrEnum):
    BEFORE_DUE = "före"
    DUE_DAY = "förfallodag"
    OVERDUE = "försenad"


class Reminder(SQLModel, table=True):
    """A påminnelse the daily sweep decided to send: delivered by the notification outbox.

    The dedupe key is ``påminnelse:<task>:<date>``: one reminder per task and ladder day, however many
    times the sweep runs.
    """

    __tablename__ = "reminder"
    __table_args__ = (sa.UniqueConstraint("dedupe_key", name="uq_reminder_dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    kind: ReminderKind = Field(sa_type=StrEnumType(ReminderKind))
    subject: str = Field(max_length=1000)
    remind_on: date
    dedupe_key: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The digest that carries this reminder; None until the outbox has taken it.
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id", index=True)


def reminders_for_task(session: Session, task_id: int) -> list[Reminder]:
    """A task's reminders in the order they were due."""
    return list(
        session.exec(select(Reminder).where(Reminder.task_id == task_id).order_by(col(Reminder.remind_on)))
    )
