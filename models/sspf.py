"""SSPF (skola, socialtjänst, polis, fritid): cases about individual youths, built for need-to-know.

Everything outside this aggregate sees a case only by its pseudonymous code (``SSPF-2025-0007``): a
task's subject carries the code and the action, never a name. The youth's name, personnummer and
birth date, and every free text a person writes about the case (risk assessment, meeting decisions,
factor notes, the reason for an exception), are stored encrypted (``models.crypto``): columns ending
in ``_enc`` hold Fernet tokens, never plaintext.

Consent (samtycke) is its own record: who signed, which organisations it covers, purpose, date,
review date and withdrawal. ``consent_refusal`` is the one rule that decides whether case data may go
to an organisation on a day; a disclosure that is not consent based records its legal basis instead.

Query functions never commit; the caller owns the transaction (and writes the audit entry in it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import moment_of
from models.directory import Person
from models.types import StrEnumType, UTCDateTime, utcnow

ADULT_AGE = 18


class CaseState(StrEnum):
    OPEN = "öppet"
    CLOSED = "avslutat"
    ANONYMISED = "anonymiserat"


class ReferralReason(StrEnum):
    NORM_BREAKING = "normbrytande_beteende"
    CRIME = "brott"
    SUBSTANCE_USE = "missbruk"
    RADICALISATION = "radikalisering"
    SCHOOL_ABSENCE = "skolfranvaro"
    OTHER = "annat"

    @property
    def label(self) -> str:
        """What a person reads: "normbrytande beteende", not the key "normbrytande_beteende"."""
        return _REFERRAL_NAMES[self]


_REFERRAL_NAMES = {
    ReferralReason.NORM_BREAKING: "normbrytande beteende",
    ReferralReason.CRIME: "brott",
    ReferralReason.SUBSTANCE_USE: "missbruk",
    ReferralReason.RADICALISATION: "radikalisering",
    ReferralReason.SCHOOL_ABSENCE: "skolfrånvaro",
    ReferralReason.OTHER: "annat",
}


class RiskLevel(StrEnum):
    LOW = "låg"
    MEDIUM = "medel"
    HIGH = "hög"


class ClosureReason(StrEnum):
    GOALS_MET = "mal_uppnatt"
    DECLINED = "avbojt"
    MOVED = "flyttat"
    HANDED_OVER = "overlamnat"
    CONSENT_WITHDRAWN = "samtycke_aterkallat"
    OUTSIDE_TARGET_GROUP = "utanfor_malgrupp"
    OTHER = "annat"

    @property
    def label(self) -> str:
        """What a person reads: "målen uppnådda", not the key "mal_uppnatt"."""
        return _CLOSURE_NAMES[self]


_CLOSURE_NAMES = {
    ClosureReason.GOALS_MET: "målen uppnådda",
    ClosureReason.DECLINED: "avböjt",
    ClosureReason.MOVED: "flyttat",
    ClosureReason.HANDED_OVER: "överlämnat",
    ClosureReason.CONSENT_WITHDRAWN: "samtycket återkallat",
    ClosureReason.OUTSIDE_TARGET_GROUP: "utanför målgruppen",
    ClosureReason.OTHER: "annat",
}


class Actor(StrEnum):
    """Who carries out an action in the åtagandeplan: the four SSPF actors, or someone else."""

    SCHOOL = "skola"
    SOCIAL_SERVICES = "socialtjänst"
    POLICE = "polis"
    LEISURE = "fritid"
    OTHER = "annat"


class SspfRole(StrEnum):
    """A person's SSPF role. The BRÅ-samordnare has none of these and so no access to cases."""

    COORDINATOR = "samordnare"
    OPERATIVE = "operativ"  # member of the operative group for one organisation
    ADMINISTRATOR = "administratör"


class CaseRole(StrEnum):
    COORDINATOR = "samordnare"
    OPERATIVE = "operativ"


class Signer(StrEnum):
    YOUTH = "ung"
    GUARDIAN_1 = "vårdnadshavare_1"
    GUARDIAN_2 = "vårdnadshavare_2"

    @property
    def label(self) -> str:
        """What a person reads: "vårdnadshavare 1", not the key "vårdnadshavare_1"."""
        return self.value.replace("_", " ")


class ActionState(StrEnum):
    OPEN = "öppen"
    DONE = "klar"
    CANCELLED = "avbruten"


