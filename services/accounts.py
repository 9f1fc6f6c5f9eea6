"""Logins to the dashboard: passwords (Argon2id), lock-out, sessions and their CSRF tokens.

Who may have an account: a person in the directory with the role ``bra_samordnare`` (the dashboard) or
an SSPF role (the SSPF pages; what each may read there is decided by ``services.sspf``). The password
is hashed with Argon2id (argon2-cffi's defaults: 64 MiB, 3 passes) and never stored or logged.

Lock-out: ``MAX_FAILED_ATTEMPTS`` wrong passwords in a row lock the account for ``LOCK_MINUTES``; a
correct password during the lock is refused too, and the lock ends by itself. An unknown address costs
the same hashing work as a known one, and an unknown address, a wrong password and a locked account
all get the same message (which says that failures lock for a while), so neither the answer nor its
timing tells who has an account. A failed attempt is recorded in the caller's transaction, which must
commit it although the login failed: ``log_in`` returns its outcome instead of raising.

A session is a random cookie token whose SHA-256 is stored (``models.web.WebSession``) with its
expiry and the CSRF token every form of the session carries. Sessions that ended or expired more than
``KEEP_OLD_SESSIONS`` ago are deleted at each successful login, so the table holds only recent ones.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from core.errors import InvalidInputError
from models.directory import Person, person_by_email
from models.municipality import Municipality
from models.responsibility import COORDINATOR_ROLE
from models.sspf import SspfRole, roles_of
from models.web import WebAccount, WebSession, account_of, session_by_token_hash, token_hash

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
KEEP_OLD_SESSIONS = timedelta(days=7)
# One answer for an unknown address, a wrong password and a locked account (see the module docstring).
WRONG = (
    "Fel e-postadress eller lösenord. Efter "
    f"{MAX_FAILED_ATTEMPTS} misslyckade försök i rad spärras inloggningen i {LOCK_MINUTES} minuter; "
    "vänta då, eller be administratören sätta ett nytt lösenord."
)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the address is unknown, so both cases take as long."""
    return _hasher().hash(secrets.token_urlsafe(16))


def can_log_in(session: Session, person: Person) -> bool:
    """Whether the person holds a role the web app has pages for."""
    return COORDINATOR_ROLE in person.roles or bool(roles_of(session, person))


def is_coordinator(person: Person) -> bool:
    """Whether the person may use the coordinator's dashboard."""
    return COORDINATOR_ROLE in person.roles


def account_holder(session: Session, municipality: Municipality, email: str) -> Person:
    """The directory person ``email`` names, when they may have a login (a role the web pages serve);
    else InvalidInputError in Swedish. Asked before a password is typed, so nobody types one in vain."""
    person = person_by_email(session, municipality.id or 0, email)
    if person is None or person.id is None:
        raise InvalidInputError(f'"{email}" finns inte i katalogen för {municipality.name}.')
    if not can_log_in(session, person):
        raise InvalidInputError(
            f"{person.name} har ingen roll som ger inloggning (bra_samordnare i katalogen, eller en "
            "SSPF-roll): webbsidorna har inget att visa hen. Ansvariga svarar med sin personliga länk."
        )
    return person


