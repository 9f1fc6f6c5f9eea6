"""Prefect at the edge: each cycle becomes one flow with one task per kommun.

The domain logic of a cycle is a plain function ``cycle(session, municipality, as_of) -> list[Event]``.
This module wraps it: the flow resolves ``as_of`` (today in Europe/Stockholm unless given) and the
kommuner, and runs one Prefect task per kommun, which opens its own transaction. Only ids and plain
values cross into Prefect: never sessions, and never anything about a person beyond counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pendulum
import sqlalchemy as sa
from prefect import Flow, get_run_logger, task
from sqlmodel import Session

from models.db import make_engine, transaction
from models.municipality import Municipality, find_municipality, list_municipalities
from models.records import Event
from samordna.settings import TIMEZONE, get_settings

Cycle = Callable[[Session, Municipality, date], list[Event]]


class UnknownMunicipalityError(LookupError):
    """The kommun named for a run does not exist; the message is Swedish."""


def today_in_stockholm() -> date:
    """The date it is now in Europe/Stockholm: the default ``as_of`` of a scheduled run."""
    return pendulum.now(TIMEZONE).date()


def resolve_as_of(as_of: str | date | None) -> date:
    """``as_of`` as a date; None means today in Europe/Stockholm."""
    if as_of is None:
        return today_in_stockholm()
    return as_of if isinstance(as_of, date) else date.fromisoformat(as_of)


def municipality_codes(engine: sa.Engine, kommun: str | None) -> list[str]:
    """The kommunkod of ``kommun`` (code or name), or of every kommun when None."""
    with transaction(engine) as session:
        if kommun is None:
            return [municipality.code for municipality in list_municipalities(session)]
        found = find_municipality(session, kommun)
        if found is None:
            raise UnknownMunicipalityError(f'Kommunen "{kommun}" finns inte.')
        return [found.code]


def run_cycle(engine: sa.Engine, cycle: Cycle, code: str, as_of: date) -> list[Event]:
    """Run ``cycle`` for one kommun in one transaction: all of its records, or none of them."""
    with transaction(engine) as session:
        municipality = find_municipality(session, code)
        if municipality is None:
            raise UnknownMunicipalityError(f'Kommunen "{code}" finns inte.')
        return cycle(session, municipality, as_of)


def count_events(events: list[Event]) -> dict[str, int]:
    """How many events of each kind: what a task returns to Prefect (no names, no subjects)."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    return counts


def cycle_flow(name: str, cycle: Cycle, description: str) -> Flow[[str | None, str | None], dict[str, int]]:
    """A Prefect flow named ``name`` that runs ``cycle`` for one or every kommun."""

    @task(name=f"{name}-kommun", retries=2, retry_delay_seconds=30)
    def cycle_for_kommun(code: str, as_of: str) -> dict[str, int]:
        engine = make_engine(get_settings().database_url)
        try:
            return count_events(run_cycle(engine, cycle, code, date.fromisoformat(as_of)))
        finally:
            engine.dispose()

    def run(kommun: str | None = None, as_of: str | None = None) -> dict[str, int]:
        day = resolve_as_of(as_of)
        engine = make_engine(get_settings().database_url)
        try:
            codes = municipality_codes(engine, kommun)
        finally:
            engine.dispose()
        totals: dict[str, int] = {}
        for code in codes:
            for kind, count in cycle_for_kommun(code, day.isoformat()).items():
                totals[kind] = totals.get(kind, 0) + count
        get_run_logger().info("%s %s för %d kommuner: %s", name, day.isoformat(), len(codes), totals)
        return totals

    run.__doc__ = description
    return Flow(fn=run, name=name, description=description, validate_parameters=True)


def flow_parameters(kommun: str | None, as_of: date | None) -> dict[str, Any]:
    """Parameters for a flow run as plain values."""
    return {"kommun": kommun, "as_of": as_of.isoformat() if as_of else None}
