"""Engines, sessions and migrations.

SQLite is the embedded default (one file, foreign keys switched on, WAL so a reader does not block the
writer); PostgreSQL is the scale path. Both are migrated by alembic from ``models/migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

import models  # noqa: F401 - registers every table on SQLModel.metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration in models/migrations/versions (test_models checks that alembic agrees): every
# command compares the database with it, so they need not load alembic and parse the migrations.
HEAD_REVISION = "0014"


def make_engine(url: str, *, throwaway: bool = False, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``; for SQLite the file's folder is created and pragmas set per connection.

    ``throwaway``: a SQLite file nobody needs after a crash (the simulation's copy) is written without
    waiting for the disk on every commit (``synchronous=OFF``); a real database always waits."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _throwaway_pragmas if throwaway else _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _throwaway_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Session]:
    """A session whose work is committed when the block ends and rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """alembic's configuration for ``url`` without an ini file."""
    from alembic.config import Config  # noqa: PLC0415 - alembic only for migrations

    config = Config()
    config.set_main_option("script_location", MIGRATIONS.as_posix())
    # alembic's ini interpolation treats % specially: escape it in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    from alembic import command  # noqa: PLC0415 - alembic only for migrations

    command.upgrade(alembic_config(url), "head")


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision the database is at (alembic's version table), or None for an empty one."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return HEAD_REVISION


def alembic_head() -> str | None:
    """The newest revision as alembic reads it from the migration files (HEAD_REVISION must equal it)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - alembic only for migrations

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
