"""SSPF use cases: every read and change of a case decided, done and audited in one transaction.

``run_audited`` is the door every SSPF use case goes through, whichever front door called it (the
command line or the web app): it identifies the acting person in the kommun's directory, runs the use
case in one transaction whose audit entries (``models.audit``) are written before the transaction
commits, and turns refusals into domain errors. When the audit entry cannot be written the transaction
rolls back and the caller shows nothing. A refusal is itself logged, in a transaction of its own
(the refused one rolls back). Personal data is decrypted only inside a use case, for the case team.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock
from core.errors import DomainError, InvalidInputError
from core.settings import Settings, get_settings
from cycles.sspf import cases_due, follow_up_cases, retain_cases
from models import audit
from models.audit import AuditAction, AuditKeyError, AuditKeys, AuditRecord, AuditWriteError, LogReview
from models.crypto import Keyring, KeyringError
from models.db import transaction
from models.directory import Organisation, Person, find_organisation, organisations, person_by_email, persons
from models.municipality import Municipality
from models.personnummer import PersonnummerError, find_personnummer, parse_personnummer
from models.records import Event, count_events
from models.rhythm import rhythm_from_json
from models.sspf import (
    FACTORS,
    FACTORS_BY_CODE,
    ActionState,
    Actor,
    CaseRole,
    CaseState,
    ClosureReason,
    DisclosureBasis,
    Factor,
    ReferralReason,
    RiskLevel,
    Signer,
    SspfAction,
    SspfAssignment,
    SspfCase,
    SspfConsent,
    SspfConsentOrganisation,
    SspfDisclosure,
    SspfFactorAssessment,
    SspfMeeting,
    SspfRole,
    SspfRoleGrant,
    active_assignment,
    adult_on,
    age_on,
    case_by_code,
    case_code,
    cases_of,
    close_follow_up_tasks,
    consent_is_valid,
    consent_refusal,
    consents,
    next_case_number,
    reencrypt_all,
    roles_of,
    team,
)
from models.sspf_access import AccessDeniedError, User, identify, require_case, require_role, user_of
from models.task import Task, TaskKind, TaskState
from models.types import utcnow
from models.working_days import previous_working_day
from notifications.audit_anchor import publish_anchor, read_anchors
from services.cycles import CYCLES, run_cycle
from services.municipalities import resolve_municipality

T = TypeVar("T")

AUDIT_FAILED = (
    "Åtgärden nekas: granskningsloggen kunde inte skrivas, så inga uppgifter visas eller ändras. "
    "Kontakta administratören."
)
ACTION_TEXT_LIMIT = 300
ONE_DAY = timedelta(days=1)


class SspfRefusedError(DomainError):
    """Access refused (and logged as refused): the message names no personal data."""


class SspfAuditFailedError(DomainError):
    """The audit entry could not be written, so nothing was read or changed."""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts, in which kommun, and why (the purpose is written to the audit log)."""

    email: str | None
    kommun: str | None = None
    purpose: str | None = None


@dataclass
class SspfCall:
    """One use case's run: its session, the user, what is being done and the audit helper."""

    session: Session
    municipality: Municipality
    user: User
    command: str
    purpose: str
    settings: Settings
    today: date

    @property
    def municipality_id(self) -> int:
        return self.municipality.id or 0

    @cached_property
    def keys(self) -> Keyring:
        return Keyring.from_settings(self.settings)

    @cached_property
    def audit_keys(self) -> AuditKeys | None:
        return audit_keys_of(self.settings)

    def log(
        self,
        action: AuditAction,
        case: SspfCase | None = None,
        *,
        detail: str = "",
        within_assignment: bool = True,
    ) -> None:
        audit.append(
            self.session,
            AuditRecord(
                municipality_id=self.municipality_id,
                actor_person_id=self.user.person_id,
                actor=self.user.email,
                action=action,
                command=self.command,
                purpose=self.purpose,
                within_assignment=within_assignment,
                case_id=case.id if case else None,
                case_code=case.code if case else "",
                detail=detail,
            ),
            keys=self.audit_keys,
        )

    def case(self, code: str) -> SspfCase:
        found = case_by_code(self.session, self.municipality_id, code)
        if found is None:
            raise AccessDeniedError(f"ärende {code.upper()} finns inte (eller är gallrat).")
        return found

    def birth(self, case: SspfCase) -> date | None:
        text = self.keys.decrypt(case.birth_date_enc)
        return date.fromisoformat(text) if text else None

    def access(self, case: SspfCase, *, coordinator: bool = False) -> SspfAssignment:
        return require_case(
            self.session, self.user, case, birth=self.birth(case), today=self.today, coordinator=coordinator
        )


