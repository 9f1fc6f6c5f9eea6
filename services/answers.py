"""The ansvarig's page: their open work, and each answer they give from it.

Everything here acts for the person a personal link belongs to (``services.links.open_link``) and only
on that person's own tasks: a task of someone else, or one already closed, is refused. Each answer is
one use case in the caller's transaction and calls the same rule as the command line:

- a **status report** (``answer_status``) goes through ``services.status.record_status_report``: the
  task closes, its reminders stop at once and the escalations whose cause is gone resolve; indicator
  values given with it are stored for the round's half-year (a value already there is replaced, as an
  import would);
- an **EST insats** (``finish_intervention``) is marked done or cancelled with
  ``services.est.set_intervention_state``, and its follow-up task closes now rather than at the next
  sweep, so no digest written before goes out about it;
- a **lägesbild step**, a plan revision or incident reporting (``complete_task``) is marked done;
- an **incident** (``report_incident_from_page``) goes through ``services.est.report_incident`` with the
  person's organisation and title, for members of the EST group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.clock import local_day
from core.errors import InvalidInputError, NotFoundError
from cycles.daily_sweep import intervention_id_from_key
from cycles.est import est_members
from models.directory import Organisation, Person
from models.enums import MeasureStatus
from models.escalation import Escalation
from models.est import InterventionState
from models.incident import Incident, IncidentInput
from models.indicator import Indicator, IndicatorValue
from models.municipality import Municipality
from models.plan import Measure
from models.responsibility import bra_coordinator
from models.rhythm import EstRhythm, rhythm_from_json
from models.task import Task, TaskKind, TaskState
from reports.follow_up_report import ReportPeriod, parse_period
from services.est import report_incident, set_intervention_state
from services.status import OpenWork, ReportOutcome, StatusReportCommand, open_work_of, record_status_report

SOURCE = "webb"
# The kinds a person marks done themselves on their page.
SELF_CLOSED = frozenset(
    {TaskKind.SITUATION_ASSESSMENT_STEP, TaskKind.PLAN_REVISION, TaskKind.REPORT_INCIDENTS}
)
INDICATOR_NOTE_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class PersonalPage:
    """What the person's page shows."""

    person: Person
    municipality: Municipality
    work: list[OpenWork]
    indicators: dict[int, list[Indicator]]  # by measure id: its focus area's indicators
    escalations: list[Escalation]  # open, addressed to the person (as chef, coordinator, kommunledning)
    est_member: bool
    est: EstRhythm
    coordinator: Person | None  # whom to ask
    statuses: tuple[MeasureStatus, ...] = field(default=tuple(MeasureStatus))


def personal_page(session: Session, person: Person, municipality: Municipality, as_of: date) -> PersonalPage:
    """The person's open tasks (measures, insatser, lägesbild steps), soonest due first, and more."""
    work = open_work_of(session, municipality.id or 0, person.id or 0, as_of=as_of)
    area_ids = {item.measure.focus_area_id for item in work if item.measure is not None}
    by_area: dict[int, list[Indicator]] = {}
    if area_ids:
        for indicator in session.exec(
            select(Indicator).where(col(Indicator.focus_area_id).in_(area_ids)).order_by(col(Indicator.name))
        ):
            by_area.setdefault(indicator.focus_area_id or 0, []).append(indicator)
    indicators = {
        item.measure.id or 0: by_area.get(item.measure.focus_area_id, [])
        for item in work
        if item.measure is not None
    }
    escalations = list(
        session.exec(
            select(Escalation)
            .where(
                Escalation.municipality_id == municipality.id,
                Escalation.recipient_person_id == person.id,
                col(Escalation.resolved_on).is_(None),
            )
            .order_by(col(Escalation.opened_on), col(Escalation.id))
        )
    )
    members = {member.id for member in est_members(session, municipality.id or 0)}
    return PersonalPage(
        person=person,
        municipality=municipality,
        work=work,
        indicators=indicators,
        escalations=escalations,
        est_member=person.id in members,
        est=rhythm_from_json(municipality.rhythm).est,
        coordinator=bra_coordinator(session, municipality.id or 0),
    )


def _own_open_task(session: Session, person: Person, task_id: int, kinds: frozenset[TaskKind]) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.assignee_person_id != person.id or task.kind not in kinds:
        raise NotFoundError("Uppgiften finns inte bland dina uppgifter.")
    if task.state != TaskState.OPEN:
        raise InvalidInputError("Uppgiften är redan klar: ladda om sidan för att se dina öppna uppgifter.")
    return task


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """A status report as the form gives it, with indicator values by indicator id (as typed)."""

    status: MeasureStatus
    comment: str = ""
    progress_percent: int | None = None
    next_step: str = ""
    indicator_values: dict[int, str] = field(default_factory=dict)


def _number(text: str, name: str) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".").removesuffix("%")
    try:
        return float(cleaned)
    except ValueError:
        message = f'{name}: "{text.strip()}" är inget tal (skriv t.ex. 12 eller 3,5).'
        raise InvalidInputError(message) from None


