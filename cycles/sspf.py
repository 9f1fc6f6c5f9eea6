"""The SSPF cycle: case follow-up, consent review, the 18-year re-consent, and retention (gallring).

Functions of a session, a kommun, a day and the keyring that never commit; the Prefect flow that runs
them is ``flows/sspf.py``. Only kommunkoder, case ids, dates and counts cross into Prefect: never a
name, a personnummer, a birth date or a task subject, so Prefect's database and logs hold no personal
data (tests/test_sspf_flows.py reads them after a run).

Per open case, as of a day (the kommun's ``rytm.sspf``):
- follow-up: a task to the samordnare ``uppfoljning_veckor`` weeks after the last meeting (or the
  opening), created two weeks before it is due; a meeting answers it;
- consent review: a task to the samordnare before a consent's review date;
- 18 years: from ``samtycke_18_dagar_fore`` days before the youth turns 18, until a consent the youth
  gave alone on or after the birthday exists, a task to obtain it (due on the birthday);
Per closed case: ``gallring_manader`` months after closure the case is deleted (``radera``) or stripped
to statistics (``anonymisera``); a retention record says that it was, and tasks and messages that
named its actions are rewritten to say only that they were gallrade.

Every task is created once (unique idempotency keys); every read and write is in the audit log, by
the actor "system". Task subjects carry only the case code and the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import markupsafe
import pendulum
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import audit
from models.audit import AuditAction, AuditRecord
from models.crypto import Keyring
from models.municipality import Municipality
from models.outbox import OutboxMessage
from models.records import Event, insert_once
from models.rhythm import SspfRhythm, rhythm_from_json
from models.sspf import (
    CONSENT_REVIEW_KEY,
    RECONSENT_KEY,
    CaseState,
    Signer,
    SspfAction,
    SspfAssignment,
    SspfCase,
    SspfConsent,
    SspfConsentOrganisation,
    SspfDisclosure,
    SspfFactorAssessment,
    SspfMeeting,
    SspfRetentionRecord,
    adult_on,
    follow_up_key,
)
from models.task import Reminder, Task, TaskKind, TaskState
from models.working_days import previous_working_day

SYSTEM = "system"
FOLLOW_UP_CREATE_DAYS_BEFORE = 14
TASK = "uppgift"
RETAINED = "gallrad"


@dataclass(frozen=True, slots=True)
class Due:
    """Which cases a run must look at: open ones (tasks) and closed ones past retention."""

    open_case_ids: list[int]
    retention_case_ids: list[int]


def retention_due_on(closed_on: date, rhythm: SspfRhythm) -> date:
    """The day a case closed on ``closed_on`` is gallrad."""
    return pendulum.date(closed_on.year, closed_on.month, closed_on.day).add(months=rhythm.retention_months)


def cases_due(session: Session, municipality: Municipality, as_of: date) -> Due:
    rhythm = rhythm_from_json(municipality.rhythm).sspf
    open_ids = session.exec(
        select(SspfCase.id).where(
            SspfCase.municipality_id == municipality.id, SspfCase.state == CaseState.OPEN
        )
    ).all()
    closed = session.exec(
        select(SspfCase).where(
            SspfCase.municipality_id == municipality.id,
            col(SspfCase.state).in_([CaseState.CLOSED, CaseState.ANONYMISED]),
            col(SspfCase.closed_on).is_not(None),
        )
    ).all()
    retention = [
        case.id
        for case in closed
        if case.id is not None
        and case.closed_on is not None
        and retention_due_on(case.closed_on, rhythm) <= as_of
        and not (case.state == CaseState.ANONYMISED and rhythm.retention_method == "anonymisera")
    ]
    return Due([i for i in open_ids if i is not None], sorted(retention))


def _log(session: Session, case: SspfCase, action: AuditAction, purpose: str, detail: str) -> None:
    audit.append(
        session,
        AuditRecord(
            municipality_id=case.municipality_id,
            actor_person_id=None,
            actor=SYSTEM,
            action=action,
            command="sspf-cykel",
            purpose=purpose,
            within_assignment=True,
            case_id=case.id,
            case_code=case.code,
            detail=detail,
        ),
    )


def _coordinator_task(case: SspfCase, key: str, what: str, due: date) -> Task:
    return Task(
        municipality_id=case.municipality_id,
        kind=TaskKind.SSPF_ACTION,
        subject=f"{case.code}: {what}",
        due_date=previous_working_day(due),
        idempotency_key=key,
        assignee_person_id=case.coordinator_person_id,
        period_label=case.code,
    )


def _follow_up(session: Session, case: SspfCase, rhythm: SspfRhythm, as_of: date) -> Task | None:
    last_meeting = session.exec(
        select(sa.func.max(SspfMeeting.held_on)).where(SspfMeeting.case_id == case.id)
    ).one()
    since = max(case.opened_on, last_meeting) if last_meeting else case.opened_on
    due = since + timedelta(weeks=rhythm.follow_up_weeks)
    if as_of < due - timedelta(days=FOLLOW_UP_CREATE_DAYS_BEFORE):
        return None
    return _coordinator_task(case, follow_up_key(case.id or 0, due), "uppföljningsmöte enligt planen", due)


def _consent_reviews(session: Session, case: SspfCase, rhythm: SspfRhythm, as_of: date) -> list[Task]:
    found = session.exec(
        select(SspfConsent).where(SspfConsent.case_id == case.id, col(SspfConsent.withdrawn_on).is_(None))
    ).all()
    return [
        _coordinator_task(
            case,
            f"{CONSENT_REVIEW_KEY}:{consent.id}:{consent.review_on.isoformat()}",
            "ompröva samtycket",
            consent.review_on,
        )
        for consent in found
        if as_of >= consent.review_on - timedelta(days=rhythm.consent_review_days_before)
    ]


def _reconsent(
    session: Session, case: SspfCase, rhythm: SspfRhythm, as_of: date, keyring: Keyring
) -> Task | None:
    text = keyring.decrypt(case.birth_date_enc)
    if not text:
        return None
    adult = adult_on(date.fromisoformat(text))
    if as_of < adult - timedelta(days=rhythm.reconsent_days_before_18):
        return None
    own = session.exec(
        select(SspfConsent).where(
            SspfConsent.case_id == case.id,
            SspfConsent.given_on >= adult,
            col(SspfConsent.withdrawn_on).is_(None),
        )
    ).all()
    if any(consent.signers == [Signer.YOUTH.value] for consent in own):
        return None
    return _coordinator_task(case, f"{RECONSENT_KEY}:{case.id}", "nytt samtycke från den unga (18 år)", adult)


def follow_up_cases(session: Session, case_ids: list[int], as_of: date, keyring: Keyring) -> list[Event]:
    """Follow-up, consent review and 18-year tasks for open cases; each created once."""
    events: list[Event] = []
    for case_id in case_ids:
        case = session.get(SspfCase, case_id)
        if case is None or case.state != CaseState.OPEN:
            continue
        municipality = session.get(Municipality, case.municipality_id)
        rhythm = rhythm_from_json(municipality.rhythm if municipality else None).sspf
        planned = [
            _follow_up(session, case, rhythm, as_of),
            *_consent_reviews(session, case, rhythm, as_of),
            _reconsent(session, case, rhythm, as_of, keyring),
        ]
        created = [t for t in planned if t is not None and insert_once(session, t, key="idempotency_key")]
        _log(
            session,
            case,
            AuditAction.READ,
            "schemalagd uppföljning och samtyckeskontroll",
            f"{len(created)} nya uppgifter",
        )
        events.extend(Event(as_of, TASK, t.subject) for t in created)
    session.flush()
    return events


def _scrub_texts(session: Session, case: SspfCase) -> int:
    """Tasks, reminders and sent messages that named the case's actions say only that they were gallrade."""
    tasks = session.exec(
        select(Task).where(
            Task.municipality_id == case.municipality_id,
            Task.kind == TaskKind.SSPF_ACTION,
            col(Task.subject).startswith(f"{case.code}:"),
        )
    ).all()
    replacement = f"{case.code}: uppgift ({RETAINED})"
    for found in tasks:
        old = found.subject
        for reminder in session.exec(select(Reminder).where(Reminder.task_id == found.id)):
            reminder.subject = replacement
            session.add(reminder)
        messages = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.municipality_id == case.municipality_id,
                col(OutboxMessage.body_text).contains(old),
            )
        ).all()
        escaped = str(markupsafe.escape(old))
        for message in messages:
            message.body_text = message.body_text.replace(old, replacement)
            message.body_html = message.body_html.replace(escaped, replacement)
            session.add(message)
        found.subject = replacement
        if found.state == TaskState.OPEN:
            found.state = TaskState.CANCELLED
        session.add(found)
    return len(tasks)