def run_audited(
    engine: sa.Engine,
    settings: Settings,
    acting: Acting,
    command: str,
    default_purpose: str,
    work: Callable[[SspfCall], T],
) -> T:
    """Run ``work`` in one transaction with its audit entries; a refusal is logged in its own."""
    purpose = acting.purpose or default_purpose
    municipality_id = 0
    audit_keys_of(settings)  # a malformed audit key is a Swedish error before any work
    try:
        with transaction(engine) as session:
            municipality = resolve_municipality(session, acting.kommun, default=settings.kommun)
            municipality_id = municipality.id or 0
            user = identify(session, municipality_id, acting.email)
            call = SspfCall(session, municipality, user, command, purpose, settings, clock.today())
            result = work(call)
    except AccessDeniedError as denied:
        _log_refusal(engine, settings, acting, municipality_id, command, purpose, denied)
        publish_anchor(engine, settings, clock.now())
        raise SspfRefusedError(f"Nekad: {denied}") from None
    except AuditWriteError:
        raise SspfAuditFailedError(AUDIT_FAILED) from None
    except KeyringError as error:
        raise DomainError(_sentence(str(error))) from None
    # The chain is anchored outside the database when an anchor is due (notifications/audit_anchor.py).
    publish_anchor(engine, settings, clock.now())
    return result


def audit_keys_of(settings: Settings) -> AuditKeys | None:
    """The keys that seal audit entries (SAMORDNA_AUDIT_KEYS or its key file), None when unset."""
    try:
        return AuditKeys.from_settings(settings)
    except AuditKeyError as error:
        raise DomainError(_sentence(str(error))) from None


def _log_refusal(
    engine: sa.Engine,
    settings: Settings,
    acting: Acting,
    municipality_id: int,
    command: str,
    purpose: str,
    denied: AccessDeniedError,
) -> None:
    if not municipality_id:
        return
    try:
        with transaction(engine) as session:
            person = person_by_email(session, municipality_id, acting.email or "")
            audit.append(
                session,
                AuditRecord(
                    municipality_id=municipality_id,
                    actor_person_id=person.id if person else None,
                    actor=(acting.email or "okänd")[:320],
                    action=AuditAction.DENIED,
                    command=command,
                    purpose=purpose,
                    within_assignment=False,
                    case_id=denied.case_id,
                    case_code=denied.case_code,
                    detail=str(denied)[:300],
                ),
                keys=audit_keys_of(settings),
            )
    except AuditWriteError:
        raise SspfAuditFailedError(AUDIT_FAILED) from None


# ---------------------------------------------------------------------------------------------------
# Checks shared by the use cases


def organisation_named(session: Session, municipality_id: int, name: str, what: str) -> Organisation:
    found = find_organisation(session, municipality_id, name)
    if found is None:
        raise InvalidInputError(f'{what}: organisationen "{name}" finns inte i kommunens katalog.')
    return found


def person_named(session: Session, municipality_id: int, email: str, what: str) -> Person:
    person = person_by_email(session, municipality_id, email)
    if person is None:
        raise InvalidInputError(f'{what}: "{email}" finns inte i kommunens katalog.')
    return person


def free_text(text: str | None, what: str) -> str | None:
    """Free text about a case: refused when it holds a personnummer (those go in their own field)."""
    if text is None:
        return None
    if find_personnummer(text):
        raise InvalidInputError(f"{what}: texten innehåller ett personnummer. Skriv det aldrig i fritext.")
    return text.strip()


def birth_date(personnummer: str | None, given_birth: date | None) -> date:
    """The youth's birth date from the personnummer and/or the birth date given; they must agree."""
    birth: date | None = None
    if personnummer:
        try:
            birth = parse_personnummer(personnummer).birth_date
        except PersonnummerError as error:
            raise InvalidInputError(f"--personnummer: {error}") from None
    if given_birth is not None:
        if birth is not None and given_birth != birth:
            raise InvalidInputError("--fodelsedatum stämmer inte med personnumrets födelsedatum.")
        birth = given_birth
    if birth is None:
        raise InvalidInputError(
            "Ange --personnummer eller --fodelsedatum: åldern avgör om den unga hör till målgruppen."
        )
    return birth


def organisation_names(session: Session, organisation_ids: list[int]) -> list[str]:
    names = []
    for organisation_id in organisation_ids:
        organisation = session.get(Organisation, organisation_id)
        names.append(organisation.name if organisation else str(organisation_id))
    return names


# ---------------------------------------------------------------------------------------------------
# Cases: open, list, read, close


