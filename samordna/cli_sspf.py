"""``samordna sspf``: SSPF case management with privacy by design.

Every command names its user (``--anvandare`` or ``SAMORDNA_ANVANDARE``, an e-mail address in the
kommun's directory) and runs in one transaction that decides access (``models.sspf_access``), does its
work, and appends its audit entry (``models.audit``) before anything is printed: when the audit entry
cannot be written the transaction rolls back and nothing is shown. A refusal is logged in a transaction
of its own and ends as a Swedish message. Personal data is decrypted only here, for the case team.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import click
import pendulum
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import audit
from models.audit import AuditAction, AuditKeyError, AuditKeys, AuditRecord, AuditWriteError
from models.crypto import Keyring, KeyringError, new_key
from models.db import transaction
from models.directory import Organisation, Person, organisations, persons
from models.personnummer import PersonnummerError, find_personnummer, parse_personnummer
from models.rhythm import rhythm_from_json
from models.sspf import (
    FACTOR_LEVELS,
    FACTORS,
    FACTORS_BY_CODE,
    LEGAL_BASES,
    ActionState,
    Actor,
    CaseRole,
    CaseState,
    ClosureReason,
    DisclosureBasis,
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
    person_by_email,
    reencrypt_all,
    roles_of,
    team,
)
from models.sspf_access import AccessDeniedError, User, identify, require_case, require_role, user_of
from models.task import Task, TaskKind, TaskState
from models.types import utcnow
from models.working_days import previous_working_day
from samordna.cli_common import UserError, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup
from samordna.settings import TIMEZONE
from samordna.text import render

AUDIT_FAILED = (
    "åtgärden nekas: granskningsloggen kunde inte skrivas, så inga uppgifter visas eller ändras. "
    "Kontakta administratören."
)


@dataclass
class SspfContext:
    """What every SSPF command shares: who acts, where, why, and the keys (opened when needed)."""

    click_ctx: click.Context
    email: str | None
    kommun: str | None
    purpose: str | None

    @cached_property
    def engine(self) -> sa.Engine:
        return engine_of(self.click_ctx)

    @cached_property
    def keyring(self) -> Keyring:
        try:
            return Keyring.from_settings(settings_of(self.click_ctx))
        except KeyringError as error:
            raise UserError(_sentence(str(error))) from error

    @cached_property
    def audit_keys(self) -> AuditKeys | None:
        try:
            return AuditKeys.from_settings(settings_of(self.click_ctx))
        except AuditKeyError as error:
            raise UserError(_sentence(str(error))) from error

    def anchor(self) -> None:
        """Anchor the audit chain outside the database (notifications/audit_anchor.py) if it is due."""
        from notifications.audit_anchor import publish_anchor  # noqa: PLC0415 - apprise only when anchoring

        publish_anchor(self.engine, settings_of(self.click_ctx), utcnow())


@dataclass
class Call:
    """One command's run: its session, user and audit helper."""

    session: Session
    municipality_id: int
    user: User
    command: str
    purpose: str
    sspf: SspfContext

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
            keys=self.sspf.audit_keys,
        )

    @property
    def keys(self) -> Keyring:
        return self.sspf.keyring

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
            self.session, self.user, case, birth=self.birth(case), today=today(), coordinator=coordinator
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def today() -> date:
    return pendulum.now(TIMEZONE).date()


def _run(ctx: click.Context, command: str, default_purpose: str, work: Callable[[Call], str]) -> None:
    """Run ``work`` in one transaction with its audit entries; print its text only after the commit."""
    sspf: SspfContext = ctx.find_object(SspfContext)  # type: ignore[assignment]
    purpose = sspf.purpose or default_purpose
    engine = sspf.engine
    municipality_id = 0
    sspf.audit_keys  # noqa: B018 - a malformed audit key is a Swedish error before any work
    try:
        with transaction(engine) as session:
            municipality_id = municipality_of(session, ctx, sspf.kommun).id or 0
            user = identify(session, municipality_id, sspf.email)
            call = Call(session, municipality_id, user, command, purpose, sspf)
            text = work(call)
    except AccessDeniedError as denied:
        _log_refusal(sspf, municipality_id, command, purpose, denied)
        sspf.anchor()
        raise UserError(f"Nekad: {denied}") from None
    except AuditWriteError:
        raise UserError(_sentence(AUDIT_FAILED)) from None
    except KeyringError as error:
        raise UserError(_sentence(str(error))) from None
    sspf.anchor()
    click.echo(text, nl=False)


def _log_refusal(
    sspf: SspfContext, municipality_id: int, command: str, purpose: str, denied: AccessDeniedError
) -> None:
    if not municipality_id:
        return
    try:
        with transaction(sspf.engine) as session:
            person = person_by_email(session, municipality_id, sspf.email or "")
            audit.append(
                session,
                AuditRecord(
                    municipality_id=municipality_id,
                    actor_person_id=person.id if person else None,
                    actor=(sspf.email or "okänd")[:320],
                    action=AuditAction.DENIED,
                    command=command,
                    purpose=purpose,
                    within_assignment=False,
                    case_id=denied.case_id,
                    case_code=denied.case_code,
                    detail=str(denied)[:300],
                ),
                keys=sspf.audit_keys,
            )
    except AuditWriteError:
        raise UserError(_sentence(AUDIT_FAILED)) from None


