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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from flows.daily_sweep import ANSWER_WINDOW_DAYS, FINISHED_STATUSES
from models.enums import MeasureStatus
from models.escalation import Escalation, EscalationReason
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.task import Task, TaskKind, TaskState
from samordna.settings import TIMEZONE

__all__ = ["ReportError", "ReportOutcome", "record_status_report", "resolution_reason"]

SOURCE_LIMIT = 50
RESOLUTION_LIMIT = 1000


class ReportError(ValueError):
    """A status report that cannot be recorded; the message is Swedish and is shown as it is."""


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What recording one status report did, for the command line to print."""

    report: StatusReport
    measure: Measure
    previous_status: MeasureStatus
    status_changed: bool
    closed_tasks: Sequence[Task]
    resolved: Sequence[Escalation]  # with resolved_on and resolution as written


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


def _local_day(now: datetime) -> date:
    return now.astimezone(ZoneInfo(TIMEZONE)).date()


def _check(
    session: Session, municipality: Municipality, measure_id: int, reported_on: date, now: datetime
) -> Measure:
    measure = session.get(Measure, measure_id)
    if measure is None or measure.municipality_id != municipality.id:
        raise ReportError(
            f"Åtgärden {measure_id} finns inte i {municipality.name}. Se: samordna plan list --kommun "
            f"{municipality.code}"
        )
    today = _local_day(now)
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
    session: Session,
    municipality: Municipality,
    measure_id: int,
    *,
    status: MeasureStatus,
    reported_on: date,
    comment: str = "",
    progress_percent: int | None = None,
    next_step: str = "",
    reporter_name: str = "",
    source: str = "kommandorad",
    now: datetime,
) -> ReportOutcome:
    """Record a status report for ``measure_id`` and put right what it answers (module docstring).

    Raises ReportError for a measure of another kommun, a date after ``now`` or a progress outside
    0–100. Never commits; flushes so the caller sees the rows.
    """
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
        comment=comment.strip(),
        next_step=next_step.strip(),
        reporter_name=reporter_name.strip(),
        recorded_at=now,
        source=source[:SOURCE_LIMIT],
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