@dataclass(frozen=True, slots=True)
class OpenCaseCommand:
    referral_organisation: str
    reason: ReferralReason
    risk: RiskLevel
    referred_on: date | None = None  # None: today
    risk_note: str | None = None
    name: str | None = None
    personnummer: str | None = None
    birth: date | None = None
    guardians: int = 2
    exception: str | None = None  # why a youth outside the target ages is taken on


def open_case(call: SspfCall, command: OpenCaseCommand) -> tuple[SspfCase, bool]:
    """A new case under a pseudonymous code; the acting samordnare becomes its samordnare.

    Returns the case and whether it lies outside the target group (with a recorded exception)."""
    require_role(call.user, SspfRole.COORDINATOR)
    session, keys = call.session, call.keys
    referred = command.referred_on or call.today
    birth = birth_date(command.personnummer, command.birth)
    rhythm = rhythm_from_json(call.municipality.rhythm).sspf
    age = age_on(birth, referred)
    exception = free_text(command.exception, "--undantag")
    if not rhythm.target_min_age <= age <= rhythm.target_max_age and not exception:
        raise InvalidInputError(
            f"Den unga är {age} år vid hänvisningen, utanför målgruppen "
            f"{rhythm.target_min_age}–{rhythm.target_max_age} år. Ange skälet med --undantag om "
            "ärendet ändå ska öppnas."
        )
    source = organisation_named(session, call.municipality_id, command.referral_organisation, "--hanvisare")
    number = next_case_number(session, call.municipality_id)
    case = SspfCase(
        municipality_id=call.municipality_id,
        number=number,
        code=case_code(referred.year, number),
        opened_on=call.today,
        name_enc=keys.encrypt(command.name.strip() if command.name else None),
        personnummer_enc=keys.encrypt(
            parse_personnummer(command.personnummer).canonical if command.personnummer else None
        ),
        birth_date_enc=keys.encrypt(birth.isoformat()),
        guardian_count=command.guardians,
        target_exception_enc=keys.encrypt(exception),
        referral_organisation_id=source.id,
        referred_on=referred,
        referral_reason=command.reason,
        risk_level=command.risk,
        risk_note_enc=keys.encrypt(free_text(command.risk_note, "--riskkommentar")),
        coordinator_person_id=call.user.person_id,
    )
    session.add(case)
    session.flush()
    session.add(
        SspfAssignment(
            case_id=case.id or 0,
            person_id=call.user.person_id,
            organisation_id=call.user.organisation_id,
            role=CaseRole.COORDINATOR,
            added_at=utcnow(),
        )
    )
    call.log(AuditAction.WRITE, case, detail="ärendet skapat" + (" med undantag" if exception else ""))
    return case, bool(exception)


