"""The national data set the national benchmarks stand on (no figures here: bench_national.py prints them).

290 kommuner, each Falun's directory and åtgärdsplan under its own kommunkod, the plan padded to 40
measures (copies of Falun's with their parties), the May 2025 follow-up round open (the follow-up
cycle's own tasks: 11,600 status tasks) and a seeded 30 % of them answered with a status report. Built
on PostgreSQL once into a template database; each measurement then runs on a fresh copy of it
(``CREATE DATABASE … TEMPLATE``), so every run starts from the same rows.

Kommunkoder are 1001, 1002, … (invented; the real 2080 stays Falun's own in the tests).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cycles.follow_up import run_follow_up_cycle
from importers.directory_import import import_directory_file
from importers.plan_import import import_plan_file
from models.db import HEAD_REVISION, make_engine, migrate, transaction
from models.enums import MeasureStatus
from models.municipality import Municipality
from models.plan import Measure, MeasureParty, StatusReport
from models.task import Task, TaskKind

KOMMUNER = 290
MEASURES_PER_KOMMUN = 40
ANSWERED_SHARE = 0.30
ADOPTED_ON = date(2025, 1, 1)
ROUND_OPENS = date(2025, 4, 7)  # the Monday the follow-up cycle opens the May round (due 6 May 2025)
SWEEP_DAY = date(2025, 4, 22)  # a working day inside the round: answers in, the rest noticed
SEED = 15


def kommun_code(number: int) -> str:
    """The invented kommunkod of kommun ``number`` (0-based)."""
    return f"{1001 + number}"


def admin_engine(admin_url: str) -> sa.Engine:
    return make_engine(admin_url, isolation_level="AUTOCOMMIT")


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def create_database(admin_url: str, name: str) -> str:
    """A new, empty database ``name`` (any old one of that name dropped first); its URL."""
    drop_database(admin_url, name)
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return database_url(admin_url, name)


def copy_database(admin_url: str, template: str, name: str) -> str:
    """A fresh database ``name`` with every row of ``template``; its URL."""
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        engine.dispose()
    return database_url(admin_url, name)


def template_exists(admin_url: str, name: str) -> bool:
    engine = admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return found.first() is not None
    finally:
        engine.dispose()


def _pad_measures(session: Session, municipality_id: int) -> None:
    """Copies of the kommun's measures (and their parties) until it has MEASURES_PER_KOMMUN."""
    originals = list(
        session.exec(
            select(Measure).where(Measure.municipality_id == municipality_id).order_by(col(Measure.id))
        )
    )
    parties: dict[int, list[MeasureParty]] = {}
    for party in session.exec(
        select(MeasureParty).where(col(MeasureParty.measure_id).in_([m.id for m in originals]))
    ):
        parties.setdefault(party.measure_id, []).append(party)
    for number in range(MEASURES_PER_KOMMUN - len(originals)):
        source = originals[number % len(originals)]
        data = source.model_dump(exclude={"id", "parent_id"})
        data["position"] = len(originals) + number + 1
        data["title"] = f"{source.title} (del {number + 2})"
        copy = Measure(**data)
        session.add(copy)
        session.flush()
        for party in parties.get(source.id or 0, []):
            session.add(
                MeasureParty(**party.model_dump(exclude={"id", "measure_id"}), measure_id=copy.id or 0)
            )


def _answer(session: Session, municipality_id: int, rng: random.Random) -> int:
    """A status report for ANSWERED_SHARE of the kommun's open status tasks; how many."""
    tasks = list(
        session.exec(
            select(Task)
            .where(Task.municipality_id == municipality_id, Task.kind == TaskKind.STATUS_REPORT)
            .order_by(col(Task.id))
        )
    )
    chosen = [task for task in tasks if rng.random() < ANSWERED_SHARE]
    for task in chosen:
        session.add(
            StatusReport(
                municipality_id=municipality_id,
                measure_id=task.measure_id or 0,
                reported_on=date(2025, 4, 14 + rng.randint(0, 4)),
                status=MeasureStatus.ONGOING,
                comment="Arbetet pågår enligt plan.",
                reporter_name="Benchmark",
                source="benchmark",
            )
        )
    return len(chosen)


def build_national(url: str, kommuner: int = KOMMUNER, *, log: bool = True) -> dict[str, int]:
    """Fill the migrated, empty database at ``url`` with the national data set; counts of what it holds."""
    migrate(url)
    engine = make_engine(url)
    rng = random.Random(SEED)  # noqa: S311 - a seeded benchmark, not security
    started = time.perf_counter()
    answered = 0
    try:
        for number in range(kommuner):
            code = kommun_code(number)
            with transaction(engine) as session:
                municipality = Municipality(name=f"Kommun {code}", code=code, adopted_on=ADOPTED_ON)
                session.add(municipality)
                session.flush()
                import_directory_file(session, REPO / "examples" / "falun-katalog.yaml", code)
                import_plan_file(
                    session,
                    REPO / "examples" / "falun-atgardsplan-2024.xlsx",
                    kommun=code,
                    adopted_on=ADOPTED_ON,
                )
                _pad_measures(session, municipality.id or 0)
                run_follow_up_cycle(session, municipality, ROUND_OPENS)
                answered += _answer(session, municipality.id or 0, rng)
            if log and (number + 1) % 29 == 0:
                print(f"  {number + 1} kommuner inlagda ({time.perf_counter() - started:.0f} s)", flush=True)
        with transaction(engine) as session:
            tasks = session.exec(select(sa.func.count()).select_from(Task)).one()
            measures = session.exec(select(sa.func.count()).select_from(Measure)).one()
    finally:
        engine.dispose()
    return {"kommuner": kommuner, "åtgärder": int(measures), "uppgifter": int(tasks), "besvarade": answered}


def template(admin_url: str, kommuner: int = KOMMUNER, *, rebuild: bool = False) -> str:
    """The name of the template database holding the national data set of ``kommuner`` (built when
    missing, about three minutes for 290; kept for the next run, named by the schema's revision)."""
    name = f"samordna_national_{HEAD_REVISION}_{kommuner}"
    if rebuild or not template_exists(admin_url, name):
        print(f"Bygger det nationella datasetet ({kommuner} kommuner) i {name} …", flush=True)
        url = create_database(admin_url, name)
        started = time.perf_counter()
        counts = build_national(url, kommuner)
        print(f"  {counts} på {time.perf_counter() - started:.0f} s", flush=True)
    return name
