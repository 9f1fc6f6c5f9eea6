"""The registry of cycles, and running one for a kommun, a chunk of kommuner or the whole nation.

Every front door finds a cycle here by the name people use for it (`samordna run est`, `… daglig`):
the command line, the simulation, the web app and ``flows/``, which turns each entry into a Prefect
flow. A new cycle is one rule in ``cycles/`` (or ``reports/`` when it sends a document) and one entry
below; its deployment goes in ``prefect.yaml``.

The registry names each rule by its import path (``module:function``) and imports it only when a cycle
runs, so that a command that merely lists the cycles (``samordna --help``, ``samordna run --help``)
loads no rule, no chart library and no Word writer.

**Running at national scale.** A cycle runs for a list of kommuner in chunks of ``SAMORDNA_RUN_CHUNK``
(``run_for_kommuner``), each chunk on one engine and connection pool, ``SAMORDNA_RUN_THREADS`` chunks
at once on PostgreSQL (the database writes one chunk while Python renders the next; chunks never share
a kommun, so they never wait for each other's locks). A cycle with a set-based rule
(``batch_rule``: the daily sweep) runs a whole chunk in one transaction, in a fixed number of
statements; if that fails, each kommun of the chunk is run alone, so one kommun's bad data stops
only that kommun (the others are committed, and the chunk then fails naming it, so that Prefect
retries it: a retry finds the others done). Other cycles run one transaction per kommun. Every
transaction first takes the run lock of its cycle for its kommuner (``models.run_lock``): two runs of
the same cycle for the same kommun, from any door or worker, never overlap.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from core import clock
from core.errors import DomainError
from models.db import transaction
from models.municipality import Municipality, find_municipality
from models.records import Event, count_events
from models.run_lock import lock_runs
from services.municipalities import UnknownMunicipalityError, municipality_codes

Cycle = Callable[[Session, Municipality, date], list[Event]]
BatchCycle = Callable[[Session, Sequence[Municipality], date], list[Event]]

logger = logging.getLogger(__name__)
Item = TypeVar("Item")

DEFAULT_CHUNK = 30  # kommuner per chunk: a transaction of a national sweep stays well under a second


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """One cycle: what people call it, its rule, and the Prefect flow and deployment that run it."""

    name: str  # what people type: samordna run <name>
    summary: str  # one line for people
    description: str  # what the flow does, for Prefect's UI
    rule: str  # "module:function", a Cycle: the rule for one kommun
    flow_name: str  # the Prefect flow's name
    deployment: str  # its deployment in prefect.yaml
    simulated: bool = True  # `samordna simulate` runs it (documents are left out: they change no task)
    batch_rule: str | None = None  # "module:function", a BatchCycle: the rule for many kommuner at once
    command: bool = True  # offered by `samordna run` (SSPF has its own command, with its access check)

    @property
    def run(self) -> Cycle:
        """The rule for one kommun, imported on first use."""
        rule: Cycle = _imported(self.rule)
        return rule

    @property
    def run_many(self) -> BatchCycle | None:
        """The set-based rule for many kommuner, if the cycle has one."""
        if self.batch_rule is None:
            return None
        rule: BatchCycle = _imported(self.batch_rule)
        return rule


def _imported(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


CYCLES: dict[str, CycleSpec] = {
    spec.name: spec
    for spec in (
        CycleSpec(
            "est",
            "EST var 14:e dag",
            "EST var 14:e dag för varje kommun med EST-grupp: ny period efter varje möte, "
            "rapporteringsuppgifter till EST-aktörerna och uppföljning av öppna insatser.",
            "cycles.est:run_est_cycle",
            "est-cykel",
            "est",
        ),
        CycleSpec(
            "uppfoljning",
            "Åtgärdsplanens uppföljning varje halvår",
            "Åtgärdsplanens uppföljning: statusuppgifter inför forumets möte "
            "och sammanställning när de förfaller.",
            "cycles.follow_up:follow_up_and_compile",
            "uppfoljning",
            "uppfoljning",
        ),
        CycleSpec(
            "lagesbild",
            "Lägesbild vartannat år och planens revidering",
            "Lägesbild vartannat år och revidering av åtgärdsplanen.",
            "cycles.situation_assessment:run_situation_assessment_cycle",
            "lagesbild",
            "lagesbild",
        ),
        CycleSpec(
            "daglig",
            "Daglig kontroll: påminnelser och eskaleringar, med meddelanden i utkorgen",
            "Daglig kontroll kl 07.00 på arbetsdagar: påminnelser och eskaleringar.",
            "cycles.daily_sweep:sweep_and_notify",
            "daglig-kontroll",
            "daglig-kontroll",
            batch_rule="cycles.daily_sweep:sweep_and_notify_kommuner",
        ),
        CycleSpec(
            "dagordning",
            "Dagordningen till EST-gruppen före varje EST-möte",
            "Dagordningen till EST-gruppen ett antal arbetsdagar före mötet, en gång per möte och mottagare.",
            "reports.est_agenda:send_agendas",
            "est-dagordning",
            "est-dagordning",
            simulated=False,
        ),
        CycleSpec(
            "sspf",
            "SSPF: uppföljning, samtycken och gallring",
            "SSPF för varje kommun: uppföljning av ärenden, omprövning av samtycken, 18-årssamtycke och "
            "gallring. Prefect ser bara kommunkoder och antal.",
            "services.sspf:sspf_cycle",
            "sspf-cykel",
            "sspf",
            simulated=False,
            command=False,
        ),
    )
}


def commands() -> list[str]:
    """The cycles `samordna run` offers."""
    return [name for name, spec in CYCLES.items() if spec.command]


def cycle_name_of(rule: Cycle) -> str | None:
    """The registry's name for ``rule`` (a cycle's rule for one kommun), if it is one of them."""
    path = f"{rule.__module__}:{rule.__name__}"
    return next((spec.name for spec in CYCLES.values() if path in {spec.rule, spec.batch_rule}), None)


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
    """Run ``cycle`` for one kommun in one transaction: all of its records, or none of them. A cycle of
    the registry first takes its run lock for the kommun (waiting for a run that holds it)."""
    name = cycle_name_of(cycle)
    with transaction(engine) as session:
        municipality = find_municipality(session, code)
        if municipality is None:
            raise UnknownMunicipalityError(f'Kommunen "{code}" finns inte.')
        if name is not None:
            lock_runs(session, name, [municipality.id or 0], clock.now())
        return cycle(session, municipality, as_of)


class ChunkFailedError(DomainError):
    """Some kommuner of a chunk could not be run; the rest were. The message names them."""


def chunks(codes: Sequence[str], size: int = DEFAULT_CHUNK) -> list[list[str]]:
    """``codes`` in runs of at most ``size``, in order."""
    size = max(1, size)
    return [list(codes[start : start + size]) for start in range(0, len(codes), size)]


def split(codes: Sequence[str], parts: int) -> list[list[str]]:
    """``codes`` in ``parts`` contiguous parts of near-equal size (fewer when there are fewer codes)."""
    parts = max(1, min(parts, len(codes)))
    size, extra = divmod(len(codes), parts)
    found: list[list[str]] = []
    start = 0
    for number in range(parts):
        end = start + size + (1 if number < extra else 0)
        found.append(list(codes[start:end]))
        start = end
    return [part for part in found if part]


def _add(totals: dict[str, int], counts: dict[str, int]) -> None:
    for kind, number in counts.items():
        totals[kind] = totals.get(kind, 0) + number


def _run_batch(
    engine: sa.Engine, spec: CycleSpec, rule: BatchCycle, codes: Sequence[str], as_of: date
) -> list[Event]:
    with transaction(engine) as session:
        municipalities = list(
            session.exec(
                select(Municipality).where(col(Municipality.code).in_(codes)).order_by(col(Municipality.id))
            )
        )
        missing = sorted(set(codes) - {municipality.code for municipality in municipalities})
        if missing:
            raise UnknownMunicipalityError(f'Kommunen "{missing[0]}" finns inte.')
        lock_runs(session, spec.name, [municipality.id or 0 for municipality in municipalities], clock.now())
        return rule(session, municipalities, as_of)


def run_chunk(engine: sa.Engine, name: str, codes: Sequence[str], as_of: date) -> dict[str, int]:
    """Cycle ``name`` for the kommuner ``codes`` (module docstring); the counts of what it did.

    Raises ChunkFailedError naming the kommuner that failed, after running all the others."""
    spec = CYCLES[name]
    totals: dict[str, int] = {}
    batch = spec.run_many
    if batch is not None and len(codes) > 1:
        try:
            _add(totals, count_events(_run_batch(engine, spec, batch, codes, as_of)))
        except Exception:  # noqa: BLE001 - any failure: run the kommuner one by one to isolate it
            logger.warning(
                "%s %s: delen med %d kommuner misslyckades; kör en i taget", name, as_of, len(codes)
            )
        else:
            return totals
    failed: list[str] = []
    first_error: Exception | None = None
    for code in codes:
        try:
            _add(totals, count_events(run_cycle(engine, spec.run, code, as_of)))
        except Exception as error:
            if len(codes) == 1:
                raise
            logger.exception("%s %s misslyckades för kommun %s", name, as_of, code)
            failed.append(code)
            first_error = first_error or error
    if failed:
        raise ChunkFailedError(
            f"Cykeln {name} misslyckades för {len(failed)} av {len(codes)} kommuner ({', '.join(failed)}); "
            "de andra är klara."
        ) from first_error
    return totals


def chunk_threads(database_url: str | sa.URL, wanted: int) -> int:
    """How many chunks one process works at once: ``wanted`` on PostgreSQL, 1 on SQLite (one writer:
    a second chunk would only wait for the first)."""
    return wanted if make_url(database_url).get_backend_name() == "postgresql" else 1


def run_for_kommuner(
    engine: sa.Engine,
    name: str,
    codes: list[str],
    as_of: date,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    threads: int = 1,
) -> dict[str, int]:
    """Cycle ``name`` for each kommun in ``codes`` in chunks on one engine, ``threads`` chunks at once
    (``chunk_threads``); the summed counts. Every chunk runs even when one fails; then the first
    failure is raised (ChunkFailedError names the kommuner), after the others are committed."""
    work = chunks(codes, chunk_size)
    workers = min(chunk_threads(engine.url, threads), len(work))
    if workers <= 1:
        return summed_after_all(work, lambda chunk: run_chunk(engine, name, chunk, as_of))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"cykel-{name}") as pool:
        futures = [pool.submit(run_chunk, engine, name, chunk, as_of) for chunk in work]
    return summed_after_all(futures, Future.result)


def summed_after_all(items: Sequence[Item], counts_of: Callable[[Item], dict[str, int]]) -> dict[str, int]:
    """``counts_of`` every item (a chunk to run, or a chunk's future), summed. Each item is asked even
    when an earlier one failed; then the first failure is raised (the others' work is committed)."""
    totals: dict[str, int] = {}
    first_failure: Exception | None = None
    for item in items:
        try:
            _add(totals, counts_of(item))
        except Exception as error:  # noqa: BLE001 - raised below, after the other items ran
            first_failure = first_failure or error
    if first_failure is not None:
        raise first_failure
    return totals