# ---------------------------------------------------------------------------------------------------
# Parsing helpers


def _date(value: str | None, option: str, default: date | None = None) -> date:
    if value is None:
        if default is None:
            raise UserError(f"{option} saknas.")
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f'{option}: "{value}" är inget datum; skriv ÅÅÅÅ-MM-DD.') from None


def _organisation(session: Session, municipality_id: int, name: str, option: str) -> Organisation:
    wanted = name.strip().casefold()
    for organisation in organisations(session, municipality_id):
        if wanted in {organisation.name.casefold(), *(alias.casefold() for alias in organisation.aliases)}:
            return organisation
    raise UserError(f'{option}: organisationen "{name}" finns inte i kommunens katalog.')


def _person(session: Session, municipality_id: int, email: str, option: str) -> Person:
    person = person_by_email(session, municipality_id, email)
    if person is None:
        raise UserError(f'{option}: "{email}" finns inte i kommunens katalog.')
    return person


def _free_text(text: str | None, option: str) -> str | None:
    """Free text about a case: refused when it holds a personnummer (those go in --personnummer)."""
    if text is None:
        return None
    if find_personnummer(text):
        raise UserError(f"{option}: texten innehåller ett personnummer. Skriv det aldrig i fritext.")
    return text.strip()


def _names(organisation_ids: list[int], session: Session) -> list[str]:
    names = []
    for organisation_id in organisation_ids:
        organisation = session.get(Organisation, organisation_id)
        names.append(organisation.name if organisation else str(organisation_id))
    return names


# ---------------------------------------------------------------------------------------------------
# The group


def register(cli: click.Group) -> None:
    """Add the SSPF commands to the top-level group."""
    cli.add_command(sspf)


@click.group(cls=SwedishGroup)
@click.option(
    "--anvandare",
    "email",
    metavar="EPOST",
    help="Vem du är: din e-postadress i kommunens katalog (standard: SAMORDNA_ANVANDARE).",
)
@click.option(
    "--kommun", "kommun", metavar="KOMMUN", help="Kommunkod eller namn (standard: SAMORDNA_KOMMUN)."
)
@click.option("--syfte", metavar="TEXT", help="Varför du läser eller ändrar (skrivs i granskningsloggen).")
@click.pass_context
def sspf(ctx: click.Context, email: str | None, kommun: str | None, syfte: str | None) -> None:
    """SSPF-ärenden (skola, socialtjänst, polis, fritid): behovsstyrd åtkomst och granskningslogg."""
    ctx.obj = SspfContext(ctx, email or settings_of(ctx).acting_user, kommun, syfte)


@sspf.group("arende", cls=SwedishGroup)
def case_group() -> None:
    """Ärenden: skapa, lista, visa, stänga."""


@case_group.command("skapa")
@click.option("--hanvisare", required=True, metavar="ORG", help="Organisationen som hänvisade den unga.")
@click.option("--hanvisad", metavar="DATUM", help="Hänvisningens datum (standard: i dag).")
@click.option(
    "--orsak", required=True, type=click.Choice([r.value for r in ReferralReason]), help="Hänvisningsorsak."
)
@click.option(
    "--risk",
    required=True,
    type=click.Choice([r.value for r in RiskLevel]),
    help="Samordnarens riskbedömning.",
)
@click.option("--riskkommentar", metavar="TEXT", help="Motivering av riskbedömningen (krypteras).")
@click.option("--namn", metavar="NAMN", help="Den ungas namn (valfritt; krypteras).")
@click.option(
    "--personnummer", metavar="PNR", help="Den ungas personnummer (valfritt; kontrolleras, krypteras)."
)
@click.option("--fodelsedatum", metavar="DATUM", help="Födelsedatum när personnummer saknas (krypteras).")
@click.option("--vardnadshavare", type=click.IntRange(0, 2), default=2, show_default=True, help="Antal.")
@click.option("--undantag", metavar="ORSAK", help="Skäl att ta emot en ung utanför målgruppens ålder.")
@click.pass_context
def case_create(ctx: click.Context, /, **options: Any) -> None:
    """Skapa ett ärende; den unga får en pseudonym ärendekod och du blir ärendets samordnare."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.COORDINATOR)
        session, keys = call.session, call.keys
        referred = _date(options["hanvisad"], "--hanvisad", today())
        birth = _birth(options["personnummer"], options["fodelsedatum"])
        municipality = municipality_of(session, ctx, call.sspf.kommun)
        rhythm = rhythm_from_json(municipality.rhythm).sspf
        age = age_on(birth, referred)
        exception = _free_text(options["undantag"], "--undantag")
        if not rhythm.target_min_age <= age <= rhythm.target_max_age and not exception:
            raise UserError(
                f"Den unga är {age} år vid hänvisningen, utanför målgruppen "
                f"{rhythm.target_min_age}–{rhythm.target_max_age} år. Ange skälet med --undantag om "
                "ärendet ändå ska öppnas."
            )
        source = _organisation(session, call.municipality_id, options["hanvisare"], "--hanvisare")
        number = next_case_number(session, call.municipality_id)
        case = SspfCase(
            municipality_id=call.municipality_id,
            number=number,
            code=case_code(referred.year, number),
            opened_on=today(),
            name_enc=keys.encrypt(options["namn"].strip() if options["namn"] else None),
            personnummer_enc=keys.encrypt(
                parse_personnummer(options["personnummer"]).canonical if options["personnummer"] else None
            ),
            birth_date_enc=keys.encrypt(birth.isoformat()),
            guardian_count=options["vardnadshavare"],
            target_exception_enc=keys.encrypt(exception),
            referral_organisation_id=source.id,
            referred_on=referred,
            referral_reason=ReferralReason(options["orsak"]),
            risk_level=RiskLevel(options["risk"]),
            risk_note_enc=keys.encrypt(_free_text(options["riskkommentar"], "--riskkommentar")),
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
        return render("sspf/receipt.txt.j2", kind="skapat", case=case, outside=bool(exception))

    _run(ctx, "arende skapa", "nytt ärende efter hänvisning", work)


def _birth(personnummer: str | None, birth_text: str | None) -> date:
    birth: date | None = None
    if personnummer:
        try:
            birth = parse_personnummer(personnummer).birth_date
        except PersonnummerError as error:
            raise UserError(f"--personnummer: {error}") from None
    if birth_text:
        given = _date(birth_text, "--fodelsedatum")
        if birth is not None and given != birth:
            raise UserError("--fodelsedatum stämmer inte med personnumrets födelsedatum.")
        birth = given
    if birth is None:
        raise UserError(
            "Ange --personnummer eller --fodelsedatum: åldern avgör om den unga hör till målgruppen."
        )
    return birth


@case_group.command("lista")
@click.pass_context
def case_list(ctx: click.Context) -> None:
    """Lista ärendena i vars team du ingår (bara ärendekoder, inga namn)."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.COORDINATOR, SspfRole.OPERATIVE)
        shown = []
        for case in cases_of(call.session, call.user.person_id):
            try:
                call.access(case)
            except AccessDeniedError:
                continue  # in the team, but no consent for the member's organisation now
            call.log(AuditAction.READ, case, detail="i ärendelistan")
            shown.append(case)
        return render("sspf/case_list.txt.j2", cases=shown)

    _run(ctx, "arende lista", "översikt över egna ärenden", work)


