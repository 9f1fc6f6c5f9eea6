"""The registry of cycles, and running one for a kommun as of a day.

Every front door finds a cycle here by the name people use for it (`samordna run est`, `… daglig`):
the command line, the simulation, the web app and ``flows/``, which turns each entry into a Prefect
flow. A new cycle is one rule in ``cycles/`` (or ``reports/`` when it sends a document) and one entry
below; its deployment goes in ``prefect.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from core import clock
from cycles.daily_sweep import sweep_and_notify
from cycles.est import run_est_cycle
from cycles.follow_up import follow_up_and_compile
from cycles.situation_assessment import run_situation_assessment_cycle
from models.db import transaction
from models.municipality import Municipality, find_municipality
from models.records import Event, count_events
from reports.est_agenda import send_agendas
from services.municipalities import UnknownMunicipalityError, municipality_codes

Cycle = Callable[[Session, Municipality, date], list[Event]]


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """One cycle: what people call it, its rule, and the Prefect flow and deployment that run it."""

    name: str  # what people type: samordna run <name>
    summary: str  # one line for people
    description: str  # what the flow does, for Prefect's UI
    run: Cycle
    flow_name: str  # the Prefect flow's name
    deployment: str  # its deployment in prefect.yaml
    simulated: bool = True  # `samordna simulate` runs it (documents are left out: they change no task)


CYCLES: dict[str, CycleSpec] = {
    spec.name: spec
    for spec in (
        CycleSpec(
            "est",
            "EST var 14:e dag",
            "EST var 14:e dag: ny period, rapporteringsuppgifter till EST-aktörerna "
            "och uppföljning av öppna insatser.",
            run_est_cycle,
            "est-cykel",
            "est-falun",
        ),
        CycleSpec(
            "uppfoljning",
            "Åtgärdsplanens uppföljning varje halvår",
            "Åtgärdsplanens uppföljning: statusuppgifter inför forumets möte "
            "och sammanställning när de förfaller.",
            follow_up_and_compile,
            "uppfoljning",
            "uppfoljning",
        ),
        CycleSpec(
            "lagesbild",
            "Lägesbild vartannat år och planens revidering",
            "Lägesbild vartannat år och revidering av åtgärdsplanen.",
            run_situation_assessment_cycle,
            "lagesbild",
            "lagesbild",
        ),
        CycleSpec(
            "daglig",
            "Daglig kontroll: påminnelser och eskaleringar, med meddelanden i utkorgen",
            "Daglig kontroll kl 07.00 på arbetsdagar: påminnelser och eskaleringar.",
            sweep_and_notify,
            "daglig-kontroll",
            "daglig-kontroll",
        ),
        CycleSpec(
            "dagordning",
            "Dagordningen till EST-gruppen före varje EST-möte",
            "Dagordningen till EST-gruppen ett antal arbetsdagar före mötet, en gång per möte och mottagare.",
            send_agendas,
            "est-dagordning",
            "est-dagordning",
            simulated=False,
        ),
    )
}


def resolve_as_of(as_of: str | date | None) -> date:
    """``as_of`` as a date; None means today in Europe/Stockholm."""
    if as_of is None:
        return clock.today()
    return as_of if isinstance(as_of, date) else date.fromisoformat(as_of)


def kommun_codes(engine: sa.Engine, kommun: str | None, *, default: str | None = None) -> list[str]:
    """The kommunkod of ``kommun`` (or ``default``), or of every kommun when neither is given."""
    with transaction(engine) as session:
        return municipality_codes(session, kommun, default=default)


def run_cycle(engine: sa.Engine, cycle: Cycle, code: str, as_of: date) -> list[Event]:
    """Run ``cycle`` for one kommun in one transaction: all of its records, or none of them."""
    with transaction(engine) as session:
        municipality = find_municipality(session, code)
        if municipality is None:
            raise UnknownMunicipalityError(f'Kommunen "{code}" finns inte.')
        return cycle(session, municipality, as_of)


def run_for_kommuner(engine: sa.Engine, name: str, codes: list[str], as_of: date) -> dict[str, int]:
    """Cycle ``name`` for each kommun in ``codes``, each in its own transaction; the summed counts."""
    spec = CYCLES[name]
    totals: dict[str, int] = {}
    for code in codes:
        for kind, number in count_events(run_cycle(engine, spec.run, code, as_of)).items():
            totals[kind] = totals.get(kind, 0) + number
    return totals
