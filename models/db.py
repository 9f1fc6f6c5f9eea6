"""Engines, sessions and migrations.

SQLite is the embedded default (one file, foreign keys switched on, WAL so a reader does not block the
writer); PostgreSQL is the scale path. Both are migrated by alembic from ``models/migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlmodel import Session

import models  # noqa: F401 - registers every table on SQLModel.metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``; for SQLite the file's folder is created and pragmas set per connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Session]:
    """A session whose work is committed when the block ends and rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """alembic's configuration for ``url`` without an ini file."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS.as_posix())
    # alembic's ini interpolation treats % specially: escape it in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    command.upgrade(alembic_config(url), "head")


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest schema revision this code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
