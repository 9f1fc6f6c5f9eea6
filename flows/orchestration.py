"""Prefect at the edge: each cycle of the registry becomes one national flow, its chunks Prefect tasks.

The domain logic of a cycle is a plain function of (session, kommun, as_of) (``cycles/``, registered in
``services.cycles``, which also runs it for a chunk of kommuner). Here it becomes one flow for the whole
nation, the flow of the cycle's one deployment in ``prefect.yaml``:

- The flow resolves ``as_of`` (today in Europe/Stockholm unless given) once, so every kommun is run as
  of the same day, and the kommuner (the one given, else all of them).
- With one part (``SAMORDNA_RUN_PARTS`` = 1, or the parameter ``delar``), it runs the chunks itself: a
  Prefect task per chunk of ``SAMORDNA_RUN_CHUNK`` kommuner (not per kommun), all on one engine and
  connection pool for the run.
- With N parts it splits the kommuner into N contiguous parts, starts a flow run of the deployment
  ``cykel-del`` for each part but the first, which any worker of the pool takes, and runs the first
  itself meanwhile: N process workers (one machine, several, or Kubernetes pods) share the nation. It
  then waits for the others and sums their counts. A run ends with its counts as JSON in its final
  state's message, so the workers need no shared result storage.

Two runs for the same kommun never overlap, whatever the worker: each chunk's transaction takes the
cycle's run lock for its kommuner first (``models.run_lock``). Only kommunkoder, the day and counts
cross into Prefect: never a session, a name or anything about a case.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from prefect import Flow, flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.context import FlowRunContext
from prefect.deployments import run_deployment
from prefect.states import Completed
from prefect.task_runners import ThreadPoolTaskRunner

from core.settings import get_settings
from models.db import make_engine
from services.cycles import (
    CYCLES,
    CycleSpec,
    chunk_threads,
    chunks,
    kommun_codes,
    resolve_as_of,
    run_chunk,
    split,
    summed_after_all,
)

PART_FLOW = "cykel-del"
PART_DEPLOYMENT = f"{PART_FLOW}/{PART_FLOW}"
PART_POLL_SECONDS = 1.0

CycleFlow = Flow[..., dict[str, int]]

# The engine of each flow run in this process, by a key the run's tasks receive (a task's parameters
# must be plain values): one engine and connection pool per run, however many chunks it has.
_ENGINES: dict[str, sa.Engine] = {}


@contextmanager
def run_engine() -> Iterator[str]:
    """An engine on the settings' database for the duration of a run; yields the key its tasks use."""
    key = uuid.uuid4().hex
    _ENGINES[key] = make_engine(get_settings().database_url)
    try:
        yield key
    finally:
        _ENGINES.pop(key).dispose()


@task(name="cykel-kommuner", retries=2, retry_delay_seconds=30, task_run_name="{cykel} {as_of}: {koder[0]}…")
def chunk_task(cykel: str, koder: list[str], as_of: str, engine_key: str) -> dict[str, int]:
    """One chunk of kommuner: ``services.cycles.run_chunk`` (its own transactions and run locks)."""
    return run_chunk(_ENGINES[engine_key], cykel, koder, date.fromisoformat(as_of))


def run_chunks(spec: CycleSpec, codes: list[str], day: date, engine_key: str) -> dict[str, int]:
    """Every chunk of ``codes`` as a Prefect task of the current flow run, ``SAMORDNA_RUN_THREADS`` at
    once on PostgreSQL (a thread pool task runner of that size, made for this run from its settings);
    the summed counts. Every chunk runs even when one fails (after its retries); then the first failure
    is raised."""
    settings = get_settings()
    work = chunks(codes, settings.run_chunk)
    threads = min(chunk_threads(settings.database_url, settings.run_threads), len(work))
    if threads <= 1:
        return summed_after_all(work, lambda chunk: chunk_task(spec.name, chunk, day.isoformat(), engine_key))
    runner: ThreadPoolTaskRunner[dict[str, int]] = ThreadPoolTaskRunner(max_workers=threads)
    with runner:
        futures = [
            runner.submit(
                chunk_task,
                {"cykel": spec.name, "koder": chunk, "as_of": day.isoformat(), "engine_key": engine_key},
            )
            for chunk in work
        ]
        return summed_after_all(futures, lambda future: future.result())