def set_password(
    session: Session, municipality: Municipality, email: str, password: str, now: datetime
) -> Person:
    """Give a directory person with a role a password (a new one replaces the old and ends the lock
    and every session). Raises InvalidInputError in Swedish. Never commits."""
    person = account_holder(session, municipality, email)
    person_id = person.id or 0
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
    if password.strip() != password or not password.strip():
        raise InvalidInputError("Lösenordet får inte börja eller sluta med mellanslag.")
    hashed = _hasher().hash(password)
    account = account_of(session, person_id)
    if account is None:
        account = WebAccount(person_id=person_id, password_hash=hashed, password_set_at=now)
    account.password_hash = hashed
    account.password_set_at = now
    account.failed_attempts = 0
    account.locked_until = None
    session.add(account)
    session.execute(
        sa.update(WebSession)
        .where(col(WebSession.person_id) == person.id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )
    session.flush()
    return person


def _prune_sessions(session: Session, now: datetime) -> None:
    """Delete every session that ended or expired more than KEEP_OLD_SESSIONS before ``now``."""
    before = now - KEEP_OLD_SESSIONS
    session.execute(
        sa.delete(WebSession).where(
            sa.or_(col(WebSession.expires_at) < before, col(WebSession.ended_at) < before)
        )
    )


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What a login attempt gave: a session token for the cookie, or the Swedish message to show."""

    cookie_token: str | None
    message: str
    person_id: int | None = None


def _candidates(session: Session, email: str) -> list[tuple[Person, WebAccount]]:
    wanted = email.strip().lower()
    if not wanted:
        return []
    return [
        (person, account)
        for person, account in session.exec(
            select(Person, WebAccount)
            .join(WebAccount, col(WebAccount.person_id) == col(Person.id))
            .where(sa.func.lower(Person.email) == wanted)
        )
    ]


def log_in(session: Session, email: str, password: str, now: datetime, *, hours: int) -> LoginOutcome:
    """Check a password and open a session; see the module docstring. Never commits."""
    found = _candidates(session, email)
    if len(found) != 1:
        # Unknown (or, rarely, the same address with accounts in two kommuner): same work, same answer.
        _verify(_dummy_hash(), password)
        return LoginOutcome(None, WRONG)
    person, account = found[0]
    if account.locked_until is not None and now < account.locked_until:
        _verify(_dummy_hash(), password)
        return LoginOutcome(None, WRONG)
    if not _verify(account.password_hash, password) or not can_log_in(session, person):
        failed = account.failed_attempts + 1
        account.failed_attempts = failed
        account.last_failed_at = now
        if failed >= MAX_FAILED_ATTEMPTS:
            account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            account.failed_attempts = 0
        session.add(account)
        session.flush()
        return LoginOutcome(None, WRONG)
    if _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = _hasher().hash(password)
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    session.add(account)
    _prune_sessions(session, now)
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(cookie),
            person_id=person.id or 0,
            municipality_id=person.municipality_id,
            csrf_token=secrets.token_hex(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            last_seen_at=now,
        )
    )
    session.flush()
    return LoginOutcome(cookie, "", person.id)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher().verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Login:
    """Who is logged in, where, and what the pages may offer them.

    ``person`` and ``municipality`` are rows for the use cases of the request's transaction; the names
    are plain copies that an error page can still print after that transaction rolled back.
    """

    person: Person
    municipality: Municipality
    csrf_token: str
    coordinator: bool
    sspf_roles: frozenset[SspfRole]
    person_name: str
    municipality_name: str


def current_login(session: Session, cookie_token: str | None, now: datetime) -> Login | None:
    """The login behind a session cookie, if it is open and not expired; None otherwise."""
    if not cookie_token:
        return None
    row = session_by_token_hash(session, token_hash(cookie_token))
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    person = session.get(Person, row.person_id)
    municipality = session.get(Municipality, row.municipality_id)
    if person is None or municipality is None or not can_log_in(session, person):
        return None
    row.last_seen_at = now
    session.add(row)
    return Login(
        person=person,
        municipality=municipality,
        csrf_token=row.csrf_token,
        coordinator=is_coordinator(person),
        sspf_roles=frozenset(roles_of(session, person)),
        person_name=person.name,
        municipality_name=municipality.name,
    )


def check_csrf(login: Login, given: str | None) -> bool:
    """Whether a posted form carries its session's CSRF token."""
    return hmac.compare_digest(login.csrf_token, given or "")


def log_out(session: Session, cookie_token: str | None, now: datetime) -> None:
    """End the session behind the cookie (nothing happens for an unknown or ended one)."""
    if not cookie_token:
        return
    session.execute(
        sa.update(WebSession)
        .where(col(WebSession.token_hash) == token_hash(cookie_token), col(WebSession.ended_at).is_(None))
        .values(ended_at=now)
    )
