"""The way back: a status report recorded for a measure, and what it puts right at once.

``record_status_report`` is what ``samordna status report`` and the status-sheet import call. In the
caller's transaction (it never commits) it:

1. **Checks** that the measure belongs to the kommun and that ``reported_on`` is not later than
   ``now``'s day in Europe/Stockholm (a report dated in the future would be ignored by every sweep
   until that day). Violations raise :class:`ReportError` with a Swedish message.
2. **Adds** the StatusReport (``recorded_at`` = ``now``).
3. **Sets the measure's status** to the reported one, with ``status_changed_at`` = ``now`` when it
   changed, unless the measure already has a report dated later than ``reported_on``: a backdated
   report is history, and the newer report still says where the measure stands.
4. **Closes the status tasks it answers**: every open STATUS_REPORT task of the measure with
   ``due_date - ANSWER_WINDOW_DAYS <= reported_on`` (the daily sweep's window) becomes DONE with
   ``closed_at`` = ``now``. The sweep only reminds open tasks, so their reminders stop at once rather
   than at the next 07:00 sweep.
5. **Resolves the measure's open escalations whose cause is gone**, with ``resolved_on`` =
   ``reported_on`` (never before the escalation's own ``opened_on``) and a Swedish resolution:

   - TASK_OVERDUE of a task closed in step 4: "Uppgiften är klar: ny statusrapport (pågående)";
   - DELAYED_REPORTS when the measure's status is not försenad;
   - REPORTED_STALLED when it is not avstannad;
   - PAST_END_DATE when it is genomförd or avbruten;
   - MISSED_FOLLOW_UPS always: a report has arrived.

   The others stay open (an escalation of another measure, PAST_END_DATE of a measure still
   pågående, …). An escalation resolved here keeps its dedupe key, so a later sweep that still found
   its cause would not open it again; a cause that returns later has a new ``cause_since`` and
   opens a new escalation, as in the sweep.

Every change is a conditional UPDATE … RETURNING, like the sweep's, so a sweep running at the same
moment never closes or resolves the same row twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.clock import local_day
from core.errors import InvalidInputError
from cycles.daily_sweep import ANSWER_WINDOW_DAYS, intervention_id_from_key
from importers.problems import ImportFailedError, Problem
from importers.status_import import SOURCE, StatusRow, parse_status, read_status_rows
from models.enums import FINISHED_STATUSES, MeasureStatus
from models.escalation import Escalation, EscalationReason
from models.est import Intervention
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.task import Task, TaskKind, TaskState, open_tasks
from models.working_days import previous_working_day, working_days_between

__all__ = [
    "ImportSummary",
    "OpenWork",
    "ReportError",
    "ReportOutcome",
    "StatusReportCommand",
    "import_status_sheet",
    "open_work_of",
    "parse_status_text",
    "record_status_report",
    "resolution_reason",
]

SOURCE_LIMIT = 50
RESOLUTION_LIMIT = 1000


class ReportError(InvalidInputError):
    """A status report that cannot be recorded; the message is Swedish and is shown as it is."""


@dataclass(frozen=True, slots=True)
class StatusReportCommand:
    """One status report as an ansvarig (or the coordinator on her behalf) gives it."""

    measure_id: int
    status: MeasureStatus
    reported_on: date | None = None  # None: today in Europe/Stockholm
    comment: str = ""
    progress_percent: int | None = None
    next_step: str = ""
    reporter_name: str = ""
    reporter_person_id: int | None = None
    source: str = "kommandorad"


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What recording one status report did, for the command line to print."""

    report: StatusReport
    measure: Measure
    previous_status: MeasureStatus
    status_changed: bool
    closed_tasks: Sequence[Task]
    resolved: Sequence[Escalation]  # with resolved_on and resolution as written


def parse_status_text(text: str, what: str) -> MeasureStatus:
    """A status as a person writes it ("Pågående", "pagaende"); ``what`` names the field in the error."""
    try:
        return parse_status(text)
    except ValueError as error:
        raise InvalidInputError(f"{what}: {error}") from error


