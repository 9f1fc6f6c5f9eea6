"""The two-year cycle in the engine: lägesbild steps and the plan revision become tasks, are reminded
and escalated by the daily sweep, and a newer lägesbild closes the old steps."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from cycles.daily_sweep import run_daily_sweep
from cycles.situation_assessment import run_situation_assessment_cycle
from models.db import transaction
from models.escalation import Escalation
from models.municipality import Municipality
from models.plan import ActionPlan, SituationAssessment
from models.task import Reminder, Task, TaskKind, TaskState
from tests.conftest import import_falun


def _run(engine: sa.Engine, municipality_id: int, day: date, *, sweep: bool = True) -> None:
    with transaction(engine) as session:
        municipality = session.get(Municipality, municipality_id)
        assert municipality is not None
        run_situation_assessment_cycle(session, municipality, day)
        if sweep:
            run_daily_sweep(session, municipality, day)


def test_steps_and_revision_are_reminded_escalated_and_superseded(engine: sa.Engine) -> None:
    """Steps and revision get tasks, reminders, escalations; a new lägesbild cancels old steps."""
    with transaction(engine) as session:
        municipality_id = import_falun(session)
        assessment = SituationAssessment(
            municipality_id=municipality_id, title="Lägesbild 2024", decided_on=date(2024, 5, 30)
        )
        session.add(assessment)
        plan = session.exec(select(ActionPlan)).one()
        plan.revision_due = date(2026, 6, 30)
        session.add(plan)
    # The first step (data collection, 9 months before 2026-05-29) is due 2025-08-29; run past it.
    for day in (date(2025, 8, 1), date(2025, 8, 28), date(2025, 8, 29), date(2025, 9, 8), date(2025, 9, 22)):
        _run(engine, municipality_id, day)
    with Session(engine) as session:
        steps = session.exec(select(Task).where(Task.kind == TaskKind.SITUATION_ASSESSMENT_STEP)).all()
        assert [task.subject for task in steps] == ["Lägesbild 2026: Starta datainsamling för ny lägesbild"]
        step = steps[0]
        assert step.due_date == date(2025, 8, 29)
        assert session.exec(select(Reminder).where(Reminder.task_id == step.id)).all()
        levels = {e.level for e in session.exec(select(Escalation).where(Escalation.task_id == step.id))}
        assert levels == {1, 2}
    _run(engine, municipality_id, date(2026, 4, 6), sweep=False)
    with Session(engine) as session:
        kinds = [t.kind for t in session.exec(select(Task).where(Task.state == TaskState.OPEN))]
        assert TaskKind.PLAN_REVISION in kinds
    # Kommunstyrelsen decides the new lägesbild early: the old steps and nothing else are cancelled.
    with transaction(engine) as session:
        session.add(
            SituationAssessment(
                municipality_id=municipality_id, title="Lägesbild 2026", decided_on=date(2026, 4, 7)
            )
        )
    _run(engine, municipality_id, date(2026, 4, 8))
    _run(engine, municipality_id, date(2026, 4, 8))
    with Session(engine) as session:
        old = session.exec(
            select(Task).where(Task.idempotency_key.startswith(f"lagesbild:{assessment.id}:"))
        ).all()  # type: ignore[attr-defined]
        assert old
        assert all(task.state == TaskState.CANCELLED for task in old)
        revision = session.exec(select(Task).where(Task.kind == TaskKind.PLAN_REVISION)).one()
        assert revision.state == TaskState.OPEN
        still_open = session.exec(
            select(Escalation).where(Escalation.task_id == step.id, Escalation.resolved_on.is_(None))  # type: ignore[union-attr]
        ).all()
        assert still_open == []
