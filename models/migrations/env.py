"""alembic environment: migrates SQLModel's metadata on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel

import models  # noqa: F401 - registers every table on SQLModel.metadata
from models.db import make_engine
from models.types import StrEnumType, UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations name plain column types: what a column stores, not how Python converts it."""
    del autogen_context
    if type_ == "type" and isinstance(obj, StrEnumType):
        return "sa.String(length=32)"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__name__ == "AutoString":
        return f"sa.String(length={obj.length})"  # type: ignore[attr-defined]
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: sa.Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()


def _run(connection: sa.Connection) -> None:
    # Batch mode lets SQLite alter tables by copying them; on PostgreSQL it is plain ALTER.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
