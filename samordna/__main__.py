"""``python -m samordna`` is the same as the ``samordna`` command."""

from samordna.cli import run

run()