class DisclosureBasis(StrEnum):
    CONSENT = "samtycke"
    LAW = "lagrum"


# Sekretessbrytande bestämmelser a disclosure without consent may rest on (offentlighets- och
# sekretesslagen, OSL). "annat" needs a written motivation naming the provision.
LEGAL_BASES: dict[str, str] = {
    "osl-10-18a": "10 kap. 18 a § OSL: socialtjänst och polis, för att förhindra brott bland unga under 18",
    "osl-10-2": "10 kap. 2 § OSL: nödvändigt för att fullgöra den egna verksamheten",
    "osl-10-21": "10 kap. 21 § OSL: misstanke om brott mot underårig",
    "osl-10-23": "10 kap. 23 § OSL: misstanke om brott med minst ett års fängelse",
    "annat": "annat lagrum (ange vilket i motiveringen)",
}


class FactorKind(StrEnum):
    STATIC = "statisk"
    RISK = "risk"
    PROTECTIVE = "skydd"


@dataclass(frozen=True, slots=True)
class Factor:
    code: str
    kind: FactorKind
    domain: str  # "ung", "familj" or "" for static factors
    label: str


# Socialstyrelsen's risk and protective factors, as Falun lists them (shared/docs/domain.md), coded.
FACTORS: tuple[Factor, ...] = (
    Factor("S1", FactorKind.STATIC, "", "Debutålder för normbrytande beteende"),
    Factor("S2", FactorKind.STATIC, "", "Kön"),
    Factor("S3", FactorKind.STATIC, "", "Neuropsykologi"),
    Factor("S4", FactorKind.STATIC, "", "Socioekonomiska förhållanden och demografi"),
    Factor("S5", FactorKind.STATIC, "", "Familjestruktur"),
    Factor("RU1", FactorKind.RISK, "ung", "Trots, ilska eller orädsla"),
    Factor("RU2", FactorKind.RISK, "ung", "Hyperaktivitet, impulsivitet eller koncentrationssvårigheter"),
    Factor("RU3", FactorKind.RISK, "ung", "Brist på empati, skuld eller ånger"),
    Factor("RU4", FactorKind.RISK, "ung", "Svaga språkliga färdigheter eller skolprestationer"),
    Factor("RU5", FactorKind.RISK, "ung", "Negativ problemlösning, tolkningar eller attityder"),
    Factor("RU6", FactorKind.RISK, "ung", "Nedstämdhet eller självskadebeteende"),
    Factor("RU7", FactorKind.RISK, "ung", "Normbrytande beteende"),
    Factor("RU8", FactorKind.RISK, "ung", "Alkohol- eller droganvändning"),
    Factor("RU9", FactorKind.RISK, "ung", "Problematiska kamratrelationer"),
    Factor("RF1", FactorKind.RISK, "familj", "Föräldrarnas egna svårigheter"),
    Factor("RF2", FactorKind.RISK, "familj", "Svårigheter i relationen mellan förälder och barn"),
    Factor("RF3", FactorKind.RISK, "familj", "Föräldrarnas svårigheter med föräldrastrategier"),
    Factor("SU1", FactorKind.PROTECTIVE, "ung", "Positiv skolanknytning och skolprestation"),
    Factor("SU2", FactorKind.PROTECTIVE, "ung", "Positiva attityder eller problemlösning"),
    Factor("SU3", FactorKind.PROTECTIVE, "ung", "Positivt umgänge och positiva aktiviteter"),
    Factor("SU4", FactorKind.PROTECTIVE, "ung", "Den unges medvetenhet och motivation"),
    Factor("SF1", FactorKind.PROTECTIVE, "familj", "Föräldrarnas energi, engagemang eller stöd"),
    Factor("SF2", FactorKind.PROTECTIVE, "familj", "Föräldrarnas positiva attityder och föräldrastrategier"),
    Factor("SF3", FactorKind.PROTECTIVE, "familj", "Föräldrarnas medvetenhet och motivation"),
)
FACTORS_BY_CODE = {factor.code: factor for factor in FACTORS}
# 0–3: how present a risk factor is, or how strong a protective one is.
FACTOR_LEVELS = {0: "saknas", 1: "låg", 2: "måttlig", 3: "hög"}