def list_cases(call: SspfCall) -> list[SspfCase]:
    """The cases whose team the user is in and may read now (codes only leave this function)."""
    require_role(call.user, SspfRole.COORDINATOR, SspfRole.OPERATIVE)
    shown = []
    for case in cases_of(call.session, call.user.person_id):
        try:
            call.access(case)
        except AccessDeniedError:
            continue  # in the team, but no consent for the member's organisation now
        call.log(AuditAction.READ, case, detail="i ärendelistan")
        shown.append(case)
    return shown


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as its team reads it, decrypted."""

    case: SspfCase
    youth_name: str | None
    personnummer: str | None
    birth: date | None
    age: int | None
    adult: date | None
    exception: str | None
    referral: str
    risk_note: str | None
    closure_note: str | None
    team: list[tuple[SspfAssignment, Person]] = field(default_factory=list)


def read_case(call: SspfCall, code: str) -> CaseView:
    """One case for a member of its team: the access decision and the audit entry come first."""
    case = call.case(code)
    call.access(case)
    keys, session = call.keys, call.session
    birth = call.birth(case)
    referral = session.get(Organisation, case.referral_organisation_id or 0)
    call.log(AuditAction.READ, case, detail="ärendet visat")
    return CaseView(
        case=case,
        youth_name=keys.decrypt(case.name_enc),
        personnummer=keys.decrypt(case.personnummer_enc),
        birth=birth,
        age=age_on(birth, call.today) if birth else None,
        adult=adult_on(birth) if birth else None,
        exception=keys.decrypt(case.target_exception_enc),
        referral=referral.name if referral else "",
        risk_note=keys.decrypt(case.risk_note_enc),
        closure_note=keys.decrypt(case.closure_note_enc),
        team=team(session, case.id or 0),
    )


@dataclass(frozen=True, slots=True)
class CloseCaseCommand:
    code: str
    reason: ClosureReason
    note: str | None = None
    closed_on: date | None = None  # None: today


def close_case(call: SspfCall, command: CloseCaseCommand) -> SspfCase:
    """Close a case (its samordnare only): open actions and their tasks are cancelled."""
    case = call.case(command.code)
    call.access(case, coordinator=True)
    if case.state != CaseState.OPEN:
        raise InvalidInputError(f"Ärende {case.code} är redan avslutat.")
    case.state = CaseState.CLOSED
    case.closed_on = command.closed_on or call.today
    case.closure_reason = command.reason
    case.closure_note_enc = call.keys.encrypt(free_text(command.note, "--kommentar"))
    call.session.add(case)
    cancelled = _cancel_open_work(call.session, case)
    call.log(
        AuditAction.WRITE, case, detail=f"avslutat: {command.reason.value}; {cancelled} uppgifter avbrutna"
    )
    return case


def _cancel_open_work(session: Session, case: SspfCase) -> int:
    """Open actions and every open task of the case are cancelled: reminders about it stop."""
    for action in session.exec(
        select(SspfAction).where(SspfAction.case_id == case.id, SspfAction.state == ActionState.OPEN)
    ):
        action.state = ActionState.CANCELLED
        session.add(action)
    tasks = session.exec(
        select(Task).where(
            Task.municipality_id == case.municipality_id,
            Task.kind == TaskKind.SSPF_ACTION,
            Task.state == TaskState.OPEN,
            col(Task.subject).startswith(f"{case.code}:"),
        )
    ).all()
    for task in tasks:
        task.state = TaskState.CANCELLED
        task.closed_at = utcnow()
        session.add(task)
    return len(tasks)


# ---------------------------------------------------------------------------------------------------
# Consent and disclosure


@dataclass(frozen=True, slots=True)
class ConsentCommand:
    code: str
    signers: tuple[Signer, ...]
    organisations: tuple[str, ...]
    purpose: str
    review_on: date
    given_on: date | None = None  # None: today


def register_consent(call: SspfCall, command: ConsentCommand) -> tuple[SspfConsent, SspfCase, int]:
    """A consent: who signed, which organisations it covers, its purpose and review date."""
    case = call.case(command.code)
    call.access(case, coordinator=True)
    given = command.given_on or call.today
    if command.review_on < given:
        raise InvalidInputError("--omprovas ligger före --datum.")
    covered = {
        organisation_named(call.session, call.municipality_id, name, "--organisation").id or 0
        for name in command.organisations
    }
    consent = SspfConsent(
        case_id=case.id or 0,
        signers=sorted({signer.value for signer in command.signers}),
        purpose=free_text(command.purpose, "--syfte") or "",
        given_on=given,
        review_on=command.review_on,
        recorded_by_person_id=call.user.person_id,
    )
    problem = consent_is_valid(consent, case.guardian_count, call.birth(case), given)
    if problem is not None:
        raise InvalidInputError(f"Samtycket registreras inte: {problem}.")
    call.session.add(consent)
    call.session.flush()
    for organisation_id in sorted(covered):
        call.session.add(SspfConsentOrganisation(consent_id=consent.id or 0, organisation_id=organisation_id))
    call.log(AuditAction.WRITE, case, detail=f"samtycke {consent.id} registrerat")
    return consent, case, len(covered)


def withdraw_consent(call: SspfCall, consent_id: int, on: date | None) -> tuple[SspfConsent, SspfCase]:
    """Withdraw a consent: nothing is shared on it from that day."""
    consent = call.session.get(SspfConsent, consent_id)
    case = call.session.get(SspfCase, consent.case_id) if consent else None
    if consent is None or case is None or case.municipality_id != call.municipality_id:
        raise AccessDeniedError(f"samtycke {consent_id} finns inte.")
    call.access(case, coordinator=True)
    if consent.withdrawn_on is not None:
        raise InvalidInputError(
            f"Samtycke {consent_id} är redan återkallat ({consent.withdrawn_on.isoformat()})."
        )
    consent.withdrawn_on = on or call.today
    call.session.add(consent)
    call.log(AuditAction.WRITE, case, detail=f"samtycke {consent_id} återkallat")
    return consent, case


def list_consents(
    call: SspfCall, code: str
) -> tuple[SspfCase, list[tuple[SspfConsent, list[str], str | None]]]:
    """The case's consents, the organisations each covers, and why each does not hold today
    (None: it holds)."""
    case = call.case(code)
    call.access(case)
    birth = call.birth(case)
    rows = [
        (
            consent,
            organisation_names(call.session, covered),
            consent_is_valid(consent, case.guardian_count, birth, call.today),
        )
        for consent, covered in consents(call.session, case.id or 0)
    ]
    call.log(AuditAction.READ, case, detail="samtycken visade")
    return case, rows


@dataclass(frozen=True, slots=True)
class DisclosureCommand:
    code: str
    organisation: str
    disclosed_on: date | None = None  # None: today
    legal_basis: str | None = None  # an OSL basis when the disclosure does not rest on consent
    motivation: str | None = None


def disclose(call: SspfCall, command: DisclosureCommand) -> tuple[SspfCase, Organisation, str]:
    """Record a disclosure: on a valid consent covering the organisation, or on a stated legal basis."""
    case = call.case(command.code)
    call.access(case, coordinator=True)
    organisation = organisation_named(
        call.session, call.municipality_id, command.organisation, "--organisation"
    )
    day = command.disclosed_on or call.today
    disclosure = SspfDisclosure(
        case_id=case.id or 0,
        organisation_id=organisation.id or 0,
        disclosed_on=day,
        basis=DisclosureBasis.CONSENT,
        recorded_by_person_id=call.user.person_id,
    )
    if command.legal_basis is not None:
        text = free_text(command.motivation, "--motivering")
        if not text:
            raise InvalidInputError("--motivering krävs när utlämnandet bygger på ett lagrum.")
        disclosure.basis = DisclosureBasis.LAW
        disclosure.legal_basis = command.legal_basis
        disclosure.motivation_enc = call.keys.encrypt(text)
    else:
        consent, reason = consent_refusal(call.session, case, organisation.id or 0, call.birth(case), day)
        if consent is None:
            raise AccessDeniedError(
                f"utlämnande av {case.code} till {organisation.name} nekas: {reason}. "
                "Registrera ett nytt samtycke, eller ange --lagrum och --motivering.",
                case,
            )
        disclosure.consent_id = consent.id
    call.session.add(disclosure)
    call.session.flush()
    basis = f"lagrum {command.legal_basis}" if command.legal_basis else f"samtycke {disclosure.consent_id}"
    call.log(AuditAction.DISCLOSURE, case, detail=f"till organisation {organisation.id} på {basis}")
    return case, organisation, basis


# ---------------------------------------------------------------------------------------------------
# Risk and protective factors


@dataclass(frozen=True, slots=True)
class FactorCommand:
    code: str
    factor: str
    level: int
    assessed_on: date | None = None  # None: today
    note: str | None = None


def assess_factor(call: SspfCall, command: FactorCommand) -> tuple[SspfCase, str, date]:
    """One assessment of a factor at a date; earlier ones stay, so change over time shows."""
    case = call.case(command.code)
    call.access(case)
    code = command.factor.strip().upper()
    if code not in FACTORS_BY_CODE:
        raise InvalidInputError(
            f'--faktor: "{command.factor}" finns inte i katalogen. Se: samordna sspf faktor katalog'
        )
    day = command.assessed_on or call.today
    exists = call.session.exec(
        select(SspfFactorAssessment).where(
            SspfFactorAssessment.case_id == case.id,
            SspfFactorAssessment.factor_code == code,
            SspfFactorAssessment.assessed_on == day,
        )
    ).first()
    if exists is not None:
        raise InvalidInputError(f"{code} är redan bedömd {day.isoformat()} i {case.code}.")
    call.session.add(
        SspfFactorAssessment(
            case_id=case.id or 0,
            factor_code=code,
            assessed_on=day,
            level=command.level,
            note_enc=call.keys.encrypt(free_text(command.note, "--kommentar")),
            assessed_by_person_id=call.user.person_id,
        )
    )
    call.log(AuditAction.WRITE, case, detail=f"faktor {code} bedömd")
    return case, code, day


def factor_history(
    call: SspfCall, code: str
) -> tuple[SspfCase, list[date], list[tuple[Factor, dict[date, int]]]]:
    """Every factor × assessment date of the case: the change over time."""
    case = call.case(code)
    call.access(case)
    assessments = call.session.exec(
        select(SspfFactorAssessment)
        .where(SspfFactorAssessment.case_id == case.id)
        .order_by(col(SspfFactorAssessment.assessed_on))
    ).all()
    dates = sorted({a.assessed_on for a in assessments})
    grid: dict[str, dict[date, int]] = {}
    for assessment in assessments:
        grid.setdefault(assessment.factor_code, {})[assessment.assessed_on] = assessment.level
    rows = [(factor, grid[factor.code]) for factor in FACTORS if factor.code in grid]
    call.log(AuditAction.READ, case, detail="faktorer visade")
    return case, dates, rows


# ---------------------------------------------------------------------------------------------------
# The åtagandeplan, meetings and the team


@dataclass(frozen=True, slots=True)
class ActionCommand:
    code: str
    actor: Actor
    owner_email: str
    text: str
    due: date


def create_action(call: SspfCall, command: ActionCommand) -> tuple[SspfAction, SspfCase]:
    """An action of the åtagandeplan; its owner (a team member whose organisation the consent covers)
    gets a task whose subject is only the case code and the action."""
    case = call.case(command.code)
    call.access(case, coordinator=True)
    if case.state != CaseState.OPEN:
        raise InvalidInputError(f"Ärende {case.code} är avslutat.")
    owner = person_named(call.session, call.municipality_id, command.owner_email, "--agare")
    owner_user = user_of(call.session, owner)
    try:
        assignment = require_case(call.session, owner_user, case, birth=call.birth(case), today=call.today)
    except AccessDeniedError as refused:
        raise InvalidInputError(f"--agare kan inte få åtgärden: {refused}") from None
    action_text = _action_text(call, case, command.text)
    due = previous_working_day(command.due)
    action = SspfAction(
        case_id=case.id or 0,
        actor=command.actor,
        organisation_id=assignment.organisation_id,
        owner_person_id=owner.id or 0,
        text=action_text,
        due_on=due,
    )
    call.session.add(action)
    call.session.flush()
    task = Task(
        municipality_id=call.municipality_id,
        kind=TaskKind.SSPF_ACTION,
        subject=f"{case.code}: {action_text}",
        due_date=due,
        idempotency_key=f"sspf-atgard:{action.id}",
        assignee_person_id=owner.id,
        assignee_organisation_id=assignment.organisation_id,
        period_label=case.code,
    )
    call.session.add(task)
    call.session.flush()
    action.task_id = task.id
    call.session.add(action)
    call.log(AuditAction.WRITE, case, detail=f"åtgärd {action.id} skapad")
    return action, case


def _action_text(call: SspfCall, case: SspfCase, text: str) -> str:
    """The action as it may appear in a reminder: no personnummer and not the youth's name."""
    cleaned = free_text(text, "--text") or ""
    name = call.keys.decrypt(case.name_enc)
    if name and any(part.casefold() in cleaned.casefold() for part in name.split() if len(part) > 2):  # noqa: PLR2004 - skip initials
        raise InvalidInputError(
            "--text innehåller den ungas namn. Åtgärden syns i påminnelser: skriv bara vad som ska göras."
        )
    if not cleaned:
        raise InvalidInputError("--text saknas.")
    return cleaned[:ACTION_TEXT_LIMIT]


