"""Click in Swedish: help headings, the help option and usage errors.

Click's own texts are English. Commands use ``SwedishCommand``/``SwedishGroup`` (Swedish help
headings and help option), and ``usage_error_message`` turns click's usage errors into Swedish
sentences; the CLI's entry point prints them instead of click's.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A command whose module is imported only when it is run (or its own help is asked for).

    ``register`` names the module's function that adds it (``"samordna.cli_est:register"``); it is
    called with the top-level group. ``summary`` is the line ``--help`` lists, so listing the commands
    imports nothing (tests/test_cli.py checks it equals the command's own)."""

    register: str
    summary: str


_REGISTERED: set[str] = set()


class SwedishGroup(click.Group):
    context_class = SwedishContext
    command_class = SwedishCommand
    group_class = type  # subgroups are SwedishGroup too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = {}

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def add_lazy(self, name: str, register: str, summary: str) -> None:
        """Offer ``name`` without importing its module until it is used."""
        self.lazy[name] = LazyCommand(register, summary)

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy.get(cmd_name)
        if cmd_name not in self.commands and lazy is not None and lazy.register not in _REGISTERED:
            module, _, function = lazy.register.partition(":")
            root = ctx.find_root().command
            getattr(importlib.import_module(module), function)(root)
            _REGISTERED.add(lazy.register)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their one-line help, from the lazy table for those not imported yet."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None and command.hidden:
                continue
            limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
            text = (
                command.get_short_help_str(limit)
                if command is not None
                else click.Command(name, help=self.lazy[name].summary).get_short_help_str(limit)
            )
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


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
