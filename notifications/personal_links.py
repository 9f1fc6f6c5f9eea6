"""Personal links in mails: one still-valid link per person, made when a message is composed.

``personal_links`` runs in the composing transaction: for each person it reuses a link that is still
valid for at least ``REUSE_MARGIN`` after the message's moment, else it inserts a new one (INSERT … ON
CONFLICT DO NOTHING on the dedupe key ``lank:<person>:<n>``, n = the person's links so far plus one,
so two sweeps racing make the same link) and reads back the row that won. The URL carries the token
derived from the row and the secret (``models.web.link_token``); the database keeps only its hash.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from core.settings import Settings
from core.web_secret import link_secret
from models.records import insert_many
from models.web import PersonalLink, link_counts, link_key, link_token, links_by_key, token_hash, valid_links

# A link about to expire is not put in a new mail: the person needs some days to open it.
REUSE_MARGIN = timedelta(days=7)
LINK_PATH = "/svar/"


@dataclass(frozen=True, slots=True)
class LinkMaker:
    """What making a link needs: the secret, the address people reach the web app at, the validity."""

    secret: bytes = field(repr=False)
    base_url: str
    days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkMaker | None:
        """The settings' link maker, or None when no secret is configured (mails then carry no link)."""
        secret = link_secret(settings)
        if secret is None:
            return None
        return cls(secret, settings.base_url, settings.link_days)

    def url(self, token: str) -> str:
        """The page a token opens."""
        return f"{self.base_url.rstrip('/')}{LINK_PATH}{token}"

    def url_of(self, link: PersonalLink) -> str:
        return self.url(link_token(self.secret, link))


def personal_links(
    session: Session, maker: LinkMaker, municipality_id: int, person_ids: Sequence[int], moment: datetime
) -> dict[int, str]:
    """A link URL per person of one kommun, valid for at least ``REUSE_MARGIN`` after ``moment``. Never
    commits."""
    return personal_links_of(session, maker, dict.fromkeys(person_ids, municipality_id), moment)


def personal_links_of(
    session: Session, maker: LinkMaker, persons: Mapping[int, int], moment: datetime
) -> dict[int, str]:
    """``personal_links`` for persons of any kommuner (person id → their kommun), in a fixed number of
    queries whatever their number. Never commits."""
    wanted = sorted(persons)
    found = valid_links(session, wanted, moment + REUSE_MARGIN)
    missing = [person_id for person_id in wanted if person_id not in found]
    if missing:
        counts = link_counts(session, missing)
        # Whole seconds: the expiry is part of the signed message and must read back the same.
        issued = moment.replace(microsecond=0)
        rows = []
        for person_id in missing:
            row = PersonalLink(
                municipality_id=persons[person_id],
                person_id=person_id,
                dedupe_key=link_key(person_id, counts.get(person_id, 0) + 1),
                salt=secrets.token_hex(16),
                token_hash="",
                issued_at=issued,
                expires_at=issued + timedelta(days=maker.days),
            )
            row.token_hash = token_hash(link_token(maker.secret, row))
            rows.append(row)
        insert_many(session, rows, key="dedupe_key")
        for row in links_by_key(session, [row.dedupe_key for row in rows]).values():
            # The row that won the key (ours, or a racing sweep's for the same person and number).
            if row.person_id in persons and row.person_id not in found and row.valid_at(moment):
                found[row.person_id] = row
    return {person_id: maker.url_of(link) for person_id, link in found.items()}
