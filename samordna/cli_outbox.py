"""``samordna utkorg``: the outbox for people: what is queued, sent, failed or unknown per person and
day, a delivery pass now, and sending a checked message again. The logic is in notifications/."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click

from core import clock
from core.templating import render
from models.db import transaction
from models.outbox import MessageState
from notifications.health import configuration_errors, configuration_warnings
from notifications.outbox_admin import OutboxOverview, outbox_overview, requeue_message
from samordna.cli_common import KOMMUN_OPTION, UserError, day_option, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup

DEFAULT_DAYS = 7
STATES = list(MessageState)


@click.group(cls=SwedishGroup)
def utkorg() -> None:
    """Utkorgen: vad som väntar, har skickats, misslyckats eller har okänt utfall; skicka nu; skicka om."""


def register(cli: click.Group) -> None:
    """Add the outbox commands to the top-level group."""
    cli.add_command(utkorg)


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
    today = clock.today()
    end = day_option(till, "--till") or today
    start = day_option(fran, "--fran") or end - timedelta(days=DEFAULT_DAYS - 1)
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
    report = deliver_due(engine_of(ctx), clock.now(), settings)
    click.echo(render("outbox/skicka.txt.j2", report=report, errors=configuration_errors(settings)), nl=False)


@utkorg.command("skicka-om")
@click.argument("ids", nargs=-1, required=True, type=int, metavar="ID…")
@KOMMUN_OPTION
@click.pass_context
def outbox_resend(ctx: click.Context, ids: tuple[int, ...], kommun: str | None) -> None:
    """Köa ett misslyckat meddelande, eller ett med okänt utfall som du har kontrollerat, igen."""
    now = clock.now()
    with transaction(engine_of(ctx)) as session:
        municipality = municipality_of(session, ctx, kommun)
        queued = [
            requeue_message(session, message_id, now, municipality_id=municipality.id) for message_id in ids
        ]
        lines = [(message.id, message.subject) for message in queued]
    click.echo(render("outbox/skicka_om.txt.j2", queued=lines), nl=False)
