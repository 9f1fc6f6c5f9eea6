"""``samordna sspf``: SSPF case management with privacy by design."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the SSPF commands to the top-level group."""
