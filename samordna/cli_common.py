"""What every command module of the CLI shares: settings, the engine, the kommun, dates, the user error."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import click
import sqlalchemy as sa
from sqlmodel import Session

from core.errors import DomainError
from core.settings import Settings, get_settings
from models import db
from models.municipality import Municipality
from services.inputs import optional_day
from services.municipalities import resolve_municipality

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


class UserError(DomainError):
    """Something the user can put right at the command line; the message is Swedish."""


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    return settings if settings is not None else get_settings()


def engine_of(ctx: click.Context, *, migrated: bool = True) -> sa.Engine:
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url)
    # Close pooled connections when the command ends: a long-lived process must not leak them.
    ctx.call_on_close(engine.dispose)
    if migrated:
        current = db.current_revision(engine)
        if current != db.head_revision():
            state = "är inte initierad" if current is None else "har en äldre version"
            raise UserError(f"Databasen {state}. Kör först: samordna init")
    return engine


def municipality_of(session: Session, ctx: click.Context, kommun: str | None) -> Municipality:
    """The kommun ``--kommun`` names, else ``SAMORDNA_KOMMUN``."""
    return resolve_municipality(session, kommun, default=settings_of(ctx).kommun)


def kommun_or_default(ctx: click.Context, kommun: str | None) -> str | None:
    """``--kommun``, else ``SAMORDNA_KOMMUN``, else None (every kommun, for the commands that allow it)."""
    return kommun or settings_of(ctx).kommun


def day_option(
    value: str | None, option: str, *, pick: Literal["day", "start", "end"] = "day"
) -> date | None:
    """A date option as typed (ISO or Swedish), or None when it was left out."""
    return optional_day(value, option, pick=pick)


KOMMUN_OPTION = click.option(
    "--kommun", "kommun", metavar="KOMMUN", help="Kommunkod eller namn (standard: SAMORDNA_KOMMUN)."
)