@case_group.command("visa")
@click.argument("kod")
@click.pass_context
def case_show(ctx: click.Context, kod: str) -> None:
    """Visa ett ärende (bara för ärendets team)."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        keys, session = call.keys, call.session
        birth = call.birth(case)
        referral = session.get(Organisation, case.referral_organisation_id or 0)
        call.log(AuditAction.READ, case, detail="ärendet visat")
        return render(
            "sspf/case_show.txt.j2",
            case=case,
            youth_name=keys.decrypt(case.name_enc),
            personnummer=keys.decrypt(case.personnummer_enc),
            birth=birth,
            age=age_on(birth, today()) if birth else None,
            adult=adult_on(birth) if birth else None,
            exception=keys.decrypt(case.target_exception_enc),
            referral=referral.name if referral else "",
            risk_note=keys.decrypt(case.risk_note_enc),
            closure_note=keys.decrypt(case.closure_note_enc),
            team=team(session, case.id or 0),
        )

    _run(ctx, "arende visa", "handläggning av ärendet", work)


@case_group.command("stang")
@click.argument("kod")
@click.option("--orsak", required=True, type=click.Choice([r.value for r in ClosureReason]), help="Varför.")
@click.option("--kommentar", metavar="TEXT", help="Kort kommentar (krypteras).")
@click.option("--datum", metavar="DATUM", help="Avslutsdatum (standard: i dag).")
@click.pass_context
def case_close(ctx: click.Context, kod: str, orsak: str, kommentar: str | None, datum: str | None) -> None:
    """Avsluta ett ärende; öppna åtgärder och deras uppgifter avbryts. Gallras efter gallringstiden."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        if case.state != CaseState.OPEN:
            raise UserError(f"Ärende {case.code} är redan avslutat.")
        case.state = CaseState.CLOSED
        case.closed_on = _date(datum, "--datum", today())
        case.closure_reason = ClosureReason(orsak)
        case.closure_note_enc = call.keys.encrypt(_free_text(kommentar, "--kommentar"))
        call.session.add(case)
        cancelled = _cancel_open_work(call.session, case)
        call.log(AuditAction.WRITE, case, detail=f"avslutat: {orsak}; {cancelled} uppgifter avbrutna")
        return render("sspf/receipt.txt.j2", kind="avslutat", case=case, outside=False)

    _run(ctx, "arende stang", "avslut av ärendet", work)


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


@sspf.group("samtycke", cls=SwedishGroup)
def consent_group() -> None:
    """Samtycken: vem som skrivit under, vilka organisationer, syfte, omprövning, återkallelse."""


