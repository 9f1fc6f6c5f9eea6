"""The people side of a kommun: organisations, persons and the forums measures report to.

An ansvarig in a plan is usually an organisation ("Kopparstaden", "Polisen"); each organisation maps
to a contact person, and each person has a manager: the first step of an escalation chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from core.text import fold, name_key
from models.enums import ForumKind
from models.records import one_of
from models.types import StrEnumType


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name", name="uq_organisation_name"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name: str = Field(max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "email", name="uq_person_email"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name: str = Field(max_length=200)
    title: str = Field(default="", max_length=200)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    email: str = Field(max_length=320)
    # apprise URLs beyond plain e-mail (workflows://, slack://, json://). Secrets in them are given as
    # {env:NAME} placeholders and resolved only at delivery, so the database never holds a credential.
    notify_targets: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class OrganisationContact(SQLModel, table=True):
    """The person who answers for an organisation. A table of its own so that organisation and person
    do not reference each other (a foreign-key cycle that SQLite migrations cannot order)."""

    __tablename__ = "organisation_contact"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id")


class Forum(SQLModel, table=True):
    __tablename__ = "forum"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name", name="uq_forum_name"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    name: str = Field(max_length=200)
    kind: ForumKind = Field(sa_type=StrEnumType(ForumKind))
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class ForumMember(SQLModel, table=True):
    """A person who sits in a forum (an EST actor in the EST group, a member of the BRÅ)."""

    __tablename__ = "forum_member"

    forum_id: int = Field(foreign_key="forum.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)


class ForumMeeting(SQLModel, table=True):
    __tablename__ = "forum_meeting"
    __table_args__ = (sa.UniqueConstraint("forum_id", "meeting_date", name="uq_forum_meeting"),)

    id: int | None = Field(default=None, primary_key=True)
    forum_id: int = Field(foreign_key="forum.id", index=True)
    meeting_date: date
    start_time: time | None = None
    place: str = Field(default="", max_length=200)


class PersonRead(SQLModel):
    id: int
    name: str
    title: str
    email: str
    organisation_id: int | None


def organisations(session: Session, municipality_id: int) -> list[Organisation]:
    """The kommun's organisations, by name."""
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.municipality_id == municipality_id)
            .order_by(Organisation.name)
        )
    )


def persons(session: Session, municipality_id: int) -> list[Person]:
    """The kommun's persons, by name."""
    return list(
        session.exec(select(Person).where(Person.municipality_id == municipality_id).order_by(Person.name))
    )


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A person as the set-based cycles read them: the columns they use, without an ORM object."""

    id: int
    municipality_id: int
    name: str
    email: str
    manager_id: int | None
    roles: tuple[str, ...]


def person_rows(session: Session, municipality_ids: Sequence[int]) -> list[PersonRow]:
    """Every person of the kommuner in one query, by kommun and then by name (``persons``' order)."""
    return [
        PersonRow(person_id, municipality_id, name, email, manager_id, tuple(roles or ()))
        for person_id, municipality_id, name, email, manager_id, roles in session.execute(
            sa.select(
                col(Person.id),
                col(Person.municipality_id),
                col(Person.name),
                col(Person.email),
                col(Person.manager_id),
                col(Person.roles),
            )
            .where(one_of(session, col(Person.municipality_id), municipality_ids))
            .order_by(col(Person.municipality_id), col(Person.name))
        )
    ]


def forums(session: Session, municipality_id: int) -> list[Forum]:
    """The kommun's forums, by name."""
    return list(
        session.exec(select(Forum).where(Forum.municipality_id == municipality_id).order_by(Forum.name))
    )


def contact_person(session: Session, organisation_id: int) -> Person | None:
    """The person who answers for an organisation, if one is named."""
    return session.exec(
        select(Person)
        .join(OrganisationContact, col(OrganisationContact.person_id) == col(Person.id))
        .where(OrganisationContact.organisation_id == organisation_id)
    ).first()


def meetings(session: Session, forum_id: int, *, on_or_after: date | None = None) -> list[ForumMeeting]:
    """A forum's meetings in date order, optionally from a date on."""
    query = select(ForumMeeting).where(ForumMeeting.forum_id == forum_id)
    if on_or_after is not None:
        query = query.where(ForumMeeting.meeting_date >= on_or_after)
    return list(session.exec(query.order_by(col(ForumMeeting.meeting_date))))


def forum_members(session: Session, forum_id: int) -> list[Person]:
    """The persons who sit in a forum, by name."""
    return list(
        session.exec(
            select(Person)
            .join(ForumMember, col(ForumMember.person_id) == col(Person.id))
            .where(ForumMember.forum_id == forum_id)
            .order_by(Person.name)
        )
    )


def forum_name_of_kind(session: Session, municipality_id: int, kind: ForumKind, default: str) -> str:
    """What the kommun calls its forum of ``kind`` (its directory name: "Trygghetsrådet", "Faluns BRÅ"),
    or ``default`` when it has none: documents use the kommun's own word, not a generic "BRÅ"."""
    name = session.exec(
        select(Forum.name)
        .where(Forum.municipality_id == municipality_id, Forum.kind == kind)
        .order_by(col(Forum.id))
    ).first()
    return name or default


def persons_with_role(session: Session, municipality_id: int, role: str) -> list[Person]:
    """The kommun's persons who hold ``role`` (bra_samordnare, kommunledning, …), by name."""
    return [person for person in persons(session, municipality_id) if role in person.roles]


def person_by_email(session: Session, municipality_id: int, email: str) -> Person | None:
    """The kommun's person with this e-mail address, compared case-insensitively in Python (SQLite's
    lower() leaves "Å" as it is)."""
    wanted = name_key(email)
    return next(
        (
            person
            for person in session.exec(select(Person).where(Person.municipality_id == municipality_id))
            if name_key(person.email) == wanted
        ),
        None,
    )


def find_persons(session: Session, municipality_id: int, text: str) -> list[Person]:
    """The kommun's persons whose e-mail address, name or an alias is ``text`` (folded, so "Åsa Ek",
    "asa ek" and "ÅSA EK" all match)."""
    wanted = fold(text)
    if not wanted:
        return []
    return [
        person
        for person in persons(session, municipality_id)
        if wanted in {fold(person.email), fold(person.name), *(fold(alias) for alias in person.aliases)}
    ]


def find_organisation(session: Session, municipality_id: int, name: str) -> Organisation | None:
    """The kommun's organisation named ``name`` or by one of its aliases (folded), if any."""
    wanted = fold(name)
    for organisation in organisations(session, municipality_id):
        if wanted in {fold(organisation.name), *(fold(alias) for alias in organisation.aliases)}:
            return organisation
    return None
