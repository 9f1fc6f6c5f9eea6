"""Follow-up reports, indicators, the plan health check and the årshjul."""

from __future__ import annotations

import click


def register(cli: click.Group, plan: click.Group) -> None:
    """Add `rapport`, `indikator` and `arshjul` to the top level and the health check to `plan`."""


def demo_section(ctx: click.Context) -> None:
    """The reporting part of `samordna demo` (the half-year report and the årshjul)."""