def resolution_reason(
    escalation: Escalation, *, status: MeasureStatus, closed_task_ids: set[int]
) -> str | None:
    """Why a new report with the measure now at ``status`` resolves ``escalation``, or None when it
    does not (see the module docstring)."""
    reason = escalation.reason
    news = f"Ny statusrapport: {status.value}"
    if reason == EscalationReason.TASK_OVERDUE:
        if escalation.task_id is not None and escalation.task_id in closed_task_ids:
            return f"Uppgiften är klar: ny statusrapport ({status.value})"
        return None
    if (
        (reason == EscalationReason.DELAYED_REPORTS and status != MeasureStatus.DELAYED)
        or (reason == EscalationReason.REPORTED_STALLED and status != MeasureStatus.STALLED)
        or (reason == EscalationReason.PAST_END_DATE and status in FINISHED_STATUSES)
        or reason == EscalationReason.MISSED_FOLLOW_UPS
    ):
        return news
    return None


def _check(
    session: Session, municipality: Municipality, measure_id: int, reported_on: date, now: datetime
) -> Measure:
    measure = session.get(Measure, measure_id)
    if measure is None or measure.municipality_id != municipality.id:
        raise ReportError(
            f"Åtgärden {measure_id} finns inte i {municipality.name}. Se: samordna plan list --kommun "
            f"{municipality.code}"
        )
    today = local_day(now)
    if reported_on > today:
        raise ReportError(
            f"Rapportdatumet {reported_on.isoformat()} ligger i framtiden (i dag är det {today.isoformat()})."
        )
    return measure


def _close_tasks(session: Session, measure: Measure, reported_on: date, now: datetime) -> list[Task]:
    # due_date - window <= reported_on  <=>  due_date <= reported_on + window
    latest_due = reported_on + timedelta(days=ANSWER_WINDOW_DAYS)
    candidates = session.exec(
        select(Task)
        .where(
            Task.measure_id == measure.id,
            Task.kind == TaskKind.STATUS_REPORT,
            Task.state == TaskState.OPEN,
            Task.due_date <= latest_due,
        )
        .order_by(col(Task.due_date), col(Task.id))
    ).all()
    closed: list[Task] = []
    for task in candidates:
        changed = session.execute(
            sa.update(Task)
            .where(col(Task.id) == task.id, col(Task.state) == TaskState.OPEN)
            .values(state=TaskState.DONE, closed_at=now)
            .returning(col(Task.id)),
            execution_options={"synchronize_session": "fetch"},
        ).first()
        if changed is not None:
            closed.append(task)
    return closed


def _resolve(
    session: Session, measure: Measure, reported_on: date, closed_task_ids: set[int]
) -> list[Escalation]:
    candidates = session.exec(
        select(Escalation)
        .where(Escalation.measure_id == measure.id, col(Escalation.resolved_on).is_(None))
        .order_by(col(Escalation.opened_on), col(Escalation.id))
    ).all()
    if closed_task_ids:
        # A task's escalation may lack the measure id; find those by the task.
        known = {escalation.id for escalation in candidates}
        candidates = [
            *candidates,
            *(
                escalation
                for escalation in session.exec(
                    select(Escalation)
                    .where(
                        col(Escalation.task_id).in_(closed_task_ids), col(Escalation.resolved_on).is_(None)
                    )
                    .order_by(col(Escalation.opened_on), col(Escalation.id))
                )
                if escalation.id not in known
            ),
        ]
    resolved: list[Escalation] = []
    for escalation in candidates:
        resolution = resolution_reason(escalation, status=measure.status, closed_task_ids=closed_task_ids)
        if resolution is None:
            continue
        changed = session.execute(
            sa.update(Escalation)
            .where(col(Escalation.id) == escalation.id, col(Escalation.resolved_on).is_(None))
            .values(
                resolved_on=max(reported_on, escalation.opened_on), resolution=resolution[:RESOLUTION_LIMIT]
            )
            .returning(col(Escalation.id)),
            execution_options={"synchronize_session": "fetch"},
        ).first()
        if changed is not None:
            resolved.append(escalation)
    return resolved


