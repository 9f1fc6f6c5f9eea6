"""Prefect at the edge: each cycle of the registry becomes one flow with one task per kommun.

The domain logic of a cycle is a plain function ``cycle(session, municipality, as_of) -> list[Event]``
(``cycles/``, registered in ``services.cycles``). This module wraps it: the flow resolves ``as_of``
(today in Europe/Stockholm unless given) and the kommuner, and runs one Prefect task per kommun, which
opens its own transaction. Only ids and plain values cross into Prefect: never sessions, and never
anything about a person beyond counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import Flow, get_run_logger, task

from core.settings import get_settings
from models.db import make_engine
from models.records import count_events
from services.cycles import CycleSpec, kommun_codes, resolve_as_of, run_cycle


def cycle_flow(spec: CycleSpec) -> Flow[[str | None, str | None], dict[str, int]]:
    """A Prefect flow named ``spec.flow_name`` that runs the cycle for one or every kommun."""

    @task(name=f"{spec.flow_name}-kommun", retries=2, retry_delay_seconds=30)
    def cycle_for_kommun(code: str, as_of: str) -> dict[str, int]:
        engine = make_engine(get_settings().database_url)
        try:
            return count_events(run_cycle(engine, spec.run, code, date.fromisoformat(as_of)))
        finally:
            engine.dispose()

    def run(kommun: str | None = None, as_of: str | None = None) -> dict[str, int]:
        day = resolve_as_of(as_of)
        engine = make_engine(get_settings().database_url)
        try:
            codes = kommun_codes(engine, kommun)
        finally:
            engine.dispose()
        totals: dict[str, int] = {}
        for code in codes:
            for kind, count in cycle_for_kommun(code, day.isoformat()).items():
                totals[kind] = totals.get(kind, 0) + count
        get_run_logger().info(
            "%s %s för %d kommuner: %s", spec.flow_name, day.isoformat(), len(codes), totals
        )
        return totals

    run.__doc__ = spec.description
    return Flow(fn=run, name=spec.flow_name, description=spec.description, validate_parameters=True)


def flow_parameters(kommun: str | None, as_of: date | None) -> dict[str, Any]:
    """Parameters for a flow run as plain values."""
    return {"kommun": kommun, "as_of": as_of.isoformat() if as_of else None}
