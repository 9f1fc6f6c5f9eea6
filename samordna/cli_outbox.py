"""``samordna utkorg``: the outbox for people: what is queued, sent, failed or unknown per person and
day, a delivery pass now, and sending a checked message again. The logic is in notifications/."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
import pendulum

from models.db import transaction
from models.outbox import MessageState
from notifications.health import configuration_errors, configuration_warnings
from notifications.outbox_admin import OutboxError, OutboxOverview, outbox_overview, requeue
from samordna.cli_common import KOMMUN_OPTION, UserError, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup
from samordna.settings import TIMEZONE
from samordna.text import render

DEFAULT_DAYS = 7
STATES = list(MessageState)


@click.group(cls=SwedishGroup)
def utkorg() -> None:
    """Utkorgen: vad som väntar, har skickats, misslyckats eller har okänt utfall; skicka nu; skicka om."""


def register(cli: click.Group) -> None:
    """Add the outbox commands to the top-level group."""
    cli.add_command(utkorg)


def _day(value: str | None, option: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f'{option}: "{value}" är inget datum (skriv ÅÅÅÅ-MM-DD).') from None


def _as_json(overview: OutboxOverview, warnings: list[str]) -> dict[str, Any]:
    return {
        "fran": overview.start.isoformat(),
        "till": overview.end.isoformat(),
        "per_dag": [
            {"dag": row.day.isoformat(), "mottagare": row.recipient}
            | {state.value: row.counts.get(state, 0) for state in STATES}
            for row in overview.rows
        ],
        "att_kontrollera": [
            {
                "id": problem.message_id,
                "dag": problem.day.isoformat(),
                "mottagare": problem.recipient,
                "amne": problem.subject,
                "status": problem.state.value,
                "fel": problem.last_error,
            }
            for problem in overview.problems
        ],
        "kanaler": [
            {
                "kanal": channel.key,
                "status": channel.state.value,
                "nere_sedan": channel.down_since.isoformat() if channel.down_since else None,
                "nasta_prov": channel.next_probe_at.isoformat() if channel.next_probe_at else None,
                "fel": channel.last_error,
            }
            for channel in overview.channels
        ],
        "varningar": warnings,
    }


@utkorg.command("lista")
@KOMMUN_OPTION
@click.option("--fran", metavar="DATUM", help="Första dagen (standard: för sex dagar sedan).")
@click.option("--till", metavar="DATUM", help="Sista dagen (standard: i dag).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text för människor, json för andra program.",
)
@click.pass_context
def outbox_list(
    ctx: click.Context, kommun: str | None, fran: str | None, till: str | None, output_format: str
) -> None:
    """Visa per person och dag vad som väntar, har skickats, misslyckats eller har okänt utfall."""
    today = pendulum.now(TIMEZONE).date()
    end = _day(till, "--till", today)
    start = _day(fran, "--fran", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise UserError("--fran ligger efter --till.")
    settings = settings_of(ctx)
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        overview = outbox_overview(session, municipality.id or 0, start, end)
    warnings = configuration_errors(settings) + configuration_warnings(settings)
    if output_format == "json":
        click.echo(json.dumps(_as_json(overview, warnings), ensure_ascii=False, indent=2))
        return
    click.echo(
        render(
            "outbox/lista.txt.j2",
            municipality=municipality,
            overview=overview,
            states=STATES,
            warnings=warnings,
        ),
        nl=False,
    )


@utkorg.command("skicka")
@click.pass_context
def outbox_send(ctx: click.Context) -> None:
    """Kör en leverans nu (det flödet leverans gör var femte minut), för alla kommuner."""
    from notifications.delivery import deliver_due  # noqa: PLC0415 - apprise only when delivering

    settings = settings_of(ctx)
    report = deliver_due(engine_of(ctx), datetime.now(UTC), settings)
    click.echo(render("outbox/skicka.txt.j2", report=report, errors=configuration_errors(settings)), nl=False)


@utkorg.command("skicka-om")
@click.argument("ids", nargs=-1, required=True, type=int, metavar="ID…")
@KOMMUN_OPTION
@click.pass_context
def outbox_resend(ctx: click.Context, ids: tuple[int, ...], kommun: str | None) -> None:
    """Köa ett misslyckat meddelande, eller ett med okänt utfall som du har kontrollerat, igen."""
    now = datetime.now(UTC)
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        try:
            queued = [requeue(session, municipality.id or 0, message_id, now) for message_id in ids]
        except OutboxError as error:
            raise UserError(str(error)[:1].upper() + str(error)[1:]) from None
        lines = [(message.id, message.subject) for message in queued]
    click.echo(render("outbox/skicka_om.txt.j2", queued=lines), nl=False)
