"""A simulated half-year in place: the cycles at their scheduled instants, with seeded answers.

The same loop as ``flows.simulation.simulate`` (its pieces, unchanged), run on the test's own database
(SQLite or PostgreSQL) instead of a throwaway copy, so the report can be checked against that database.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from flows.simulation import STOCKHOLM, SimulationOptions, answer_tasks, scheduled_instants
from models.db import transaction
from models.municipality import find_municipality
from models.working_days import is_working_day
from samordna.cli_common import PREFECT_YAML
from services.cycles import CYCLES, run_cycle


def simulate_in_place(engine: sa.Engine, code: str, start: date, end: date, seed: int = 1) -> None:
    """Run every cycle but EST (it creates nothing the report reads) from ``start`` to ``end``."""
    options = SimulationOptions(start=start, end=end, kommun=code, seed=seed)
    with transaction(engine) as session:
        municipality = find_municipality(session, code)
        assert municipality is not None
        rhythm = dict(municipality.rhythm)
    for instant, cycle in scheduled_instants(rhythm, start, end, PREFECT_YAML):
        if cycle == "est":
            continue
        day = instant.astimezone(STOCKHOLM).date()
        if cycle == "daglig" and is_working_day(day):
            with transaction(engine) as session:
                answer_tasks(session, code, day, options)
        run_cycle(engine, CYCLES[cycle].run, code, day)
