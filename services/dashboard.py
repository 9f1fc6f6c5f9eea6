"""What the coordinator's dashboard reads: the plan with its lights, this round, escalations with their
history, a measure's page, the outbox, the EST meeting, and the plan import's preview.

Every view is read in the caller's transaction and reuses the rule that already exists: the lights are
``reports.follow_up_report``'s (one table, ``LIGHT_RULES``), the round is the follow-up cycle's, the EST
meeting is ``reports.est_agenda.compile_agenda``, the import preview is ``services.plans.import_plan``
with ``dry_run`` rendered by the command line's own template. Nothing here writes, except the import
when the coordinator confirms it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from core.errors import NotFoundError
from core.templating import render
from cycles.est_calendar import meeting_date
from cycles.follow_up import follow_up_occasions, period_label
from importers.problems import ImportFailedError
from models.directory import Person
from models.escalation import Escalation, open_escalations
from models.municipality import Municipality
from models.outbox import DeliveryAttempt, MessageState, OutboxMessage
from models.plan import ActionPlan, FocusArea, Measure, StatusReport, plans, status_history
from models.responsibility import responsible_person
from models.rhythm import rhythm_from_json
from models.task import Reminder, Task, TaskKind, TaskState
from models.working_days import previous_working_day, working_days_between
from notifications.outbox_admin import requeue_message
from reports.est_agenda import (
    EstAgenda,
    compile_agenda,
    docx_name,
    ics_name,
    render_format,
)
from reports.follow_up_report import LIGHT_RULES, FollowUpReport, Light, compile_report, parse_period
from services.est import meeting_number
from services.plans import PlanImportCommand, import_plan, import_summary, measure_register

OUTBOX_LIMIT = 300


def current_round_label(session: Session, municipality: Municipality, today: date) -> str:
    """The half-year of the follow-up round that opened last (its tasks exist from its creation day);
    the half-year of ``today`` when no round has opened yet."""
    rhythm = rhythm_from_json(municipality.rhythm)
    opened = [
        occasion
        for occasion in follow_up_occasions(session, municipality, rhythm)
        if occasion.create_on <= today
    ]
    return opened[-1].period_label if opened else period_label(today)


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A status task of the round that has no answer: who, which measure, since when."""

    person: str
    email: str
    measure_id: int | None
    subject: str
    due: date
    state: TaskState
    overdue_working_days: int


@dataclass(frozen=True, slots=True)
class HistoryLine:
    day: date
    text: str


@dataclass(frozen=True, slots=True)
class EscalationView:
    """An open escalation with everything that led to it and was done since, oldest first."""

    escalation: Escalation
    recipient: str
    message_state: MessageState | None
    history: list[HistoryLine]


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard's first page."""

    municipality: Municipality
    today: date
    label: str
    report: FollowUpReport | None
    unanswered: list[Unanswered]
    escalations: list[EscalationView]
    rules: tuple[object, ...] = LIGHT_RULES
    lights: tuple[Light, ...] = tuple(Light)


def overview(session: Session, municipality: Municipality, today: date) -> Overview:
    """The plan by focus area with its lights, who has not answered this round, open escalations."""
    label = current_round_label(session, municipality, today)
    report = None
    if plans(session, municipality.id or 0):
        report = compile_report(session, municipality.id or 0, parse_period(label))
    return Overview(
        municipality=municipality,
        today=today,
        label=label,
        report=report,
        unanswered=unanswered(session, municipality, label, today),
        escalations=escalation_views(session, municipality),
    )


def unanswered(session: Session, municipality: Municipality, label: str, today: date) -> list[Unanswered]:
    """The round's status tasks still open or missed, most overdue first."""
    rows = session.exec(
        select(Task, Person)
        .join(Person, col(Person.id) == col(Task.assignee_person_id), isouter=True)
        .where(
            Task.municipality_id == municipality.id,
            Task.kind == TaskKind.STATUS_REPORT,
            Task.period_label == label,
            col(Task.state).in_([TaskState.OPEN, TaskState.MISSED]),
        )
        .order_by(col(Task.due_date), col(Task.id))
    )
    found = []
    for task, person in rows:
        due = previous_working_day(task.due_date)
        found.append(
            Unanswered(
                person=person.name if person else "(ingen ansvarig)",
                email=person.email if person else "",
                measure_id=task.measure_id,
                subject=task.subject,
                due=due,
                state=task.state,
                overdue_working_days=working_days_between(due, today) if due < today else 0,
            )
        )
    return sorted(found, key=lambda row: (-row.overdue_working_days, row.person, row.subject))