def record_status_report(
    session: Session, municipality: Municipality, command: StatusReportCommand, *, now: datetime
) -> ReportOutcome:
    """Record ``command`` for its measure and put right what it answers (module docstring).

    Raises ReportError for a measure of another kommun, a date after ``now`` or a progress outside
    0–100. Never commits; flushes so the caller sees the rows.
    """
    measure_id = command.measure_id
    reported_on = command.reported_on or local_day(now)
    progress_percent = command.progress_percent
    status = command.status
    measure = _check(session, municipality, measure_id, reported_on, now)
    if progress_percent is not None and not 0 <= progress_percent <= 100:  # noqa: PLR2004 - a percentage
        raise ReportError(f"Framsteg ska vara 0–100 procent, inte {progress_percent}.")
    newer = session.exec(
        select(func.count())
        .select_from(StatusReport)
        .where(StatusReport.measure_id == measure_id, StatusReport.reported_on > reported_on)
    ).one()
    report = StatusReport(
        municipality_id=measure.municipality_id,
        measure_id=measure_id,
        reported_on=reported_on,
        status=status,
        progress_percent=progress_percent,
        comment=command.comment.strip(),
        next_step=command.next_step.strip(),
        reporter_name=command.reporter_name.strip(),
        reporter_person_id=command.reporter_person_id,
        recorded_at=now,
        source=command.source[:SOURCE_LIMIT],
    )
    session.add(report)
    previous = measure.status
    changed = newer == 0 and status != previous
    if changed:
        measure.status = status
        measure.status_changed_at = now
        session.add(measure)
    session.flush()
    closed = _close_tasks(session, measure, reported_on, now)
    resolved = _resolve(session, measure, reported_on, {task.id for task in closed if task.id is not None})
    session.flush()
    return ReportOutcome(
        report=report,
        measure=measure,
        previous_status=previous,
        status_changed=changed,
        closed_tasks=closed,
        resolved=resolved,
    )


@dataclass(slots=True)
class ImportSummary:
    """What a status import read and did."""

    file: Path
    rows: list[StatusRow] = field(default_factory=list)
    skipped: int = 0  # rows with an id but no status: not answered yet
    outcomes: list[ReportOutcome] = field(default_factory=list)

    @property
    def tasks_closed(self) -> int:
        return sum(len(outcome.closed_tasks) for outcome in self.outcomes)

    @property
    def escalations_resolved(self) -> int:
        return sum(len(outcome.resolved) for outcome in self.outcomes)


def import_status_sheet(
    session: Session, municipality: Municipality, path: Path, *, now: datetime
) -> ImportSummary:
    """Check the whole status sheet, then record every answered row. Never commits.

    The sheet is read and checked first (``importers.status_import``): any problem names its file,
    sheet, row and column and nothing is recorded.
    """
    rows, skipped = read_status_rows(session, municipality, path, now=now)
    summary = ImportSummary(file=path, rows=rows, skipped=skipped)
    for row in rows:
        command = StatusReportCommand(
            row.measure_id,
            row.status,
            reported_on=row.reported_on,
            comment=row.comment,
            progress_percent=row.progress_percent,
            next_step=row.next_step,
            reporter_name=row.reporter_name,
            source=SOURCE,
        )
        try:
            outcome = record_status_report(session, municipality, command, now=now)
        except ReportError as error:  # checked above; kept so a slip still names the row
            raise ImportFailedError([Problem(row.location, str(error))]) from error
        summary.outcomes.append(outcome)
    return summary


@dataclass(frozen=True, slots=True)
class OpenWork:
    """One open task of a person, with what it is about: a measure, an insats, or a step."""

    task: Task
    measure: Measure | None
    intervention: Intervention | None
    due: date  # the due date as the reminders count it (moved back to a working day)
    overdue_working_days: int  # 0 when not overdue


def open_work_of(session: Session, municipality_id: int, person_id: int, *, as_of: date) -> list[OpenWork]:
    """A person's open tasks across measures, EST insatser and lägesbild steps, soonest due first."""
    tasks = open_tasks(session, municipality_id, assignee_person_id=person_id)
    measure_ids = {task.measure_id for task in tasks if task.measure_id is not None}
    measures_by_id: dict[int | None, Measure] = {}
    if measure_ids:
        measures_by_id = {
            measure.id: measure
            for measure in session.exec(select(Measure).where(col(Measure.id).in_(measure_ids)))
        }
    intervention_ids = {
        found for task in tasks if (found := intervention_id_from_key(task.idempotency_key)) is not None
    }
    interventions: dict[int | None, Intervention] = {}
    if intervention_ids:
        interventions = {
            item.id: item
            for item in session.exec(select(Intervention).where(col(Intervention.id).in_(intervention_ids)))
        }
    work = []
    for task in tasks:
        due = previous_working_day(task.due_date)
        late = working_days_between(due, as_of) if due < as_of else 0
        work.append(
            OpenWork(
                task=task,
                measure=measures_by_id.get(task.measure_id),
                intervention=interventions.get(intervention_id_from_key(task.idempotency_key)),
                due=due,
                overdue_working_days=late,
            )
        )
    return work