@consent_group.command("registrera")
@click.argument("kod")
@click.option(
    "--undertecknare",
    "signers",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Signer]),
    help="Vem som skrev under (upprepa: ung, vårdnadshavare_1, vårdnadshavare_2).",
)
@click.option(
    "--organisation", "orgs", multiple=True, required=True, metavar="ORG", help="Omfattas (upprepa)."
)
@click.option("--syfte", "consent_purpose", required=True, metavar="TEXT", help="Samtyckets syfte.")
@click.option("--datum", metavar="DATUM", help="Dagen samtycket lämnades (standard: i dag).")
@click.option("--omprovas", required=True, metavar="DATUM", help="Senaste dag för omprövning.")
@click.pass_context
def consent_register(
    ctx: click.Context,
    kod: str,
    signers: tuple[str, ...],
    orgs: tuple[str, ...],
    consent_purpose: str,
    datum: str | None,
    omprovas: str,
) -> None:
    """Registrera ett samtycke. Före 18 år: den unga och varje vårdnadshavare; från 18: den unga ensam."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        given = _date(datum, "--datum", today())
        review = _date(omprovas, "--omprovas")
        if review < given:
            raise UserError("--omprovas ligger före --datum.")
        covered = {
            _organisation(call.session, call.municipality_id, name, "--organisation").id or 0 for name in orgs
        }
        consent = SspfConsent(
            case_id=case.id or 0,
            signers=sorted(set(signers)),
            purpose=_free_text(consent_purpose, "--syfte") or "",
            given_on=given,
            review_on=review,
            recorded_by_person_id=call.user.person_id,
        )
        problem = consent_is_valid(consent, case.guardian_count, call.birth(case), given)
        if problem is not None:
            raise UserError(f"Samtycket registreras inte: {problem}.")
        call.session.add(consent)
        call.session.flush()
        for organisation_id in sorted(covered):
            call.session.add(
                SspfConsentOrganisation(consent_id=consent.id or 0, organisation_id=organisation_id)
            )
        call.log(AuditAction.WRITE, case, detail=f"samtycke {consent.id} registrerat")
        return f"Samtycke {consent.id} i {case.code} är registrerat ({len(covered)} organisationer).\n"

    _run(ctx, "samtycke registrera", "registrering av samtycke", work)


@consent_group.command("aterkalla")
@click.argument("samtycke_id", type=int, metavar="ID")
@click.option(
    "--datum", metavar="DATUM", help="Dagen den unga eller vårdnadshavaren återkallade (standard: i dag)."
)
@click.pass_context
def consent_withdraw(ctx: click.Context, samtycke_id: int, datum: str | None) -> None:
    """Återkalla ett samtycke: inget lämnas ut på det från och med den dagen."""

    def work(call: Call) -> str:
        consent = call.session.get(SspfConsent, samtycke_id)
        case = call.session.get(SspfCase, consent.case_id) if consent else None
        if consent is None or case is None or case.municipality_id != call.municipality_id:
            raise AccessDeniedError(f"samtycke {samtycke_id} finns inte.")
        call.access(case, coordinator=True)
        if consent.withdrawn_on is not None:
            raise UserError(
                f"Samtycke {samtycke_id} är redan återkallat ({consent.withdrawn_on.isoformat()})."
            )
        consent.withdrawn_on = _date(datum, "--datum", today())
        call.session.add(consent)
        call.log(AuditAction.WRITE, case, detail=f"samtycke {samtycke_id} återkallat")
        return (
            f"Samtycke {samtycke_id} i {case.code} är återkallat från {consent.withdrawn_on.isoformat()}.\n"
        )

    _run(ctx, "samtycke aterkalla", "återkallelse av samtycke", work)


@consent_group.command("lista")
@click.argument("kod")
@click.pass_context
def consent_list(ctx: click.Context, kod: str) -> None:
    """Lista ärendets samtycken och om de gäller i dag."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        birth = call.birth(case)
        rows = [
            (
                consent,
                _names(covered, call.session),
                consent_is_valid(consent, case.guardian_count, birth, today()),
            )
            for consent, covered in consents(call.session, case.id or 0)
        ]
        call.log(AuditAction.READ, case, detail="samtycken visade")
        return render("sspf/consent_list.txt.j2", case=case, rows=rows)

    _run(ctx, "samtycke lista", "kontroll av samtycken", work)