def _delete_case_rows(session: Session, case: SspfCase, *, keep_case: bool) -> dict[str, int]:
    rows: dict[str, int] = {}
    consent_ids = list(session.exec(select(SspfConsent.id).where(SspfConsent.case_id == case.id)))
    children: list[tuple[str, sa.Delete]] = [
        ("utlämnanden", sa.delete(SspfDisclosure).where(col(SspfDisclosure.case_id) == case.id)),
        (
            "samtyckesorganisationer",
            sa.delete(SspfConsentOrganisation).where(
                col(SspfConsentOrganisation.consent_id).in_(consent_ids)
            ),
        ),
        ("samtycken", sa.delete(SspfConsent).where(col(SspfConsent.case_id) == case.id)),
        ("möten", sa.delete(SspfMeeting).where(col(SspfMeeting.case_id) == case.id)),
        ("åtgärder", sa.delete(SspfAction).where(col(SspfAction.case_id) == case.id)),
        ("team", sa.delete(SspfAssignment).where(col(SspfAssignment.case_id) == case.id)),
    ]
    if not keep_case:
        children.insert(
            0,
            (
                "faktorbedömningar",
                sa.delete(SspfFactorAssessment).where(col(SspfFactorAssessment.case_id) == case.id),
            ),
        )
    for name, statement in children:
        rows[name] = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return rows


