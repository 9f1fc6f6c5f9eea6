"""Insatser decided at an EST meeting: each becomes an Intervention and a task in the reminder engine.

The task (kind ``folj_upp_insats``, key ``insats:<insats>:beslut``, the shape the daily sweep
reads to close it once the insats is done) is due on the insats's due date
(moved back to a working day) and assigned to its ansvarig, so the daily sweep reminds before it is
due and escalates it when overdue, like every other task. Its period label ``insats-EST-<n>`` is not a
meeting label, so the EST cycle does not mark it missed when the next meeting is held; the EST cycle's
own follow-up tasks (``insats:<insats>:EST-<n>``) still ask about it before every meeting while it is
open. The protocol (``samordna est protokoll``) prints the decisions from these rows.

Attendance (``record_attendance``, ``samordna est narvaro``) is recorded with the decisions, on the
meeting's EstCycle: one EstAttendance row per person (present or not). The members of the EST group
who are not named present are recorded absent; a guest named present is recorded too. Recording again
replaces the earlier answer for the persons it names, so a correction is one more call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cycles.est import ensure_cycle, est_members
from models.directory import Person
from models.est import EstAttendance, Intervention, InterventionState, est_cycle_by_number
from models.municipality import Municipality
from models.records import insert_once
from models.rhythm import rhythm_from_json
from models.task import Task, TaskKind
from models.working_days import is_working_day, previous_working_day


def decision_key(intervention_id: int) -> str:
    return f"insats:{intervention_id}:beslut"


def close_intervention(
    session: Session, municipality_id: int, intervention_id: int, state: InterventionState, on: date
) -> Intervention | None:
    """Mark an insats done or cancelled on ``on``; its tasks close at the next daily sweep."""
    intervention = session.get(Intervention, intervention_id)
    if intervention is None or intervention.municipality_id != municipality_id:
        return None
    intervention.state = state
    intervention.closed_on = on if state != InterventionState.OPEN else None
    session.add(intervention)
    session.flush()
    return intervention


def record_decision(
    session: Session,
    municipality: Municipality,
    number: int,
    title: str,
    area: str,
    place: str,
    responsible: Person,
    due: date,
) -> tuple[Intervention, Task, bool]:
    """An insats decided at meeting ``number`` and the task that makes the reminder engine follow it:
    due on its due date (a working day), assigned to the ansvarig. Recording the same decision again
    changes nothing (the task's key names the insats; the insats is found by cycle, title and ansvarig)."""
    municipality_id = municipality.id or 0
    rhythm = rhythm_from_json(municipality.rhythm)
    cycle = ensure_cycle(session, municipality_id, rhythm, number)
    existing = session.exec(
        select(Intervention).where(
            Intervention.est_cycle_id == cycle.id,
            Intervention.title == title,
            Intervention.responsible_person_id == responsible.id,
        )
    ).first()
    created = existing is None
    intervention = existing or Intervention(
        municipality_id=municipality_id,
        est_cycle_id=cycle.id,
        title=title,
        area=area,
        place=place,
        responsible_person_id=responsible.id,
        due_date=due if is_working_day(due) else previous_working_day(due),
    )
    session.add(intervention)
    session.flush()
    key = decision_key(intervention.id or 0)
    insert_once(
        session,
        Task(
            municipality_id=municipality_id,
            kind=TaskKind.INTERVENTION_FOLLOW_UP,
            subject=f'Genomför insatsen "{title}" (beslutad vid EST-möte {number})'[:1000],
            due_date=intervention.due_date,
            idempotency_key=key,
            assignee_person_id=responsible.id,
            period_label=f"insats-EST-{number}",
        ),
        key="idempotency_key",
    )
    task = session.exec(select(Task).where(Task.idempotency_key == key)).one()
    return intervention, task, created


def record_attendance(
    session: Session,
    municipality: Municipality,
    number: int,
    present: Sequence[Person],
    absent: Sequence[Person] = (),
) -> list[tuple[Person, bool]]:
    """Who attended EST meeting ``number``: ``present`` were there; ``absent`` and every member of the
    EST group not named present were not. Returns the meeting's whole attendance, by name."""
    municipality_id = municipality.id or 0
    cycle = ensure_cycle(session, municipality_id, rhythm_from_json(municipality.rhythm), number)
    here = {person.id for person in present}
    answers = {person.id: True for person in present}
    for person in [*absent, *est_members(session, municipality_id)]:
        if person.id not in here:
            answers.setdefault(person.id, False)
    for person_id, was_there in answers.items():
        if person_id is None:
            continue
        if not insert_once(
            session,
            EstAttendance(est_cycle_id=cycle.id or 0, person_id=person_id, present=was_there),
            key=("est_cycle_id", "person_id"),
        ):
            session.execute(
                sa.update(EstAttendance)
                .where(col(EstAttendance.est_cycle_id) == cycle.id, col(EstAttendance.person_id) == person_id)
                .values(present=was_there)
            )
    session.flush()
    return attendance(session, municipality_id, number)


def attendance(session: Session, municipality_id: int, number: int) -> list[tuple[Person, bool]]:
    """The recorded attendance of meeting ``number`` (present first, then by name); empty when none."""
    cycle = est_cycle_by_number(session, municipality_id, number)
    if cycle is None:
        return []
    rows = session.exec(
        select(Person, EstAttendance.present)
        .join(EstAttendance, col(EstAttendance.person_id) == col(Person.id))
        .where(EstAttendance.est_cycle_id == cycle.id)
        .order_by(col(EstAttendance.present).desc(), col(Person.name), col(Person.id))
    ).all()
    return [(person, bool(present)) for person, present in rows]