class SspfCase(SQLModel, table=True):
    __tablename__ = "sspf_case"
    __table_args__ = (
        sa.UniqueConstraint("municipality_id", "code", name="uq_sspf_case_code"),
        sa.UniqueConstraint("municipality_id", "number", name="uq_sspf_case_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    number: int = Field(description="Running number within the kommun, never reused")
    code: str = Field(max_length=20, description="The pseudonymous case code, e.g. SSPF-2025-0007")
    state: CaseState = Field(default=CaseState.OPEN, sa_type=StrEnumType(CaseState))
    opened_on: date
    name_enc: str | None = Field(default=None, sa_type=sa.Text)
    personnummer_enc: str | None = Field(default=None, sa_type=sa.Text)
    birth_date_enc: str | None = Field(default=None, sa_type=sa.Text)
    guardian_count: int = Field(default=2, ge=0, le=2)
    target_exception_enc: str | None = Field(default=None, sa_type=sa.Text)
    referral_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    referred_on: date
    referral_reason: ReferralReason = Field(sa_type=StrEnumType(ReferralReason))
    risk_level: RiskLevel = Field(sa_type=StrEnumType(RiskLevel))
    risk_note_enc: str | None = Field(default=None, sa_type=sa.Text)
    coordinator_person_id: int | None = Field(default=None, foreign_key="person.id")
    closed_on: date | None = None
    closure_reason: ClosureReason | None = Field(default=None, sa_type=StrEnumType(ClosureReason))
    closure_note_enc: str | None = Field(default=None, sa_type=sa.Text)
    anonymised_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SspfAssignment(SQLModel, table=True):
    """A person in a case's team, from ``added_at`` until ``removed_at``: need-to-know is this table."""

    __tablename__ = "sspf_assignment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    role: CaseRole = Field(sa_type=StrEnumType(CaseRole))
    added_at: datetime = Field(sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SspfRoleGrant(SQLModel, table=True):
    """An SSPF role given to a person by an administrator (history kept: revoked, never deleted)."""

    __tablename__ = "sspf_role_grant"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: SspfRole = Field(sa_type=StrEnumType(SspfRole))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    granted_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SspfConsent(SQLModel, table=True):
    __tablename__ = "sspf_consent"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    signers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    purpose: str = Field(max_length=500)
    given_on: date
    review_on: date
    withdrawn_on: date | None = None
    recorded_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SspfConsentOrganisation(SQLModel, table=True):
    """An organisation a consent covers."""

    __tablename__ = "sspf_consent_organisation"

    consent_id: int = Field(foreign_key="sspf_consent.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)


class SspfDisclosure(SQLModel, table=True):
    """Case data given to an organisation: on a consent, or on a legal basis (with its motivation)."""

    __tablename__ = "sspf_disclosure"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    disclosed_on: date
    basis: DisclosureBasis = Field(sa_type=StrEnumType(DisclosureBasis))
    consent_id: int | None = Field(default=None, foreign_key="sspf_consent.id")
    legal_basis: str | None = Field(default=None, max_length=20)
    motivation_enc: str | None = Field(default=None, sa_type=sa.Text)
    recorded_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SspfFactorAssessment(SQLModel, table=True):
    __tablename__ = "sspf_factor_assessment"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "factor_code", "assessed_on", name="uq_sspf_factor_assessment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    factor_code: str = Field(max_length=8)
    assessed_on: date
    level: int = Field(ge=0, le=3)
    note_enc: str | None = Field(default=None, sa_type=sa.Text)
    assessed_by_person_id: int | None = Field(default=None, foreign_key="person.id")


class SspfAction(SQLModel, table=True):
    """An action of the åtagandeplan; its Task (subject: case code and action only) reminds the owner."""

    __tablename__ = "sspf_action"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    actor: Actor = Field(sa_type=StrEnumType(Actor))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    owner_person_id: int = Field(foreign_key="person.id")
    text: str = Field(max_length=300)
    due_on: date
    state: ActionState = Field(default=ActionState.OPEN, sa_type=StrEnumType(ActionState))
    task_id: int | None = Field(default=None, foreign_key="task.id")
    done_on: date | None = None


class SspfMeeting(SQLModel, table=True):
    __tablename__ = "sspf_meeting"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="sspf_case.id", index=True)
    held_on: date
    decisions_enc: str | None = Field(default=None, sa_type=sa.Text)
    recorded_by_person_id: int | None = Field(default=None, foreign_key="person.id")


class SspfRetentionRecord(SQLModel, table=True):
    """That a closed case was gallrad: when, how, and how many rows; no personal data."""

    __tablename__ = "sspf_retention_record"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "case_code", name="uq_sspf_retention_case"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    case_number: int
    case_code: str = Field(max_length=20)
    closed_on: date
    due_on: date
    executed_on: date
    method: str = Field(max_length=20)
    rows: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)


# ---------------------------------------------------------------------------------------------------
# Queries


def case_code(year: int, number: int) -> str:
    return f"SSPF-{year}-{number:04d}"


def next_case_number(session: Session, municipality_id: int) -> int:
    """The next running number: after every case ever made, including those gallrade."""
    in_cases = session.exec(
        select(sa.func.max(SspfCase.number)).where(SspfCase.municipality_id == municipality_id)
    ).one()
    in_records = session.exec(
        select(sa.func.max(SspfRetentionRecord.case_number)).where(
            SspfRetentionRecord.municipality_id == municipality_id
        )
    ).one()
    return max(in_cases or 0, in_records or 0) + 1


def case_by_code(session: Session, municipality_id: int, code: str) -> SspfCase | None:
    return session.exec(
        select(SspfCase).where(SspfCase.municipality_id == municipality_id, SspfCase.code == code.upper())
    ).first()


def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def adult_on(birth: date) -> date:
    """The day a person born on ``birth`` turns 18 (29 February → 1 March)."""
    try:
        return birth.replace(year=birth.year + ADULT_AGE)
    except ValueError:
        return date(birth.year + ADULT_AGE, 3, 1)


# Directory roles (``roller:`` in the kommun's directory file) that carry an SSPF role.
DIRECTORY_ROLES = {"sspf_samordnare": SspfRole.COORDINATOR, "administratör": SspfRole.ADMINISTRATOR}


def roles_of(session: Session, person: Person) -> dict[SspfRole, set[int | None]]:
    """The person's SSPF roles now, each with the organisations it is held for (operative group)."""
    roles: dict[SspfRole, set[int | None]] = {}
    for name in person.roles:
        if name in DIRECTORY_ROLES:
            roles.setdefault(DIRECTORY_ROLES[name], set()).add(None)
    grants = session.exec(
        select(SspfRoleGrant).where(
            SspfRoleGrant.person_id == person.id, col(SspfRoleGrant.revoked_at).is_(None)
        )
    )
    for grant in grants:
        roles.setdefault(grant.role, set()).add(grant.organisation_id)
    return roles


def active_assignment(session: Session, case_id: int, person_id: int) -> SspfAssignment | None:
    """The person's current place in the case's team, if any."""
    return session.exec(
        select(SspfAssignment).where(
            SspfAssignment.case_id == case_id,
            SspfAssignment.person_id == person_id,
            col(SspfAssignment.removed_at).is_(None),
        )
    ).first()


def team(session: Session, case_id: int) -> list[tuple[SspfAssignment, Person]]:
    rows = session.exec(
        select(SspfAssignment, Person)
        .join(Person, col(Person.id) == col(SspfAssignment.person_id))
        .where(SspfAssignment.case_id == case_id, col(SspfAssignment.removed_at).is_(None))
        .order_by(col(SspfAssignment.id))
    )
    return list(rows)


def cases_of(session: Session, person_id: int) -> list[SspfCase]:
    """The cases whose team the person is in now, by code."""
    in_team = select(SspfAssignment.case_id).where(
        SspfAssignment.person_id == person_id, col(SspfAssignment.removed_at).is_(None)
    )
    return list(session.exec(select(SspfCase).where(col(SspfCase.id).in_(in_team)).order_by(SspfCase.code)))


def consents(session: Session, case_id: int) -> list[tuple[SspfConsent, list[int]]]:
    """The case's consents, oldest first, each with the ids of the organisations it covers."""
    found = session.exec(
        select(SspfConsent).where(SspfConsent.case_id == case_id).order_by(col(SspfConsent.given_on))
    ).all()
    result = []
    for consent in found:
        covered = session.exec(
            select(SspfConsentOrganisation.organisation_id).where(
                SspfConsentOrganisation.consent_id == consent.id
            )
        ).all()
        result.append((consent, list(covered)))
    return result


def consent_is_valid(consent: SspfConsent, guardian_count: int, birth: date | None, day: date) -> str | None:
    """None when ``consent`` allows sharing on ``day``; else why not, in Swedish.

    Valid: given on or before ``day``, not withdrawn (a withdrawal stops sharing from its day on),
    not past its review date, and signed by the right people: before 18 the youth and each guardian;
    from the 18th birthday only a consent the youth gave alone, on or after that day.
    """
    if consent.given_on > day:
        return "samtycket är lämnat senare än dagen för utlämnandet"
    if consent.withdrawn_on is not None and consent.withdrawn_on <= day:
        return f"samtycket återkallades {consent.withdrawn_on.isoformat()}"
    if consent.review_on < day:
        return f"samtycket skulle omprövas senast {consent.review_on.isoformat()} och har inte förnyats"
    signers = set(consent.signers)
    if birth is not None and day >= adult_on(birth):
        if consent.given_on < adult_on(birth) or signers != {Signer.YOUTH.value}:
            return "den unga har fyllt 18 år och ett nytt samtycke från den unga ensam krävs"
        return None
    needed = {Signer.YOUTH.value, Signer.GUARDIAN_1.value, Signer.GUARDIAN_2.value}
    if guardian_count < 2:  # noqa: PLR2004 - two guardians at most
        needed.discard(Signer.GUARDIAN_2.value)
    if guardian_count < 1:
        needed.discard(Signer.GUARDIAN_1.value)
    if not needed <= signers:
        missing = ", ".join(sorted(needed - signers))
        return f"samtycket saknar underskrift av: {missing}"
    return None


def consent_refusal(
    session: Session, case: SspfCase, organisation_id: int, birth: date | None, day: date
) -> tuple[SspfConsent | None, str]:
    """The valid consent covering ``organisation_id`` on ``day``, or (None, why there is none)."""
    reasons: list[str] = []
    for consent, covered in reversed(consents(session, case.id or 0)):
        if organisation_id not in covered:
            continue
        problem = consent_is_valid(consent, case.guardian_count, birth, day)
        if problem is None:
            return consent, ""
        reasons.append(problem)
    if not reasons:
        return None, "det finns inget samtycke som omfattar organisationen"
    return None, reasons[0]


# ---------------------------------------------------------------------------------------------------
# Tasks the SSPF cycle creates, and key rotation

FOLLOW_UP_KEY = "sspf-uppfoljning"
CONSENT_REVIEW_KEY = "sspf-samtycke"
RECONSENT_KEY = "sspf-18"


def follow_up_key(case_id: int, due: date) -> str:
    return f"{FOLLOW_UP_KEY}:{case_id}:{due.isoformat()}"


def close_follow_up_tasks(session: Session, case: SspfCase, held_on: date) -> int:
    """A meeting was held on ``held_on``: the case's open follow-up tasks are answered by it (the next
    follow-up is counted from this meeting), closed as of that day."""
    from models.task import Task, TaskState  # noqa: PLC0415 - the task aggregate, only here

    tasks = session.exec(
        select(Task).where(
            Task.municipality_id == case.municipality_id,
            Task.state == TaskState.OPEN,
            col(Task.idempotency_key).startswith(f"{FOLLOW_UP_KEY}:{case.id}:"),
        )
    ).all()
    for task in tasks:
        task.state = TaskState.DONE
        task.closed_at = moment_of(held_on)
        session.add(task)
    return len(tasks)


# Every encrypted column, by table: what key rotation re-encrypts.
ENCRYPTED_COLUMNS: tuple[tuple[type[SQLModel], tuple[str, ...]], ...] = (
    (
        SspfCase,
        (
            "name_enc",
            "personnummer_enc",
            "birth_date_enc",
            "target_exception_enc",
            "risk_note_enc",
            "closure_note_enc",
        ),
    ),
    (SspfDisclosure, ("motivation_enc",)),
    (SspfFactorAssessment, ("note_enc",)),
    (SspfMeeting, ("decisions_enc",)),
)


def reencrypt_all(session: Session, rotate: Callable[[str | None], str | None]) -> int:
    """Re-encrypt every encrypted value with ``rotate`` (the keyring's newest key); how many."""
    count = 0
    for table, columns in ENCRYPTED_COLUMNS:
        for row in session.exec(select(table)):
            for column in columns:
                value = getattr(row, column)
                if value is not None:
                    setattr(row, column, rotate(value))
                    count += 1
            session.add(row)
    session.flush()
    return count
