"""The SSPF cycle under Prefect: one flow for every kommun, kommunkoder in, counts out.

The rules are ``cycles/sspf.py``; ``services.sspf.sspf_cycle`` runs them for a kommun (its keys read
only when an open case needs them) and the registry (``services.cycles``) makes the national flow of it
like every other cycle's. Only kommunkoder and counts cross into Prefect, never a case id, a name or a
personnummer.
"""

from __future__ import annotations

from flows.deployments import sspf_flow

__all__ = ["sspf_flow"]
