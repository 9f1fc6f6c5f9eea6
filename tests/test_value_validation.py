"""One validation for both databases: what PostgreSQL would refuse, SQLite refuses too, before writing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from models.db import transaction
from models.directory import Person
from models.municipality import Municipality
from models.outbox import MessageKind, OutboxMessage
from models.records import insert_many
from models.validation import StoredValueError


def _kommun(engine: sa.Engine) -> int:
    with transaction(engine) as session:
        municipality = Municipality(name="Falun", code="2080")
        session.add(municipality)
        session.flush()
        return municipality.id or 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Anna\x00Åberg", "person.name: texten innehåller ett NUL-tecken"),
        ("name", "A" * 201, "person.name: texten är 201 tecken; högst 200 får plats"),
        ("aliases", ["Anna", "Å\x00"], "person.aliases: texten innehåller ett NUL-tecken"),
    ],
)
def test_orm_writes_refuse_nul_and_overlong_text_alike(
    engine: sa.Engine, field: str, value: object, message: str
) -> None:
    """A NUL (also inside JSON) or a text over its column's length is refused on SQLite as on
    PostgreSQL, naming table and column, and nothing is written."""
    kommun = _kommun(engine)
    person = Person(municipality_id=kommun, name="Anna", email="anna@example.se")
    setattr(person, field, value)
    with pytest.raises(StoredValueError) as refused, transaction(engine) as session:
        session.add(person)
    assert [str(problem) for problem in refused.value.problems] == [message]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == 0


def test_core_inserts_are_checked_too(engine: sa.Engine) -> None:
    """insert_many (INSERT … ON CONFLICT DO NOTHING, beside the ORM) refuses an over-long subject."""
    kommun = _kommun(engine)
    message = OutboxMessage(
        municipality_id=kommun,
        dedupe_key="test:lång",
        kind=MessageKind.OTHER,
        subject="Ä" * 501,
        body_text="text",
    )
    with pytest.raises(StoredValueError) as refused, transaction(engine) as session:
        insert_many(session, [message], key="dedupe_key")
    assert [str(problem) for problem in refused.value.problems] == [
        "outbox_message.subject: texten är 501 tecken; högst 500 får plats"
    ]