@sspf.command("utlamna")
@click.argument("kod")
@click.option("--organisation", "org", required=True, metavar="ORG", help="Mottagande organisation.")
@click.option("--datum", metavar="DATUM", help="Dagen för utlämnandet (standard: i dag).")
@click.option(
    "--lagrum", type=click.Choice(sorted(LEGAL_BASES)), help="Lagrum när utlämnandet inte bygger på samtycke."
)
@click.option("--motivering", metavar="TEXT", help="Varför lagrummet är tillämpligt (krypteras).")
@click.pass_context
def disclose(
    ctx: click.Context, kod: str, org: str, datum: str | None, lagrum: str | None, motivering: str | None
) -> None:
    """Registrera ett utlämnande till en organisation: kräver giltigt samtycke, eller lagrum."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        organisation = _organisation(call.session, call.municipality_id, org, "--organisation")
        day = _date(datum, "--datum", today())
        disclosure = SspfDisclosure(
            case_id=case.id or 0,
            organisation_id=organisation.id or 0,
            disclosed_on=day,
            basis=DisclosureBasis.CONSENT,
            recorded_by_person_id=call.user.person_id,
        )
        if lagrum is not None:
            text = _free_text(motivering, "--motivering")
            if not text:
                raise UserError("--motivering krävs när utlämnandet bygger på ett lagrum.")
            disclosure.basis = DisclosureBasis.LAW
            disclosure.legal_basis = lagrum
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
        basis = f"lagrum {lagrum}" if lagrum else f"samtycke {disclosure.consent_id}"
        call.log(AuditAction.DISCLOSURE, case, detail=f"till organisation {organisation.id} på {basis}")
        return f"Utlämnandet av {case.code} till {organisation.name} är registrerat ({basis}).\n"

    _run(ctx, "utlamna", "utlämnande till samverkanspart", work)


# ---------------------------------------------------------------------------------------------------
# Risk and protective factors


@sspf.group("faktor", cls=SwedishGroup)
def factor_group() -> None:
    """Risk- och skyddsfaktorer enligt Socialstyrelsens lista, bedömda vid ett datum."""


@factor_group.command("katalog")
def factor_catalogue() -> None:
    """Visa faktorerna och deras koder (inga ärendeuppgifter)."""
    click.echo(render("sspf/factor_catalogue.txt.j2", factors=FACTORS, levels=FACTOR_LEVELS), nl=False)


@factor_group.command("bedom")
@click.argument("kod")
@click.option(
    "--faktor", required=True, metavar="KOD", help="Faktorns kod (se: samordna sspf faktor katalog)."
)
@click.option("--niva", required=True, type=click.IntRange(0, 3), help="0 saknas, 1 låg, 2 måttlig, 3 hög.")
@click.option("--datum", metavar="DATUM", help="Bedömningens datum (standard: i dag).")
@click.option("--kommentar", metavar="TEXT", help="Kort motivering (krypteras).")
@click.pass_context
def factor_assess(
    ctx: click.Context, kod: str, faktor: str, niva: int, datum: str | None, kommentar: str | None
) -> None:
    """Bedöm en faktor vid ett datum; tidigare bedömningar står kvar, så förändringen syns."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        code = faktor.strip().upper()
        if code not in FACTORS_BY_CODE:
            raise UserError(f'--faktor: "{faktor}" finns inte i katalogen. Se: samordna sspf faktor katalog')
        day = _date(datum, "--datum", today())
        exists = call.session.exec(
            select(SspfFactorAssessment).where(
                SspfFactorAssessment.case_id == case.id,
                SspfFactorAssessment.factor_code == code,
                SspfFactorAssessment.assessed_on == day,
            )
        ).first()
        if exists is not None:
            raise UserError(f"{code} är redan bedömd {day.isoformat()} i {case.code}.")
        call.session.add(
            SspfFactorAssessment(
                case_id=case.id or 0,
                factor_code=code,
                assessed_on=day,
                level=niva,
                note_enc=call.keys.encrypt(_free_text(kommentar, "--kommentar")),
                assessed_by_person_id=call.user.person_id,
            )
        )
        call.log(AuditAction.WRITE, case, detail=f"faktor {code} bedömd")
        return f"{code} i {case.code}: {FACTOR_LEVELS[niva]} ({day.isoformat()}).\n"

    _run(ctx, "faktor bedom", "kartläggning av risk- och skyddsfaktorer", work)