def complete_action(call: SspfCall, action_id: int, on: date | None) -> tuple[SspfAction, SspfCase]:
    """The owner or the samordnare marks an action done: its task closes and its reminders stop."""
    action = call.session.get(SspfAction, action_id)
    case = call.session.get(SspfCase, action.case_id) if action else None
    if action is None or case is None or case.municipality_id != call.municipality_id:
        raise AccessDeniedError(f"åtgärd {action_id} finns inte.")
    assignment = call.access(case)
    if assignment.role != CaseRole.COORDINATOR and action.owner_person_id != call.user.person_id:
        raise AccessDeniedError("bara åtgärdens ägare eller ärendets samordnare kan markera den klar.", case)
    action.state = ActionState.DONE
    action.done_on = on or call.today
    call.session.add(action)
    task = call.session.get(Task, action.task_id) if action.task_id else None
    if task is not None and task.state == TaskState.OPEN:
        task.state = TaskState.DONE
        task.closed_at = utcnow()
        call.session.add(task)
    call.log(AuditAction.WRITE, case, detail=f"åtgärd {action_id} klar")
    return action, case


def list_actions(call: SspfCall, code: str) -> tuple[SspfCase, list[tuple[SspfAction, Person]]]:
    """The case's åtagandeplan with each action's owner."""
    case = call.case(code)
    call.access(case)
    rows = call.session.exec(
        select(SspfAction, Person)
        .join(Person, col(Person.id) == col(SspfAction.owner_person_id))
        .where(SspfAction.case_id == case.id)
        .order_by(col(SspfAction.due_on), col(SspfAction.id))
    ).all()
    call.log(AuditAction.READ, case, detail="åtagandeplan visad")
    return case, [(action, person) for action, person in rows]


