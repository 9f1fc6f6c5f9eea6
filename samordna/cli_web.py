"""``samordna webb``: the web app (the ansvariga's pages and the coordinator's dashboard) and its logins.

The app itself is ``web.app``; the command line starts it with uvicorn by its import path (as a
factory), so this module never imports the web layer. Its logic lives in ``services/``: passwords in
``services.accounts``, the demo's step in ``services.web_demo``.
"""

from __future__ import annotations

import logging
import re
import sys
from urllib.parse import urlsplit

import click

from core import clock
from core.templating import render
from core.web_secret import WebSecretError, create_local_secret, link_secret, secret_file
from models.db import transaction
from samordna.cli_common import KOMMUN_OPTION, UserError, engine_of, municipality_of, settings_of
from samordna.clicksv import SwedishGroup
from services.accounts import account_holder, set_password

APP_FACTORY = "web.app:app_from_environment"
_TOKEN_IN_PATH = re.compile(r"(/svar/)[A-Za-z0-9_-]+")


class RedactLinkTokens(logging.Filter):
    """uvicorn's access log shows each request's path: a personal link's token must not reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(r"\1…", value) if isinstance(value, str) else value
                for value in record.args
            )
        return True


def register(cli: click.Group) -> None:
    """Add `samordna webb` (and `samordna webb konto`) to the top-level group."""
    cli.add_command(webb)


@click.group("webb", cls=SwedishGroup, invoke_without_command=True)
@click.option("--port", type=int, default=8000, show_default=True, help="Porten webbappen lyssnar på.")
@click.option(
    "--vard", "host", default="127.0.0.1", show_default=True, help="Adressen den lyssnar på (0.0.0.0: alla)."
)
@click.option(
    "--demo",
    is_flag=True,
    help="Skapa en hemlighet för personliga länkar i datamappen om ingen finns (för demo och utveckling).",
)
@click.pass_context
def webb(ctx: click.Context, port: int, host: str, demo: bool) -> None:  # noqa: FBT001 - click passes flags by name
    """Starta webbappen: ansvarigas sidor bakom personliga länkar och BRÅ-samordnarens översikt."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn  # noqa: PLC0415 - only this command serves

    settings = settings_of(ctx)
    engine_of(ctx)  # refuse to start on a database that is not migrated
    try:
        if demo:
            create_local_secret(settings)
        secret = link_secret(settings)
    except WebSecretError as error:
        raise UserError(str(error)) from error
    if secret is None:
        raise UserError(
            "Ingen hemlighet för personliga länkar. Sätt SAMORDNA_WEB_SECRET (minst 32 tecken), eller "
            f"kör `samordna webb --demo`, som skapar en i {secret_file(settings)} (demo och utveckling)."
        )
    base = urlsplit(settings.base_url)
    click.echo(
        render(
            "cli/webb.txt.j2",
            address=f"http://{host}:{port}",
            base_url=settings.base_url,
            port_differs=base.port not in {None, port} or (base.port is None and port not in {80, 443}),
            secret_source="SAMORDNA_WEB_SECRET"
            if settings.web_secret.get_secret_value()
            else str(secret_file(settings)),
        ),
        nl=False,
    )
    config = uvicorn.Config(APP_FACTORY, factory=True, host=host, port=port, proxy_headers=True)
    logging.getLogger("uvicorn.access").addFilter(RedactLinkTokens())
    uvicorn.Server(config).run()


@webb.command("konto")
@click.option("--epost", required=True, metavar="EPOST", help="Personens e-postadress i katalogen.")
@KOMMUN_OPTION
@click.pass_context
def account(ctx: click.Context, epost: str, kommun: str | None) -> None:
    """Sätt lösenord för BRÅ-samordnaren eller någon med SSPF-roll (frågas två gånger; utan terminal
    läses det två gånger från standard in, en rad var)."""
    engine = engine_of(ctx)
    with transaction(engine) as session:
        account_holder(session, municipality_of(session, ctx, kommun), epost)
    if sys.stdin.isatty():
        password: str = click.prompt(
            "Nytt lösenord (minst 12 tecken)",
            hide_input=True,
            confirmation_prompt="Samma lösenord igen",
            prompt_suffix=": ",
        )
    else:  # a script or a pipe: two lines of standard input, never echoed anywhere
        password, again = (sys.stdin.readline().rstrip("\r\n") for _ in range(2))
        if password != again:
            raise UserError("De två lösenorden är inte lika; inget ändrades.")
    with transaction(engine) as session:
        municipality = municipality_of(session, ctx, kommun)
        person = set_password(session, municipality, epost, password, clock.now())
        name = person.name
    click.echo(f"Lösenordet för {name} är satt. Logga in på {settings_of(ctx).base_url.rstrip('/')}/logga-in")


def demo_section(ctx: click.Context) -> None:
    """The web part of `samordna demo`: recent reminders with personal links, and a coordinator login."""
    from services.web_demo import prepare_web_demo  # noqa: PLC0415 - only the demo needs it

    demo = prepare_web_demo(engine_of(ctx), settings_of(ctx))
    click.echo(render("cli/webb_demo.txt.j2", demo=demo), nl=False)


__all__ = ["demo_section", "register"]