@factor_group.command("lista")
@click.argument("kod")
@click.pass_context
def factor_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets bedömningar per faktor och datum: förändringen över tid."""

    def work(call: Call) -> str:
        case = call.case(kod)
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
        return render("sspf/factor_list.txt.j2", case=case, dates=dates, rows=rows, levels=FACTOR_LEVELS)

    _run(ctx, "faktor lista", "uppföljning av risk- och skyddsfaktorer", work)


# ---------------------------------------------------------------------------------------------------
# The åtagandeplan, meetings and the team


@sspf.group("atgard", cls=SwedishGroup)
def action_group() -> None:
    """Åtagandeplanen: åtgärder per aktör med ägare och sista dag; de blir uppgifter med påminnelser."""


@action_group.command("skapa")
@click.argument("kod")
@click.option("--aktor", required=True, type=click.Choice([a.value for a in Actor]), help="Vem som gör den.")
@click.option("--agare", required=True, metavar="EPOST", help="Ansvarig person (i ärendets team).")
@click.option("--text", "text", required=True, metavar="TEXT", help="Åtgärden, utan namn eller personnummer.")
@click.option("--senast", required=True, metavar="DATUM", help="Sista dag (flyttas till arbetsdag).")
@click.pass_context
def action_create(ctx: click.Context, kod: str, aktor: str, agare: str, text: str, senast: str) -> None:
    """Lägg till en åtgärd; ägaren får en uppgift vars ämne bara är ärendekoden och åtgärden."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        if case.state != CaseState.OPEN:
            raise UserError(f"Ärende {case.code} är avslutat.")
        owner = _person(call.session, call.municipality_id, agare, "--agare")
        owner_user = user_of(call.session, owner)
        try:
            assignment = require_case(call.session, owner_user, case, birth=call.birth(case), today=today())
        except AccessDeniedError as refused:
            raise UserError(f"--agare kan inte få åtgärden: {refused}") from None
        action_text = _action_text(call, case, text)
        due = previous_working_day(_date(senast, "--senast"))
        action = SspfAction(
            case_id=case.id or 0,
            actor=Actor(aktor),
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
        return (
            f"Åtgärd {action.id} i {case.code} är skapad, senast {due.isoformat()}; ägaren får en uppgift.\n"
        )

    _run(ctx, "atgard skapa", "åtagandeplan", work)


def _action_text(call: Call, case: SspfCase, text: str) -> str:
    """The action as it may appear in a reminder: no personnummer and not the youth's name."""
    cleaned = _free_text(text, "--text") or ""
    name = call.keys.decrypt(case.name_enc)
    if name and any(part.casefold() in cleaned.casefold() for part in name.split() if len(part) > 2):  # noqa: PLR2004 - skip initials
        raise UserError(
            "--text innehåller den ungas namn. Åtgärden syns i påminnelser: skriv bara vad som ska göras."
        )
    if not cleaned:
        raise UserError("--text saknas.")
    return cleaned[:300]


@action_group.command("klar")
@click.argument("atgard_id", type=int, metavar="ID")
@click.option("--datum", metavar="DATUM", help="När den blev klar (standard: i dag).")
@click.pass_context
def action_done(ctx: click.Context, atgard_id: int, datum: str | None) -> None:
    """Markera en åtgärd som klar (ägaren eller samordnaren); påminnelserna upphör."""

    def work(call: Call) -> str:
        action = call.session.get(SspfAction, atgard_id)
        case = call.session.get(SspfCase, action.case_id) if action else None
        if action is None or case is None or case.municipality_id != call.municipality_id:
            raise AccessDeniedError(f"åtgärd {atgard_id} finns inte.")
        assignment = call.access(case)
        if assignment.role != CaseRole.COORDINATOR and action.owner_person_id != call.user.person_id:
            raise AccessDeniedError(
                "bara åtgärdens ägare eller ärendets samordnare kan markera den klar.", case
            )
        action.state = ActionState.DONE
        action.done_on = _date(datum, "--datum", today())
        call.session.add(action)
        task = call.session.get(Task, action.task_id) if action.task_id else None
        if task is not None and task.state == TaskState.OPEN:
            task.state = TaskState.DONE
            task.closed_at = utcnow()
            call.session.add(task)
        call.log(AuditAction.WRITE, case, detail=f"åtgärd {atgard_id} klar")
        return f"Åtgärd {atgard_id} i {case.code} är klar.\n"

    _run(ctx, "atgard klar", "åtagandeplan", work)


@action_group.command("lista")
@click.argument("kod")
@click.pass_context
def action_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets åtagandeplan."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        rows = call.session.exec(
            select(SspfAction, Person)
            .join(Person, col(Person.id) == col(SspfAction.owner_person_id))
            .where(SspfAction.case_id == case.id)
            .order_by(col(SspfAction.due_on), col(SspfAction.id))
        ).all()
        call.log(AuditAction.READ, case, detail="åtagandeplan visad")
        return render("sspf/action_list.txt.j2", case=case, rows=rows)

    _run(ctx, "atgard lista", "åtagandeplan", work)


@sspf.group("mote", cls=SwedishGroup)
def meeting_group() -> None:
    """Möten i ärendet: datum och beslut."""


@meeting_group.command("registrera")
@click.argument("kod")
@click.option("--datum", required=True, metavar="DATUM", help="Mötets datum.")
@click.option("--beslut", required=True, metavar="TEXT", help="Beslut (krypteras).")
@click.pass_context
def meeting_register(ctx: click.Context, kod: str, datum: str, beslut: str) -> None:
    """Registrera ett möte och dess beslut; öppna uppföljningsuppgifter för ärendet blir klara."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        held = _date(datum, "--datum")
        meeting = SspfMeeting(
            case_id=case.id or 0,
            held_on=held,
            decisions_enc=call.keys.encrypt(_free_text(beslut, "--beslut")),
            recorded_by_person_id=call.user.person_id,
        )
        call.session.add(meeting)
        call.session.flush()
        close_follow_up_tasks(call.session, case, held)
        call.log(AuditAction.WRITE, case, detail=f"möte {meeting.id} registrerat")
        return f"Mötet {held.isoformat()} i {case.code} är registrerat.\n"

    _run(ctx, "mote registrera", "uppföljningsmöte", work)


@meeting_group.command("lista")
@click.argument("kod")
@click.pass_context
def meeting_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets möten och beslut."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        meetings = call.session.exec(
            select(SspfMeeting).where(SspfMeeting.case_id == case.id).order_by(col(SspfMeeting.held_on))
        ).all()
        rows = [(meeting.held_on, call.keys.decrypt(meeting.decisions_enc) or "") for meeting in meetings]
        call.log(AuditAction.READ, case, detail="möten visade")
        return render("sspf/meeting_list.txt.j2", case=case, rows=rows)

    _run(ctx, "mote lista", "uppföljningsmöte", work)


@sspf.group("team", cls=SwedishGroup)
def team_group() -> None:
    """Ärendets team: bara de som ingår i det läser ärendet."""


@team_group.command("lagg-till")
@click.argument("kod")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen som ska ingå.")
@click.option(
    "--organisation", "org", required=True, metavar="ORG", help="Organisationen personen företräder."
)
@click.pass_context
def team_add(ctx: click.Context, kod: str, email: str, org: str) -> None:
    """Lägg till en medlem ur den operativa gruppen för en organisation."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        person = _person(call.session, call.municipality_id, email, "--person")
        organisation = _organisation(call.session, call.municipality_id, org, "--organisation")
        held = roles_of(call.session, person)
        if organisation.id not in held.get(SspfRole.OPERATIVE, set()):
            raise UserError(
                f"{person.email} har ingen roll i den operativa gruppen för {organisation.name}. "
                "En administratör ger den med: samordna sspf roll tilldela"
            )
        if active_assignment(call.session, case.id or 0, person.id or 0) is not None:
            raise UserError(f"{person.email} ingår redan i teamet för {case.code}.")
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
        return f"{person.name} ingår nu i teamet för {case.code} ({organisation.name}).\n"

    _run(ctx, "team lagg-till", "teamets sammansättning", work)