def retain_cases(session: Session, case_ids: list[int], as_of: date) -> list[Event]:
    """Gallring: each closed case past its retention period deleted or anonymised, with a record."""
    events: list[Event] = []
    for case_id in case_ids:
        case = session.get(SspfCase, case_id)
        if case is None or case.closed_on is None:
            continue
        municipality = session.get(Municipality, case.municipality_id)
        rhythm = rhythm_from_json(municipality.rhythm if municipality else None).sspf
        due = retention_due_on(case.closed_on, rhythm)
        if due > as_of:
            continue
        rows = {"uppgifter": _scrub_texts(session, case)}
        anonymise = rhythm.retention_method == "anonymisera"
        rows.update(_delete_case_rows(session, case, keep_case=anonymise))
        record = SspfRetentionRecord(
            municipality_id=case.municipality_id,
            case_number=case.number,
            case_code=case.code,
            closed_on=case.closed_on,
            due_on=due,
            executed_on=as_of,
            method=rhythm.retention_method,
            rows=rows,
        )
        if not insert_once(session, record, key=("municipality_id", "case_code")):
            continue
        _log(
            session, case, AuditAction.RETENTION, "gallring enligt gallringsfristen", rhythm.retention_method
        )
        if anonymise:
            for assessment in session.exec(
                select(SspfFactorAssessment).where(SspfFactorAssessment.case_id == case.id)
            ):
                assessment.note_enc = None
                assessment.assessed_by_person_id = None
                session.add(assessment)
            for column in (
                "name_enc",
                "personnummer_enc",
                "birth_date_enc",
                "target_exception_enc",
                "risk_note_enc",
                "closure_note_enc",
            ):
                setattr(case, column, None)
            case.coordinator_person_id = None
            case.state = CaseState.ANONYMISED
            case.anonymised_on = as_of
            session.add(case)
        else:
            session.delete(case)
        events.append(Event(as_of, RETAINED, case.code))
    session.flush()
    return events


def run_sspf_cycle(
    session: Session, municipality: Municipality, as_of: date, keyring: Keyring
) -> list[Event]:
    """The whole cycle for one kommun in one transaction (the command line's --utan-prefect)."""
    due = cases_due(session, municipality, as_of)
    return [
        *follow_up_cases(session, due.open_case_ids, as_of, keyring),
        *retain_cases(session, due.retention_case_ids, as_of),
    ]
