"""The SSPF cycle under Prefect: ids in, counts out (the rules are ``cycles/sspf.py``).

Only the kommunkod, case ids and counts cross into Prefect, never anything about a person.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task

from core.settings import get_settings
from cycles.sspf import cases_due, follow_up_cases, retain_cases
from models.crypto import Keyring
from models.db import make_engine, transaction
from models.records import count_events
from services.cycles import resolve_as_of
from services.municipalities import resolve_municipality


def _keyring() -> Keyring:
    return Keyring.from_settings(get_settings())


@task(name="sspf-arenden-att-se-till", retries=2, retry_delay_seconds=30)
def sspf_cases_due(code: str, as_of: str) -> dict[str, list[int]]:
    """The ids of the cases this run concerns (ids only)."""
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            municipality = resolve_municipality(session, code)
            due = cases_due(session, municipality, date.fromisoformat(as_of))
    finally:
        engine.dispose()
    return {"oppna": due.open_case_ids, "gallras": due.retention_case_ids}


@task(name="sspf-uppfoljning", retries=2, retry_delay_seconds=30)
def sspf_follow_up(case_ids: list[int], as_of: str) -> dict[str, int]:
    if not case_ids:
        # Nothing to decrypt: a kommun that has not started SSPF needs no keys for its weekly run.
        return {}
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            return count_events(follow_up_cases(session, case_ids, date.fromisoformat(as_of), _keyring()))
    finally:
        engine.dispose()


@task(name="sspf-gallring", retries=2, retry_delay_seconds=30)
def sspf_retention(case_ids: list[int], as_of: str) -> dict[str, int]:
    engine = make_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            return count_events(retain_cases(session, case_ids, date.fromisoformat(as_of)))
    finally:
        engine.dispose()


@flow(name="sspf-cykel", validate_parameters=True)
def sspf_flow(kommun: str, as_of: str | None = None) -> dict[str, int]:
    """SSPF: uppföljning av ärenden, omprövning av samtycken, 18-årssamtycke och gallring."""
    day = resolve_as_of(as_of)
    due = sspf_cases_due(kommun, day.isoformat())
    totals: dict[str, int] = {}
    for part in (
        sspf_follow_up(due["oppna"], day.isoformat()),
        sspf_retention(due["gallras"], day.isoformat()),
    ):
        for kind, number in part.items():
            totals[kind] = totals.get(kind, 0) + number
    get_run_logger().info("sspf-cykel %s: %d öppna ärenden, %s", day.isoformat(), len(due["oppna"]), totals)
    return totals
