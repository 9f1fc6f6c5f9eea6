"""The web app's own records: personal links, coordinators' accounts and their login sessions.

**Personal links** (``PersonalLink``) let an ansvarig open their own page from a mail without an
account. The token in the link is an HMAC-SHA256, under the link secret (``core.web_secret``), of the
link's kommun, person, random salt and expiry: the link is bound to one person and expires, and a row
written by someone without the secret matches no token. The database stores only the token's SHA-256
(``token_hash``) and the salt, so a copy of this table opens no page; the token itself is derived again
(``link_token``) when a later mail reuses a still-valid link. A link is revoked by setting
``revoked_at``; a new secret invalidates every link at once.

**Accounts** (``WebAccount``) hold an Argon2id hash of a coordinator's password and the count of
failed attempts that locks it; **sessions** (``WebSession``) the SHA-256 of the session cookie and the
session's CSRF token. Queries only; they never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.directory import Person
from models.records import one_of
from models.types import UTCDateTime, utcnow

KEY_CHUNK = 200  # persons per query when counting link keys
TOKEN_LENGTH = 43  # an HMAC-SHA256 in unpadded base64url
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class PersonalLink(SQLModel, table=True):
    """A personal link to one person's page; see the module docstring."""

    __tablename__ = "personal_link"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", name="uq_personal_link_dedupe_key"),
        sa.UniqueConstraint("token_hash", name="uq_personal_link_token_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # ``lank:<person>:<n>``: two sweeps composing at once make the same link, not two.
    dedupe_key: str = Field(max_length=100)
    salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def valid_at(self, moment: datetime) -> bool:
        """Not revoked, and not expired at ``moment``."""
        return self.revoked_at is None and moment < self.expires_at


def link_token(secret: bytes, link: PersonalLink) -> str:
    """The token of ``link`` under ``secret``: what the link's URL carries (43 characters)."""
    message = (
        f"samordna-personlig-lank:v1:{link.municipality_id}:{link.person_id}:{link.salt}:"
        f"{int(link.expires_at.timestamp())}"
    )
    mac = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """The SHA-256 of a token in hex: what the database stores and looks tokens up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    """Whether ``text`` has a link token's shape (checked before any lookup)."""
    return len(text) == TOKEN_LENGTH and set(text) <= _TOKEN_ALPHABET


def link_by_token_hash(session: Session, hashed: str) -> PersonalLink | None:
    """The link whose token hashes to ``hashed``, if any."""
    return session.exec(select(PersonalLink).where(PersonalLink.token_hash == hashed)).first()


def valid_links(session: Session, person_ids: Sequence[int], at: datetime) -> dict[int, PersonalLink]:
    """Per person, the link valid at ``at`` that lasts longest (persons without one are left out)."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(PersonalLink)
        .where(
            one_of(session, col(PersonalLink.person_id), person_ids),
            col(PersonalLink.revoked_at).is_(None),
            col(PersonalLink.expires_at) > at,
        )
        .order_by(col(PersonalLink.expires_at), col(PersonalLink.id))
    )
    return {link.person_id: link for link in rows}  # the last one, lasting longest, wins


def link_key(person_id: int, number: int) -> str:
    """The dedupe key of a person's ``number``-th link: ``lank:<person>:<number>``."""
    return f"lank:{person_id}:{number}"


def link_counts(session: Session, person_ids: Sequence[int]) -> dict[int, int]:
    """How many link keys each person has used so far (revoked, expired and altered rows count too,
    so the next key is always new)."""
    if not person_ids:
        return {}
    prefixes = {f"lank:{person_id}:": person_id for person_id in person_ids}
    counts = dict.fromkeys(person_ids, 0)
    for start in range(0, len(person_ids), KEY_CHUNK):
        chunk = [f"lank:{person_id}:" for person_id in person_ids[start : start + KEY_CHUNK]]
        keys = session.exec(
            select(PersonalLink.dedupe_key).where(
                sa.or_(*(col(PersonalLink.dedupe_key).startswith(prefix) for prefix in chunk))
            )
        )
        for key in keys:
            prefix = key[: key.rindex(":") + 1]
            if prefix in prefixes:
                counts[prefixes[prefix]] += 1
    return counts


def links_by_key(session: Session, keys: Sequence[str]) -> dict[str, PersonalLink]:
    """The links with these dedupe keys, by key."""
    if not keys:
        return {}
    return {
        link.dedupe_key: link
        for link in session.exec(
            select(PersonalLink).where(one_of(session, col(PersonalLink.dedupe_key), keys))
        )
    }


def links_of(session: Session, municipality_id: int) -> list[tuple[PersonalLink, Person]]:
    """The kommun's links with their persons, newest first."""
    return [
        (link, person)
        for link, person in session.exec(
            select(PersonalLink, Person)
            .join(Person, col(Person.id) == col(PersonalLink.person_id))
            .where(PersonalLink.municipality_id == municipality_id)
            .order_by(col(PersonalLink.issued_at).desc(), col(PersonalLink.id).desc())
        )
    ]


class WebAccount(SQLModel, table=True):
    """A person's login to the dashboard: an Argon2id hash, never the password."""

    __tablename__ = "web_account"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    password_hash: str = Field(max_length=300)
    password_set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Failed attempts since the last success; reaching the limit sets locked_until.
    failed_attempts: int = 0
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def account_of(session: Session, person_id: int) -> WebAccount | None:
    """The person's account, if a password has been set."""
    return session.get(WebAccount, person_id)


class WebSession(SQLModel, table=True):
    """A login: the cookie's SHA-256, whose it is, until when, and the CSRF token of its forms."""

    __tablename__ = "web_session"
    __table_args__ = (sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    municipality_id: int = Field(foreign_key="municipality.id")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def session_by_token_hash(session: Session, hashed: str) -> WebSession | None:
    """The login whose cookie hashes to ``hashed``, if any (ended and expired ones too)."""
    return session.exec(select(WebSession).where(WebSession.token_hash == hashed)).first()