def register_meeting(call: SspfCall, code: str, held_on: date, decisions: str) -> SspfCase:
    """A meeting and its decisions; it answers the case's open follow-up task."""
    case = call.case(code)
    call.access(case, coordinator=True)
    meeting = SspfMeeting(
        case_id=case.id or 0,
        held_on=held_on,
        decisions_enc=call.keys.encrypt(free_text(decisions, "--beslut")),
        recorded_by_person_id=call.user.person_id,
    )
    call.session.add(meeting)
    call.session.flush()
    close_follow_up_tasks(call.session, case, held_on)
    call.log(AuditAction.WRITE, case, detail=f"möte {meeting.id} registrerat")
    return case


def list_meetings(call: SspfCall, code: str) -> tuple[SspfCase, list[tuple[date, str]]]:
    """The case's meetings and their decisions, decrypted."""
    case = call.case(code)
    call.access(case)
    meetings = call.session.exec(
        select(SspfMeeting).where(SspfMeeting.case_id == case.id).order_by(col(SspfMeeting.held_on))
    ).all()
    rows = [(meeting.held_on, call.keys.decrypt(meeting.decisions_enc) or "") for meeting in meetings]
    call.log(AuditAction.READ, case, detail="möten visade")
    return case, rows


def add_team_member(
    call: SspfCall, code: str, email: str, organisation_name: str
) -> tuple[SspfCase, Person, Organisation]:
    """A member of the operative group for an organisation joins the case's team."""
    case = call.case(code)
    call.access(case, coordinator=True)
    person = person_named(call.session, call.municipality_id, email, "--person")
    organisation = organisation_named(call.session, call.municipality_id, organisation_name, "--organisation")
    held = roles_of(call.session, person)
    if organisation.id not in held.get(SspfRole.OPERATIVE, set()):
        raise InvalidInputError(
            f"{person.email} har ingen roll i den operativa gruppen för {organisation.name}. "
            "En administratör ger den med: samordna sspf roll tilldela"
        )
    if active_assignment(call.session, case.id or 0, person.id or 0) is not None:
        raise InvalidInputError(f"{person.email} ingår redan i teamet för {case.code}.")
    call.session.add(
        SspfAssignment(
            case_id=case.id or 0,
            person_id=person.id or 0,
            organisation_id=organisation.id,
            role=CaseRole.OPERATIVE,
            added_at=utcnow(),
        )
    )
    call.log(AuditAction.WRITE, case, detail=f"person {person.id} tillagd i teamet")
    return case, person, organisation


