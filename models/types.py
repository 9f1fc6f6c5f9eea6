"""Column types that keep time aware.

SQLite has no time zone type and hands back naive datetimes; PostgreSQL's ``timestamptz`` hands back
aware ones. ``UTCDateTime`` makes both behave alike: it refuses naive values on the way in, stores UTC,
and attaches UTC on the way out. Conversion to Europe/Stockholm happens at the edges (CLI, templates).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from core import clock


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the database layer: that is a programming error, never user input."""


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored as UTC and always read back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002 - SQLAlchemy's signature
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002 - SQLAlchemy's signature
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Now, aware, in UTC: the clock's one implementation. Only edges (CLI, flows) call it; domain logic
# takes ``as_of``.
utcnow = clock.now


E = TypeVar("E", bound=StrEnum)


class StrEnumType(sa.types.TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a plain VARCHAR.

    Plain strings rather than native PostgreSQL enums: adding a status later is a data change,
    not an ``ALTER TYPE`` migration, and SQLite and PostgreSQL store the same thing.
    """

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, enum_class: type[E]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:  # noqa: ARG002 - SQLAlchemy's signature
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:  # noqa: ARG002 - SQLAlchemy's signature
        if value is None:
            return None
        return self.enum_class(value)
