"""Click in Swedish: help headings, the help option and usage errors.

Click's own texts are English. Commands use ``SwedishCommand``/``SwedishGroup`` (Swedish help
headings and help option), and ``usage_error_message`` turns click's usage errors into Swedish
sentences; the CLI's entry point prints them instead of click's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

HELP_TEXT = "Visa den här hjälpen och avsluta."
_HEADINGS = {"Options": "Flaggor", "Commands": "Kommandon", "Arguments": "Argument"}


class SwedishFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        del prefix
        super().write_usage(prog, args, prefix="Användning: ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_HEADINGS.get(name, name)):
            yield


class SwedishContext(click.Context):
    formatter_class = SwedishFormatter


class SwedishCommand(click.Command):
    context_class = SwedishContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option


class SwedishGroup(click.Group):
    context_class = SwedishContext
    command_class = SwedishCommand
    group_class = type  # subgroups are SwedishGroup too

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option


def _hint(error: click.BadParameter) -> str:
    if error.param is not None:
        return "/".join(getattr(error.param, "opts", None) or [error.param.name or "?"])
    return error.param_hint if isinstance(error.param_hint, str) else "värdet"


def usage_error_message(error: click.UsageError) -> str:
    """A Swedish sentence for a click usage error, with where to find help."""
    command = error.ctx.command_path if error.ctx is not None else "samordna"
    message = _swedish(error)
    return f"Fel: {message}\nSe '{command} --help'."


def _swedish(error: click.UsageError) -> str:
    if isinstance(error, click.NoSuchOption):
        return f"okänd flagga {error.option_name}."
    if isinstance(error, click.MissingParameter):
        name = _hint(error) if error.param is not None else "ett värde"
        if isinstance(error.param, click.Argument):
            metavar = error.param.make_metavar(error.ctx) if error.ctx else error.param.name
            return f"argumentet {metavar} saknas."
        return f"{name} saknas."
    if isinstance(error, click.BadParameter):
        param: Any = error.param
        if param is not None and isinstance(param.type, click.Choice):
            choices = ", ".join(str(choice) for choice in param.type.choices)
            return f"ogiltigt värde för {_hint(error)}: välj en av {choices}."
        if param is not None and isinstance(param.type, click.types.IntParamType):
            return f"ogiltigt värde för {_hint(error)}: ange ett heltal."
        return f"ogiltigt värde för {_hint(error)}."
    if isinstance(error, click.exceptions.NoSuchCommand):
        return f"okänt kommando {error.command_name!r}."
    if isinstance(error, click.BadOptionUsage):
        return f"flaggan {error.option_name} används fel (saknar den ett värde?)."
    if "Missing command" in error.message:
        return "ange ett underkommando."
    if "unexpected extra argument" in error.message:
        return "för många argument."
    return "felaktig användning."
