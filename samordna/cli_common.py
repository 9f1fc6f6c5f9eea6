"""What every command module of the CLI shares: settings, the engine, the kommun, the user error."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from sqlmodel import Session

from models import db
from models.municipality import Municipality, find_municipality, list_municipalities
from samordna.settings import Settings, get_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


class UserError(Exception):
    """Something the user can put right; the message is Swedish and is shown as it is."""


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
    key = kommun or settings_of(ctx).kommun
    if not key:
        known = ", ".join(f"{m.name} ({m.code})" for m in list_municipalities(session)) or "inga ännu"
        raise UserError(f"Ange kommun med --kommun (kommunkod eller namn). Kommuner i databasen: {known}.")
    found = find_municipality(session, key)
    if found is None:
        raise UserError(
            f'Kommunen "{key}" finns inte. Skapa den med: samordna kommun skapa --namn NAMN --kod KOD'
        )
    return found


KOMMUN_OPTION = click.option(
    "--kommun", "kommun", metavar="KOMMUN", help="Kommunkod eller namn (standard: SAMORDNA_KOMMUN)."
)
