"""The two-year cycle: the steps towards the next lägesbild, and the åtgärdsplan's revision.

The law (2023:196, § 4) wants the lägesbild updated at least every second year. The next one is due
``interval_years`` after the latest decided lägesbild (the SituationAssessment with the latest
``decided_on``); as a due date it moves back to a working day. Each step of the rhythm
(``months_before_due``: data collection, analysis, proposal to the BRÅ, decision in
Kommunstyrelsen) becomes a task to the BRÅ-samordnare. A kommun with no dated lägesbild gets no step
tasks: there is nothing to count two years from, and inventing a date would put a false deadline in
front of the coordinator (the plan import records the lägesbild's decision date when a plan states it).

Every plan with a revision date (``revision_due``) gets a revision task due
``plan_revision_lead_working_days`` working days before it.

A step task the cycle no longer plans (the steps of a lägesbild that a newer decided one replaced) is
closed as avbruten by the next run (``cancel_superseded``).

Both kinds are created ``create_days_before_due`` days before they are due and from then on: unlike a
status report for a meeting that has passed, a lägesbild or a revision that is late is still owed, so
a late (catch-up) run creates it, already overdue, and the daily sweep escalates it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core.text import shorten
from cycles.follow_up import TITLE_LENGTH, stamp
from models.directory import Person
from models.municipality import Municipality
from models.plan import ActionPlan, SituationAssessment
from models.records import Event, insert_once
from models.responsibility import bra_coordinator
from models.rhythm import Rhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState
from models.working_days import add_working_days, previous_working_day

__all__ = [
    "PlannedTask",
    "assessment_steps",
    "cancel_superseded",
    "latest_assessment",
    "next_assessment_due",
    "plan_revisions",
    "run_situation_assessment_cycle",
    "shift_months",
]

_MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """A task the two-year cycle owes: what, when it is due, and from which day it is created."""

    kind: TaskKind
    key: str
    subject: str
    due_date: date
    create_on: date
    period_label: str


def shift_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (back when negative), clamped to the month's end:
    2026-03-31 minus one month is 2026-02-28."""
    index = day.year * _MONTHS_PER_YEAR + day.month - 1 + months
    year, month = divmod(index, _MONTHS_PER_YEAR)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_assessment(session: Session, municipality_id: int) -> SituationAssessment | None:
    """The kommun's lägesbild with the latest decision date; undated ones do not count."""
    return session.exec(
        select(SituationAssessment)
        .where(
            SituationAssessment.municipality_id == municipality_id,
            col(SituationAssessment.decided_on).is_not(None),
        )
        .order_by(col(SituationAssessment.decided_on).desc(), col(SituationAssessment.id).desc())
    ).first()


def next_assessment_due(decided_on: date, rhythm: Rhythm) -> date:
    """When the next lägesbild must be decided: ``interval_years`` after ``decided_on``, moved back to
    a working day (2024-05-30 → 2026-05-30, a Saturday → 2026-05-29)."""
    raw = shift_months(decided_on, rhythm.situation_assessment.interval_years * _MONTHS_PER_YEAR)
    return previous_working_day(raw)


def assessment_steps(assessment: SituationAssessment, rhythm: Rhythm) -> list[PlannedTask]:
    """The step tasks towards the lägesbild after ``assessment`` (which must have ``decided_on``).

    A step ``months_before_due`` months before the due date is due on that day moved back to a
    working day; its key is ``lagesbild:{assessment id}:{index of the step in the rhythm, from 0}``.
    """
    if assessment.decided_on is None:
        return []
    config = rhythm.situation_assessment
    due = next_assessment_due(assessment.decided_on, rhythm)
    planned: list[PlannedTask] = []
    for index, step in enumerate(config.steps):
        step_due = previous_working_day(shift_months(due, -step.months_before_due))
        planned.append(
            PlannedTask(
                kind=TaskKind.SITUATION_ASSESSMENT_STEP,
                key=f"lagesbild:{assessment.id}:{index}",
                subject=f"Lägesbild {due.year}: {step.name}",
                due_date=step_due,
                create_on=step_due - timedelta(days=config.create_days_before_due),
                period_label=f"lägesbild {due.year}",
            )
        )
    return planned