def _names(session: Session, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    return {
        person.id or 0: person.name
        for person in session.exec(select(Person).where(col(Person.id).in_(person_ids)))
    }


def escalation_views(session: Session, municipality: Municipality) -> list[EscalationView]:
    """Each open escalation with its history: the earlier escalations of the same cause (same task,
    measure or insats), the reminders of its task, and the measure's status reports since the cause."""
    found = open_escalations(session, municipality.id or 0)
    everything = list(
        session.exec(
            select(Escalation)
            .where(Escalation.municipality_id == municipality.id)
            .order_by(col(Escalation.opened_on), col(Escalation.id))
        )
    )
    names = _names(session, {row.recipient_person_id for row in everything if row.recipient_person_id})
    task_ids = {row.task_id for row in found if row.task_id is not None}
    reminders: dict[int, list[Reminder]] = {}
    if task_ids:
        for reminder in session.exec(
            select(Reminder).where(col(Reminder.task_id).in_(task_ids)).order_by(col(Reminder.remind_on))
        ):
            reminders.setdefault(reminder.task_id, []).append(reminder)
    measure_ids = {row.measure_id for row in found if row.measure_id is not None}
    reports: dict[int, list[StatusReport]] = {}
    if measure_ids:
        for report in session.exec(
            select(StatusReport)
            .where(col(StatusReport.measure_id).in_(measure_ids))
            .order_by(col(StatusReport.reported_on))
        ):
            reports.setdefault(report.measure_id, []).append(report)
    message_ids = [row.outbox_message_id for row in found if row.outbox_message_id is not None]
    states = {}
    if message_ids:
        states = {
            message.id: message.state
            for message in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(message_ids)))
        }
    views = []
    for row in found:
        history: list[HistoryLine] = [HistoryLine(row.cause_since, "Orsaken började")]
        history += [
            HistoryLine(r.remind_on, f"Påminnelse ({r.kind.value}) till den ansvarige")
            for r in reminders.get(row.task_id or -1, [])
        ]
        history += [
            HistoryLine(
                other.opened_on,
                f"Eskalerad på nivå {other.level} till {names.get(other.recipient_person_id or 0, 'ingen')}"
                + (
                    f"; löst {other.resolved_on.isoformat()}: {other.resolution}" if other.resolved_on else ""
                ),
            )
            for other in everything
            if _same_cause(other, row)
        ]
        history += [
            HistoryLine(report.reported_on, f"Statusrapport: {report.status.value}")
            for report in reports.get(row.measure_id or -1, [])
            if report.reported_on >= row.cause_since
        ]
        views.append(
            EscalationView(
                escalation=row,
                recipient=names.get(row.recipient_person_id or 0, "ingen mottagare"),
                message_state=states.get(row.outbox_message_id),
                history=sorted(history, key=lambda line: line.day),
            )
        )
    return views


def _same_cause(other: Escalation, row: Escalation) -> bool:
    if row.task_id is not None:
        return other.task_id == row.task_id
    if row.intervention_id is not None:
        return other.intervention_id == row.intervention_id
    return other.measure_id == row.measure_id and other.reason == row.reason


@dataclass(frozen=True, slots=True)
class MeasurePage:
    """One measure: what the plan says, who answers for it, its status history, tasks and escalations."""

    measure: Measure
    plan: ActionPlan | None
    focus_area: FocusArea | None
    register: dict[str, object]
    responsible: Person | None
    history: list[StatusReport]
    tasks: list[Task]
    escalations: list[Escalation]


def measure_page(session: Session, municipality: Municipality, measure_id: int) -> MeasurePage:
    """A measure of the kommun by id."""
    measure = session.get(Measure, measure_id)
    if measure is None or measure.municipality_id != municipality.id:
        raise NotFoundError(f"Åtgärd {measure_id} finns inte i {municipality.name}.")
    register = next(
        (
            row
            for row in measure_register(session, municipality.id or 0, plan_id=measure.plan_id)
            if row["id"] == measure_id
        ),
        {},
    )
    task_rows = session.exec(
        select(Task)
        .where(Task.measure_id == measure_id)
        .order_by(col(Task.due_date).desc(), col(Task.id).desc())
    )
    escalation_rows = session.exec(
        select(Escalation)
        .where(Escalation.measure_id == measure_id)
        .order_by(col(Escalation.opened_on).desc(), col(Escalation.id).desc())
    )
    return MeasurePage(
        measure=measure,
        plan=session.get(ActionPlan, measure.plan_id),
        focus_area=session.get(FocusArea, measure.focus_area_id),
        register=register,
        responsible=responsible_person(session, measure_id, municipality.id or 0),
        history=list(reversed(status_history(session, measure_id))),
        tasks=list(task_rows),
        escalations=list(escalation_rows),
    )


