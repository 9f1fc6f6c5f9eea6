"""Who may do what with SSPF cases: roles, need-to-know and consent, decided in one place.

- SSPF-samordnare (role ``samordnare``): creates cases; reads and changes the cases whose team they
  are in as samordnare.
- Member of an operative group for one organisation (role ``operativ`` for that organisation): reads
  and assesses factors in the cases whose team they are in, and only while a valid consent covers
  their organisation (a read by another organisation is a disclosure to it).
- BRÅ-samordnare: no SSPF role, so no access to any case.
- Administratör: roles, keys, the log review (loggkontroll) and retention; never case contents.

``AccessDeniedError`` carries a Swedish message that names no personal data. The caller logs the
refusal in the audit log (``models.audit``) in a transaction of its own, since the refused one rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from models.directory import Person, person_by_email
from models.sspf import (
    CaseRole,
    CaseState,
    SspfAssignment,
    SspfCase,
    SspfRole,
    active_assignment,
    consent_refusal,
    roles_of,
)


class AccessDeniedError(PermissionError):
    """A refused operation; the message is Swedish and names no personal data."""

    def __init__(self, message: str, case: SspfCase | None = None) -> None:
        super().__init__(message)
        # Plain values: the session that loaded the case rolls back before the refusal is logged.
        self.case_id = case.id if case else None
        self.case_code = case.code if case else ""


@dataclass(frozen=True, slots=True)
class User:
    """The acting person and their SSPF roles (each with the organisations it is held for)."""

    person_id: int
    email: str
    organisation_id: int | None
    roles: dict[SspfRole, set[int | None]] = field(default_factory=dict)

    def has(self, role: SspfRole) -> bool:
        return role in self.roles


def identify(session: Session, municipality_id: int, email: str | None) -> User:
    """The user behind ``email`` in the kommun's directory, or AccessDeniedError."""
    if not email:
        raise AccessDeniedError(
            "ange vem du är med --anvandare EPOST eller miljövariabeln SAMORDNA_ANVANDARE "
            "(din e-postadress i kommunens katalog)."
        )
    person = person_by_email(session, municipality_id, email)
    if person is None or person.id is None:
        raise AccessDeniedError(f'användaren "{email}" finns inte i kommunens katalog.')
    return user_of(session, person)


def user_of(session: Session, person: Person) -> User:
    return User(
        person_id=person.id or 0,
        email=person.email,
        organisation_id=person.organisation_id,
        roles=roles_of(session, person),
    )


def require_role(user: User, *roles: SspfRole) -> None:
    """The user holds one of ``roles``, or AccessDeniedError."""
    if not any(user.has(role) for role in roles):
        names = " eller ".join(role.value for role in roles)
        raise AccessDeniedError(f"behörighet saknas: kommandot kräver rollen {names} i SSPF.")


def require_case(
    session: Session,
    user: User,
    case: SspfCase,
    *,
    birth: date | None,
    today: date,
    coordinator: bool = False,
) -> SspfAssignment:
    """The user's assignment in ``case`` when they may act on it now; else AccessDeniedError.

    ``coordinator`` asks for the samordnare's rights (changing the case); otherwise any team member
    with a current role may read, an operative member only while a valid consent covers their
    organisation.
    """
    assignment = active_assignment(session, case.id or 0, user.person_id)
    if assignment is None:
        raise AccessDeniedError(f"du ingår inte i teamet för ärende {case.code}.", case)
    if assignment.role == CaseRole.COORDINATOR:
        if not user.has(SspfRole.COORDINATOR):
            raise AccessDeniedError("behörighet saknas: din roll som SSPF-samordnare är återkallad.", case)
        return assignment
    if coordinator:
        raise AccessDeniedError(f"bara ärendets SSPF-samordnare kan göra detta i {case.code}.", case)
    if assignment.organisation_id not in user.roles.get(SspfRole.OPERATIVE, set()):
        raise AccessDeniedError(
            "behörighet saknas: du har ingen roll i den operativa gruppen för din organisation.", case
        )
    if case.state == CaseState.ANONYMISED:
        raise AccessDeniedError(f"ärende {case.code} är gallrat.", case)
    consent, reason = consent_refusal(session, case, assignment.organisation_id or 0, birth, today)
    if consent is None:
        raise AccessDeniedError(
            f"uppgifter i {case.code} får inte lämnas till din organisation: {reason}.", case
        )
    return assignment