def plan_revisions(plans: list[ActionPlan], rhythm: Rhythm) -> list[PlannedTask]:
    """A revision task per plan with a revision date, due ``plan_revision_lead_working_days``
    working days before it; key ``revidera_plan:{plan id}:{revision date}``, so a moved revision
    date asks again."""
    config = rhythm.situation_assessment
    planned: list[PlannedTask] = []
    for plan in plans:
        if plan.revision_due is None:
            continue
        due = previous_working_day(
            add_working_days(plan.revision_due, -config.plan_revision_lead_working_days)
        )
        planned.append(
            PlannedTask(
                kind=TaskKind.PLAN_REVISION,
                key=f"revidera_plan:{plan.id}:{plan.revision_due.isoformat()}",
                subject=(
                    f"Revidera åtgärdsplanen före {plan.revision_due.isoformat()}: "
                    f"{shorten(plan.title, TITLE_LENGTH)}"
                ),
                due_date=due,
                create_on=due - timedelta(days=config.create_days_before_due),
                period_label=f"revidering {plan.revision_due.isoformat()}",
            )
        )
    return planned


def _insert(
    session: Session, municipality_id: int, planned: PlannedTask, person: Person | None, as_of: date
) -> Event | None:
    task = Task(
        municipality_id=municipality_id,
        kind=planned.kind,
        subject=planned.subject,
        due_date=planned.due_date,
        idempotency_key=planned.key,
        assignee_person_id=person.id if person is not None else None,
        period_label=planned.period_label,
        created_at=stamp(as_of),
    )
    if not insert_once(session, task, key="idempotency_key"):
        return None
    return Event(as_of, "uppgift", planned.subject, person.name if person is not None else "")


def run_situation_assessment_cycle(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """Create the lägesbild step tasks and the plan revision tasks whose creation day has come."""
    rhythm = rhythm_from_json(municipality.rhythm)
    municipality_id = municipality.id or 0
    assessment = latest_assessment(session, municipality_id)
    planned = assessment_steps(assessment, rhythm) if assessment is not None else []
    plans = list(session.exec(select(ActionPlan).where(ActionPlan.municipality_id == municipality_id)))
    planned += plan_revisions(plans, rhythm)
    events = cancel_superseded(session, municipality_id, {task.key for task in planned}, as_of)
    current = [task for task in planned if task.create_on <= as_of]
    if not current:
        return events
    existing = set(
        session.exec(
            select(Task.idempotency_key).where(col(Task.idempotency_key).in_([task.key for task in current]))
        )
    )
    missing = [task for task in current if task.key not in existing]
    if not missing:
        return events
    coordinator = bra_coordinator(session, municipality_id)
    inserted = [_insert(session, municipality_id, task, coordinator, as_of) for task in missing]
    session.flush()
    return events + [event for event in inserted if event is not None]


def cancel_superseded(
    session: Session, municipality_id: int, planned_keys: set[str], as_of: date
) -> list[Event]:
    """Open lägesbild-step tasks that the cycle no longer plans become avbruten.

    A new lägesbild decided (a later ``decided_on``) replaces the steps counted from the old one: the
    old tasks would otherwise be reminded and escalated for work nobody owes any more. Revision tasks
    are left alone: a moved revision date asks again with its own task, and the old one is closed by
    the person who did (or did not) revise.
    """
    stale = list(
        session.exec(
            select(Task).where(
                Task.municipality_id == municipality_id,
                Task.kind == TaskKind.SITUATION_ASSESSMENT_STEP,
                Task.state == TaskState.OPEN,
                col(Task.idempotency_key).not_in(planned_keys),
            )
        )
    )
    for task in stale:
        task.state = TaskState.CANCELLED
        task.closed_at = stamp(as_of)
        session.add(task)
    session.flush()
    return [Event(as_of, "uppgift avbruten", task.subject) for task in stale]