@flow(name=PART_FLOW, validate_parameters=True)
def cycle_part_flow(cykel: str, koder: list[str], as_of: str) -> Any:
    """En del av en nationell körning: cykeln för en lista kommuner, en Prefect-uppgift per bit."""
    spec = CYCLES[cykel]
    with run_engine() as key:
        totals = run_chunks(spec, koder, date.fromisoformat(as_of), key)
    get_run_logger().info("%s %s för %d kommuner: %s", spec.flow_name, as_of, len(koder), totals)
    # The counts travel in the state's message: the parent reads them without shared result storage.
    return Completed(message=json.dumps(totals, ensure_ascii=False), data=totals)


def _started(name: str, **options: Any) -> FlowRun:
    """``run_deployment`` from a synchronous flow: the flow run it created (it is a coroutine only when
    called from async code)."""
    run = run_deployment(name, **options)
    if not isinstance(run, FlowRun):
        raise TypeError("run_deployment gav ingen körning")
    return run


def fan_out(spec: CycleSpec, parts: list[list[str]], day: date, engine_key: str) -> dict[str, int]:
    """The first part here and a flow run of ``cykel-del`` for each other part, started first so that
    other workers take them while this run works; their summed counts. Raises RuntimeError naming the
    parts that did not complete."""
    context = FlowRunContext.get()
    parent = str(context.flow_run.id) if context and context.flow_run else uuid.uuid4().hex
    started = [
        _started(
            PART_DEPLOYMENT,
            parameters={"cykel": spec.name, "koder": part, "as_of": day.isoformat()},
            timeout=0,
            # A retried parent finds the parts it started, instead of starting them again.
            idempotency_key=f"{parent}:{number}",
            flow_run_name=f"{spec.name} {day.isoformat()} del {number + 1}/{len(parts)}",
        )
        for number, part in enumerate(parts)
        if number > 0
    ]
    counts: list[dict[str, Any]] = [run_chunks(spec, parts[0], day, engine_key)]
    failed: list[str] = []
    with get_client(sync_client=True) as client:
        for run in started:
            while True:
                found = client.read_flow_run(run.id)
                if found.state is not None and found.state.is_final():
                    break
                time.sleep(PART_POLL_SECONDS)
            if found.state_type == StateType.COMPLETED:
                counts.append(json.loads(found.state.message or "{}") if found.state else {})
            else:
                failed.append(found.name)
    if failed:
        raise RuntimeError(f"{len(failed)} av {len(parts)} delar blev inte klara: {', '.join(failed)}")
    # A part's counts come back as JSON: read each number as the int it was written as.
    return summed_after_all(counts, lambda part: {kind: int(number) for kind, number in part.items()})


def cycle_flow(spec: CycleSpec) -> CycleFlow:
    """A Prefect flow named ``spec.flow_name`` that runs the cycle for one or every kommun."""

    def run(kommun: str | None = None, as_of: str | None = None, delar: int | None = None) -> Any:
        day = resolve_as_of(as_of)
        with run_engine() as key:
            codes = kommun_codes(_ENGINES[key], kommun)
            parts = split(codes, delar or get_settings().run_parts)
            totals = run_chunks(spec, codes, day, key) if len(parts) <= 1 else fan_out(spec, parts, day, key)
        get_run_logger().info(
            "%s %s för %d kommuner i %d delar: %s",
            spec.flow_name,
            day.isoformat(),
            len(codes),
            len(parts),
            totals,
        )
        # Called in-process the flow returns the counts; of a run on a worker they are in the message.
        return Completed(message=json.dumps(totals, ensure_ascii=False), data=totals)

    run.__doc__ = spec.description
    return Flow(fn=run, name=spec.flow_name, description=spec.description, validate_parameters=True)


def flow_parameters(kommun: str | None, as_of: date | None) -> dict[str, Any]:
    """Parameters for a flow run as plain values."""
    return {"kommun": kommun, "as_of": as_of.isoformat() if as_of else None}
