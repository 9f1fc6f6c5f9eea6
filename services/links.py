"""Personal links: opening one (is it this person's, still valid, not revoked?), listing and revoking them.

A link is made when a message is composed (``notifications.personal_links``); here it is checked when
someone opens it, and the coordinator revokes one. A token that is malformed, unknown, altered, signed
with another secret, expired or revoked opens nothing: ``open_link`` raises ``LinkRefusedError``, and
the web app shows one Swedish page without any data. Forms on the person's page carry a CSRF token
derived from the link (``link_csrf``), so a post needs the page first.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col

from core.errors import DomainError, NotFoundError
from models.directory import Person
from models.municipality import Municipality
from models.web import (
    PersonalLink,
    link_by_token_hash,
    link_token,
    links_of,
    looks_like_token,
    token_hash,
)


class LinkProblem(StrEnum):
    """Why a link opens nothing; the page says which in general words, never whose link it was."""

    UNKNOWN = "okänd"  # malformed, altered, never issued, or signed with another secret
    EXPIRED = "utgången"
    REVOKED = "återkallad"


class LinkRefusedError(DomainError):
    """A link that opens nothing."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(f"Länken kan inte användas ({problem.value}).")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LinkHolder:
    """Whom an opened link belongs to."""

    link: PersonalLink
    person: Person
    municipality: Municipality
    token_hash: str


def open_link(session: Session, secret: bytes, token: str, now: datetime) -> LinkHolder:
    """The person behind ``token`` when the link is valid at ``now``; else LinkRefusedError.

    The stored row must also reproduce the token under ``secret``: a row written without the secret,
    or changed to point at another person, matches nothing. Records when the link was last used.
    """
    if not looks_like_token(token):
        raise LinkRefusedError(LinkProblem.UNKNOWN)
    hashed = token_hash(token)
    link = link_by_token_hash(session, hashed)
    if link is None or not hmac.compare_digest(link_token(secret, link), token):
        raise LinkRefusedError(LinkProblem.UNKNOWN)
    if link.revoked_at is not None:
        raise LinkRefusedError(LinkProblem.REVOKED)
    if now >= link.expires_at:
        raise LinkRefusedError(LinkProblem.EXPIRED)
    person = session.get(Person, link.person_id)
    municipality = session.get(Municipality, link.municipality_id)
    if person is None or municipality is None or person.municipality_id != municipality.id:
        raise LinkRefusedError(LinkProblem.UNKNOWN)
    link.last_used_at = now
    session.add(link)
    session.flush()
    return LinkHolder(link, person, municipality, hashed)


def link_csrf(secret: bytes, holder: LinkHolder) -> str:
    """The CSRF token of the forms on a link's page: fixed for the link, unknown without the secret."""
    return hmac.new(secret, f"samordna-lank-csrf:{holder.token_hash}".encode(), hashlib.sha256).hexdigest()


def check_link_csrf(secret: bytes, holder: LinkHolder, given: str) -> bool:
    """Whether a posted form carries the link page's CSRF token."""
    return hmac.compare_digest(link_csrf(secret, holder), given or "")


@dataclass(frozen=True, slots=True)
class LinkLine:
    """A link as the coordinator's list shows it (never the token)."""

    link_id: int
    person: str
    email: str
    issued_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    valid: bool


def link_overview(session: Session, municipality: Municipality, now: datetime) -> list[LinkLine]:
    """The kommun's links, newest first."""
    return [
        LinkLine(
            link_id=link.id or 0,
            person=person.name,
            email=person.email,
            issued_at=link.issued_at,
            expires_at=link.expires_at,
            last_used_at=link.last_used_at,
            revoked_at=link.revoked_at,
            valid=link.valid_at(now),
        )
        for link, person in links_of(session, municipality.id or 0)
    ]


def revoke_link(
    session: Session, municipality: Municipality, link_id: int, by_person_id: int, now: datetime
) -> PersonalLink:
    """Revoke a link of the kommun at once; the person's next mail carries a new one. Revoking a
    revoked link changes nothing."""
    link = session.get(PersonalLink, link_id)
    if link is None or link.municipality_id != municipality.id:
        raise NotFoundError(f"Länk {link_id} finns inte i {municipality.name}.")
    session.execute(
        sa.update(PersonalLink)
        .where(col(PersonalLink.id) == link_id, col(PersonalLink.revoked_at).is_(None))
        .values(revoked_at=now, revoked_by_person_id=by_person_id),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()
    session.refresh(link)
    return link