@team_group.command("ta-bort")
@click.argument("kod")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen som ska lämna teamet.")
@click.pass_context
def team_remove(ctx: click.Context, kod: str, email: str) -> None:
    """Ta bort en medlem ur teamet: åtkomsten upphör genast."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case, coordinator=True)
        person = _person(call.session, call.municipality_id, email, "--person")
        assignment = active_assignment(call.session, case.id or 0, person.id or 0)
        if assignment is None or assignment.role == CaseRole.COORDINATOR:
            raise UserError(f"{person.email} är ingen operativ medlem i teamet för {case.code}.")
        assignment.removed_at = utcnow()
        call.session.add(assignment)
        call.log(AuditAction.WRITE, case, detail=f"person {person.id} borttagen ur teamet")
        return f"{person.name} ingår inte längre i teamet för {case.code}.\n"

    _run(ctx, "team ta-bort", "teamets sammansättning", work)


@team_group.command("lista")
@click.argument("kod")
@click.pass_context
def team_list(ctx: click.Context, kod: str) -> None:
    """Visa ärendets team."""

    def work(call: Call) -> str:
        case = call.case(kod)
        call.access(case)
        members = team(call.session, case.id or 0)
        names = {o.id: o.name for o in organisations(call.session, call.municipality_id)}
        call.log(AuditAction.READ, case, detail="teamet visat")
        return render("sspf/team_list.txt.j2", case=case, members=members, organisations=names)

    _run(ctx, "team lista", "teamets sammansättning", work)


# ---------------------------------------------------------------------------------------------------
# Administration: roles, the log review, keys, the cycle


@sspf.group("roll", cls=SwedishGroup)
def role_group() -> None:
    """SSPF-roller (administratör): samordnare, operativ (per organisation), administratör."""


@role_group.command("tilldela")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen.")
@click.option("--roll", "role", required=True, type=click.Choice([r.value for r in SspfRole]), help="Rollen.")
@click.option("--organisation", "org", metavar="ORG", help="Organisationen (krävs för operativ).")
@click.pass_context
def role_grant(ctx: click.Context, email: str, role: str, org: str | None) -> None:
    """Ge en person en SSPF-roll."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR)
        person = _person(call.session, call.municipality_id, email, "--person")
        wanted = SspfRole(role)
        organisation = None
        if wanted == SspfRole.OPERATIVE:
            if org is None:
                raise UserError("--organisation krävs för rollen operativ.")
            organisation = _organisation(call.session, call.municipality_id, org, "--organisation")
        call.session.add(
            SspfRoleGrant(
                municipality_id=call.municipality_id,
                person_id=person.id or 0,
                role=wanted,
                organisation_id=organisation.id if organisation else None,
                granted_at=utcnow(),
            )
        )
        call.log(AuditAction.ADMINISTRATION, detail=f"roll {role} till person {person.id}")
        where = f" för {organisation.name}" if organisation else ""
        return f"{person.name} har rollen {role}{where}.\n"

    _run(ctx, "roll tilldela", "behörighetsadministration", work)


@role_group.command("aterkalla")
@click.option("--person", "email", required=True, metavar="EPOST", help="Personen.")
@click.option("--roll", "role", required=True, type=click.Choice([r.value for r in SspfRole]), help="Rollen.")
@click.pass_context
def role_revoke(ctx: click.Context, email: str, role: str) -> None:
    """Återkalla en SSPF-roll: åtkomsten upphör genast."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR)
        person = _person(call.session, call.municipality_id, email, "--person")
        grants = call.session.exec(
            select(SspfRoleGrant).where(
                SspfRoleGrant.person_id == person.id,
                SspfRoleGrant.role == SspfRole(role),
                col(SspfRoleGrant.revoked_at).is_(None),
            )
        ).all()
        for grant in grants:
            grant.revoked_at = utcnow()
            call.session.add(grant)
        call.log(AuditAction.ADMINISTRATION, detail=f"roll {role} återkallad för person {person.id}")
        return f"{len(grants)} tilldelningar av {role} för {person.name} är återkallade.\n"

    _run(ctx, "roll aterkalla", "behörighetsadministration", work)


@role_group.command("lista")
@click.pass_context
def role_list(ctx: click.Context) -> None:
    """Visa vem som har vilken SSPF-roll."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR)
        names = {o.id: o.name for o in organisations(call.session, call.municipality_id)}
        rows = []
        for person in persons(call.session, call.municipality_id):
            for role, held_for in sorted(roles_of(call.session, person).items()):
                places = ", ".join(sorted(names.get(o, "") for o in held_for if o is not None))
                rows.append((person, role.value, places))
        call.log(AuditAction.ADMINISTRATION, detail="roller visade")
        return render("sspf/role_list.txt.j2", rows=rows)

    _run(ctx, "roll lista", "behörighetsadministration", work)