@dataclass(frozen=True, slots=True)
class OutboxLine:
    message: OutboxMessage
    recipient: str
    last_attempt: str


@dataclass(frozen=True, slots=True)
class OutboxView:
    lines: list[OutboxLine]
    counts: dict[MessageState, int]
    state: MessageState | None
    shown_limit: int = OUTBOX_LIMIT
    states: tuple[MessageState, ...] = field(default=tuple(MessageState))


def outbox(session: Session, municipality: Municipality, state: MessageState | None) -> OutboxView:
    """The kommun's messages, newest first (at most ``OUTBOX_LIMIT``), optionally of one state."""
    query = select(OutboxMessage).where(OutboxMessage.municipality_id == municipality.id)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    messages = list(
        session.exec(
            query.order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()).limit(
                OUTBOX_LIMIT
            )
        )
    )
    names = _names(session, {m.recipient_person_id for m in messages if m.recipient_person_id})
    ids = [m.id for m in messages]
    last: dict[int, str] = {}
    if ids:
        for attempt in session.exec(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.message_id).in_(ids))
            .order_by(col(DeliveryAttempt.id))
        ):
            last[attempt.message_id] = f"{attempt.target}: {attempt.detail}"
    counts = Counter(
        MessageState(found)
        for found in session.exec(
            select(OutboxMessage.state).where(OutboxMessage.municipality_id == municipality.id)
        )
    )
    return OutboxView(
        lines=[
            OutboxLine(
                message=m,
                recipient=names.get(m.recipient_person_id or 0, "BRÅ-samordnaren (reservkanal)"),
                last_attempt=last.get(m.id or 0, ""),
            )
            for m in messages
        ],
        counts=dict(counts),
        state=state,
    )


def resend_message(
    session: Session, municipality: Municipality, message_id: int, now: datetime
) -> OutboxMessage:
    """Send a failed message of the kommun, or one whose fate is unknown, again (``requeue_message``)."""
    return requeue_message(session, message_id, now, municipality_id=municipality.id)


@dataclass(frozen=True, slots=True)
class EstView:
    """One EST meeting: its agenda (with the period's lägesbild) and its neighbours."""

    agenda: EstAgenda
    number: int
    previous: int | None
    following: int
    next_number: int  # the next meeting from today


def est_view(session: Session, municipality: Municipality, number: int | None, today: date) -> EstView:
    """The EST meeting ``number`` (default: the next one from ``today``) with its lägesbild."""
    upcoming = meeting_number(municipality, None, today)
    chosen = meeting_number(municipality, number, today)
    rhythm = rhythm_from_json(municipality.rhythm)
    as_of = min(today, meeting_date(rhythm, chosen))
    agenda = compile_agenda(session, municipality, chosen, as_of)
    return EstView(agenda, chosen, chosen - 1 if chosen > 1 else None, chosen + 1, upcoming)


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    media_type: str
    content: bytes


EST_MEDIA = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ics": "text/calendar; charset=utf-8",
}


def est_document(
    session: Session, municipality: Municipality, number: int, fmt: str, today: date
) -> Document:
    """The agenda of EST meeting ``number`` as HTML, DOCX or an ICS invitation."""
    if fmt not in EST_MEDIA:
        raise NotFoundError(f'Formatet "{fmt}" finns inte för dagordningen.')
    chosen = meeting_number(municipality, number, today)
    rhythm = rhythm_from_json(municipality.rhythm)
    agenda = compile_agenda(session, municipality, chosen, min(today, meeting_date(rhythm, chosen)))
    names = {"html": f"dagordning-EST-{chosen}.html", "docx": docx_name(agenda), "ics": ics_name(agenda)}
    return Document(names[fmt], EST_MEDIA[fmt], render_format(agenda, fmt))


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """The preview of a plan file, exactly as ``samordna plan import --dry-run`` prints it."""

    text: str
    ok: bool
    measures: int = 0


def preview_plan_import(
    session: Session, municipality: Municipality, path: Path, *, save: bool
) -> ImportPreview:
    """Read and check a plan file for the kommun; with ``save`` the plan is written (one transaction),
    without it nothing is (a dry run). The text is the command line's own summary."""
    command = PlanImportCommand(path, kommun=municipality.code, dry_run=not save)
    try:
        report = import_plan(session, command)
    except ImportFailedError as error:
        session.rollback()
        return ImportPreview(render("cli/import_errors.txt.j2", problems=error.problems), ok=False)
    text = render("cli/plan_import.txt.j2", report=report, dry_run=not save, summary=import_summary(report))
    return ImportPreview(text, ok=True, measures=len(report.draft.measures))