def _round_period(task: Task, reported_on: date) -> ReportPeriod:
    """The half-year the task's round is labelled with, else the one ``reported_on`` falls in."""
    try:
        return parse_period(task.period_label)
    except InvalidInputError:
        return parse_period(f"{reported_on.year}H{1 if reported_on.month <= 6 else 2}")  # noqa: PLR2004 - June


def answer_status(
    session: Session,
    municipality: Municipality,
    person: Person,
    task_id: int,
    answer: StatusAnswer,
    now: datetime,
) -> ReportOutcome:
    """Record the person's status report for their open status task (see the module docstring)."""
    task = _own_open_task(session, person, task_id, frozenset({TaskKind.STATUS_REPORT}))
    if task.measure_id is None:
        raise InvalidInputError("Uppgiften gäller ingen åtgärd: svara BRÅ-samordnaren på mejlet i stället.")
    values = _indicator_values(session, task, answer.indicator_values)
    outcome = record_status_report(
        session,
        municipality,
        StatusReportCommand(
            task.measure_id,
            answer.status,
            comment=answer.comment,
            progress_percent=answer.progress_percent,
            next_step=answer.next_step,
            reporter_name=person.name,
            reporter_person_id=person.id,
            source=SOURCE,
        ),
        now=now,
    )
    period = _round_period(task, outcome.report.reported_on)
    for indicator, value in values:
        _store_value(session, indicator, period, value, f"Rapporterat av {person.name} i Samordna")
    session.flush()
    return outcome


def _indicator_values(session: Session, task: Task, given: dict[int, str]) -> list[tuple[Indicator, float]]:
    """The given values checked: each an indicator of the measure's focus area, each a number."""
    if not any(text.strip() for text in given.values()):
        return []
    measure = session.get(Measure, task.measure_id) if task.measure_id is not None else None
    area_id = measure.focus_area_id if measure is not None else None
    found: list[tuple[Indicator, float]] = []
    for indicator_id, text in sorted(given.items()):
        if not text.strip():
            continue
        indicator = session.get(Indicator, indicator_id)
        if indicator is None or indicator.focus_area_id is None or indicator.focus_area_id != area_id:
            raise InvalidInputError("En indikator i formuläret hör inte till åtgärdens fokusområde.")
        found.append((indicator, _number(text, indicator.name)))
    return found


def _store_value(
    session: Session, indicator: Indicator, period: ReportPeriod, value: float, note: str
) -> None:
    existing = session.exec(
        select(IndicatorValue).where(
            IndicatorValue.indicator_id == indicator.id,
            IndicatorValue.period_start == period.start,
            IndicatorValue.period_end == period.end,
        )
    ).first()
    row = existing or IndicatorValue(
        indicator_id=indicator.id or 0, period_start=period.start, period_end=period.end, value=value
    )
    row.value = value
    row.note = note[:INDICATOR_NOTE_LIMIT]
    session.add(row)


def _close_now(session: Session, task: Task, now: datetime) -> None:
    session.execute(
        sa.update(Task)
        .where(col(Task.id) == task.id, col(Task.state) == TaskState.OPEN)
        .values(state=TaskState.DONE, closed_at=now),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()


def finish_intervention(
    session: Session,
    municipality: Municipality,
    person: Person,
    task_id: int,
    state: InterventionState,
    now: datetime,
) -> Task:
    """Mark the insats of the person's follow-up task done or cancelled, and close the task now."""
    if state == InterventionState.OPEN:
        raise InvalidInputError("Välj genomförd eller avbruten.")
    task = _own_open_task(session, person, task_id, frozenset({TaskKind.INTERVENTION_FOLLOW_UP}))
    intervention_id = intervention_id_from_key(task.idempotency_key)
    if intervention_id is None:
        raise NotFoundError("Uppgiften gäller ingen insats.")
    set_intervention_state(session, municipality, intervention_id, state, local_day(now))
    _close_now(session, task, now)
    return task


def complete_task(
    session: Session, municipality: Municipality, person: Person, task_id: int, now: datetime
) -> Task:
    """Mark one of the person's own lägesbild steps, plan revisions or reporting tasks done."""
    task = _own_open_task(session, person, task_id, SELF_CLOSED)
    if task.municipality_id != municipality.id:
        raise NotFoundError("Uppgiften finns inte bland dina uppgifter.")
    _close_now(session, task, now)
    return task


def report_incident_from_page(
    session: Session, municipality: Municipality, person: Person, given: IncidentInput
) -> tuple[Incident, int]:
    """An incident reported by an EST member from their page, in their organisation's name."""
    if person.id not in {member.id for member in est_members(session, municipality.id or 0)}:
        raise NotFoundError("Händelser rapporteras av EST-gruppens medlemmar.")
    organisation = session.get(Organisation, person.organisation_id) if person.organisation_id else None
    stated = IncidentInput(
        occurred_on=given.occurred_on,
        category=given.category,
        occurred_time=given.occurred_time,
        part_of_day=given.part_of_day,
        area=given.area,
        place=given.place,
        organisation=organisation.name if organisation else "",
        reporter_role=person.title,
        severity=given.severity,
        reported_to_police=given.reported_to_police,
        description=given.description,
    )
    return report_incident(session, municipality, stated)