@sspf.command("logg")
@click.option("--fran", metavar="DATUM", help="Första dagen (standard: första dagen förra månaden).")
@click.option("--till", metavar="DATUM", help="Sista dagen (standard: sista dagen förra månaden).")
@click.pass_context
def log_review(ctx: click.Context, fran: str | None, till: str | None) -> None:
    """Loggkontroll: läsningar per användare och ärende, utanför uppdrag, nekade försök, och kedjan
    kontrollerad mot nyckeln, ankarna och spärrarna (slutkod 3 om något är brutet)."""
    from notifications.audit_anchor import read_anchors  # noqa: PLC0415 - only this command reads anchors

    found: list[audit.LogReview] = []

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR)
        first_of_month = today().replace(day=1)
        last_month_end = first_of_month - ONE_DAY
        start = _date(fran, "--fran", last_month_end.replace(day=1))
        end = _date(till, "--till", last_month_end)
        anchors, anchor_problems = read_anchors(settings_of(ctx).audit_anchor_file)
        report = audit.log_review(
            call.session,
            call.municipality_id,
            moment(start),
            moment(end + ONE_DAY),
            keys=call.sspf.audit_keys,
            anchors=anchors,
            anchor_problems=anchor_problems,
        )
        found.append(report)
        verdict = "obruten" if report.chain.intact else f"BRUTEN ({len(report.chain.breaks)})"
        call.log(
            AuditAction.ADMINISTRATION,
            detail=f"loggkontroll {start.isoformat()}–{end.isoformat()}: kedjan {verdict}",
        )
        return render("sspf/log_review.txt.j2", report=report, start=start, end=end)

    _run(ctx, "logg", "loggkontroll", work)
    if found and not found[0].chain.intact:
        ctx.exit(CHAIN_BROKEN)


@sspf.group("nyckel", cls=SwedishGroup)
def key_group() -> None:
    """Krypteringsnycklar för SSPF-data."""


@key_group.command("ny")
def key_new() -> None:
    """Skriv ut en ny nyckel att lägga först i SAMORDNA_SSPF_KEYS (sparas ingenstans)."""
    click.echo(new_key())


@key_group.command("rotera")
@click.pass_context
def key_rotate(ctx: click.Context) -> None:
    """Kryptera om allt SSPF-data med den nyaste nyckeln (den första i SAMORDNA_SSPF_KEYS)."""

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR)
        count = reencrypt_all(call.session, call.keys.rotate)
        call.log(AuditAction.ADMINISTRATION, detail=f"nyckelbyte: {count} värden omkrypterade")
        return (
            f"{count} krypterade värden är omkrypterade med den nyaste nyckeln. "
            "Äldre nycklar kan nu tas bort ur SAMORDNA_SSPF_KEYS.\n"
        )

    _run(ctx, "nyckel rotera", "nyckelbyte", work)


@sspf.command("kor")
@click.option("--as-of", "as_of", metavar="DATUM", help="Kör som om det vore denna dag (standard: i dag).")
@click.option("--utan-prefect", is_flag=True, help="Kör logiken direkt, utan Prefects körhistorik.")
@click.pass_context
def run_cycle(ctx: click.Context, as_of: str | None, utan_prefect: bool) -> None:  # noqa: FBT001 - click flag
    """Kör SSPF-cykeln nu: uppföljning, samtyckesomprövning, 18-årssamtycke och gallring."""
    day = _date(as_of, "--as-of", today())

    def work(call: Call) -> str:
        require_role(call.user, SspfRole.ADMINISTRATOR, SspfRole.COORDINATOR)
        call.log(AuditAction.ADMINISTRATION, detail=f"sspf-cykeln startad för {day.isoformat()}")
        return ""

    _run(ctx, "kor", "schemalagd uppföljning och gallring", work)
    sspf_ctx: SspfContext = ctx.find_object(SspfContext)  # type: ignore[assignment]
    settings = settings_of(ctx)
    from samordna.prefect_env import configure_prefect  # noqa: PLC0415 - before Prefect is imported

    configure_prefect(settings)
    from flows.sspf import run_sspf_cycle_for, sspf_flow  # noqa: PLC0415 - imports Prefect

    with transaction(sspf_ctx.engine) as session:
        code = municipality_of(session, ctx, sspf_ctx.kommun).code
    if utan_prefect:
        totals = run_sspf_cycle_for(sspf_ctx.engine, code, day, sspf_ctx.keyring)
    else:
        totals = sspf_flow(code, day.isoformat())
    click.echo(render("sspf/cycle.txt.j2", day=day, totals=totals, prefect=not utan_prefect), nl=False)


ONE_DAY = timedelta(days=1)
CHAIN_BROKEN = 3  # `sspf logg`'s exit code when the chain, an anchor or a trigger shows tampering


def moment(day: date) -> datetime:
    """Midnight Europe/Stockholm starting ``day``, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(TIMEZONE))