def remove_team_member(call: SspfCall, code: str, email: str) -> tuple[SspfCase, Person]:
    """A member leaves the team: their access ends at once."""
    case = call.case(code)
    call.access(case, coordinator=True)
    person = person_named(call.session, call.municipality_id, email, "--person")
    assignment = active_assignment(call.session, case.id or 0, person.id or 0)
    if assignment is None or assignment.role == CaseRole.COORDINATOR:
        raise InvalidInputError(f"{person.email} är ingen operativ medlem i teamet för {case.code}.")
    assignment.removed_at = utcnow()
    call.session.add(assignment)
    call.log(AuditAction.WRITE, case, detail=f"person {person.id} borttagen ur teamet")
    return case, person


def list_team(
    call: SspfCall, code: str
) -> tuple[SspfCase, list[tuple[SspfAssignment, Person]], dict[int | None, str]]:
    """The case's team, with the names of the organisations they represent."""
    case = call.case(code)
    call.access(case)
    members = team(call.session, case.id or 0)
    names = {o.id: o.name for o in organisations(call.session, call.municipality_id)}
    call.log(AuditAction.READ, case, detail="teamet visat")
    return case, members, names


# ---------------------------------------------------------------------------------------------------
# Administration: roles, the log review, keys, the cycle


def grant_role(
    call: SspfCall, email: str, role: SspfRole, organisation_name: str | None
) -> tuple[Person, Organisation | None]:
    """An administratör gives a person an SSPF role (operativ: for one organisation)."""
    require_role(call.user, SspfRole.ADMINISTRATOR)
    person = person_named(call.session, call.municipality_id, email, "--person")
    organisation = None
    if role == SspfRole.OPERATIVE:
        if organisation_name is None:
            raise InvalidInputError("--organisation krävs för rollen operativ.")
        organisation = organisation_named(
            call.session, call.municipality_id, organisation_name, "--organisation"
        )
    call.session.add(
        SspfRoleGrant(
            municipality_id=call.municipality_id,
            person_id=person.id or 0,
            role=role,
            organisation_id=organisation.id if organisation else None,
            granted_at=utcnow(),
        )
    )
    call.log(AuditAction.ADMINISTRATION, detail=f"roll {role.value} till person {person.id}")
    return person, organisation


