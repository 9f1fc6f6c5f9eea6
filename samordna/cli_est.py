"""``samordna est``: incidents, the fortnightly lägesbild, the agenda and the decisions of the EST meeting."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the EST commands to the top-level group."""


def demo_section(ctx: click.Context) -> None:
    """The EST part of `samordna demo` (a year of incidents for Falun and the agendas it produces)."""