def revoke_role(call: SspfCall, email: str, role: SspfRole) -> tuple[Person, int]:
    """An administratör revokes a role: access ends at once. Returns how many grants ended."""
    require_role(call.user, SspfRole.ADMINISTRATOR)
    person = person_named(call.session, call.municipality_id, email, "--person")
    grants = call.session.exec(
        select(SspfRoleGrant).where(
            SspfRoleGrant.person_id == person.id,
            SspfRoleGrant.role == role,
            col(SspfRoleGrant.revoked_at).is_(None),
        )
    ).all()
    for grant in grants:
        grant.revoked_at = utcnow()
        call.session.add(grant)
    call.log(AuditAction.ADMINISTRATION, detail=f"roll {role.value} återkallad för person {person.id}")
    return person, len(grants)


def list_roles(call: SspfCall) -> list[tuple[Person, str, str]]:
    """Who holds which SSPF role, and for which organisations."""
    require_role(call.user, SspfRole.ADMINISTRATOR)
    names = {o.id: o.name for o in organisations(call.session, call.municipality_id)}
    rows = []
    for person in persons(call.session, call.municipality_id):
        for role, held_for in sorted(roles_of(call.session, person).items()):
            places = ", ".join(sorted(names.get(o, "") for o in held_for if o is not None))
            rows.append((person, role.value, places))
    call.log(AuditAction.ADMINISTRATION, detail="roller visade")
    return rows


def review_log(call: SspfCall, start: date | None, end: date | None) -> tuple[LogReview, date, date]:
    """The loggkontroll of ``start``–``end`` (default: last month) with the chain checked."""
    require_role(call.user, SspfRole.ADMINISTRATOR)
    first_of_month = call.today.replace(day=1)
    last_month_end = first_of_month - ONE_DAY
    start = start or last_month_end.replace(day=1)
    end = end or last_month_end
    anchors, anchor_problems = read_anchors(call.settings.audit_anchor_file)
    report = audit.log_review(
        call.session,
        call.municipality_id,
        midnight(start),
        midnight(end + ONE_DAY),
        keys=call.audit_keys,
        anchors=anchors,
        anchor_problems=anchor_problems,
    )
    verdict = "obruten" if report.chain.intact else f"BRUTEN ({len(report.chain.breaks)})"
    call.log(
        AuditAction.ADMINISTRATION,
        detail=f"loggkontroll {start.isoformat()}–{end.isoformat()}: kedjan {verdict}",
    )
    return report, start, end


def rotate_keys(call: SspfCall) -> int:
    """Re-encrypt every encrypted value under the newest key; how many values were re-encrypted."""
    require_role(call.user, SspfRole.ADMINISTRATOR)
    count = reencrypt_all(call.session, call.keys.rotate)
    call.log(AuditAction.ADMINISTRATION, detail=f"nyckelbyte: {count} värden omkrypterade")
    return count


def authorise_cycle_run(call: SspfCall, day: date) -> str:
    """A samordnare or an administratör may run the SSPF cycle now; the start is logged. The kommunkod."""
    require_role(call.user, SspfRole.ADMINISTRATOR, SspfRole.COORDINATOR)
    call.log(AuditAction.ADMINISTRATION, detail=f"sspf-cykeln startad för {day.isoformat()}")
    return call.municipality.code


def run_cycle_now(engine: sa.Engine, settings: Settings, code: str, day: date) -> dict[str, int]:
    """The whole SSPF cycle for one kommun in one transaction, without Prefect; counts only. The keys
    must be configured (the samordnare asked for a run that may open cases)."""
    _keyring(settings)
    return count_events(run_cycle(engine, CYCLES["sspf"].run, code, day))


def _keyring(settings: Settings) -> Keyring:
    try:
        return Keyring.from_settings(settings)
    except KeyringError as error:
        raise DomainError(_sentence(str(error))) from None


def sspf_cycle(session: Session, municipality: Municipality, as_of: date) -> list[Event]:
    """The SSPF cycle for one kommun as the registry runs it (``services.cycles``: ``samordna sspf kor``,
    the national flow): follow-up, consent review, the 18-year re-consent and retention. The keys are
    read from the settings only when an open case needs them: a kommun without SSPF needs none."""
    due = cases_due(session, municipality, as_of)
    events: list[Event] = []
    if due.open_case_ids:
        events.extend(follow_up_cases(session, due.open_case_ids, as_of, _keyring(get_settings())))
    events.extend(retain_cases(session, due.retention_case_ids, as_of))
    return events


def midnight(day: date) -> datetime:
    """Midnight Europe/Stockholm starting ``day``, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=clock.STOCKHOLM)
