"""The daily incident counts the lägesbild reads (issue 15) equal the raw GROUP BY over the incidents,
however the incidents arrive: in batches, with repeats, without an hour or an area; and the migration
that creates them fills them from the incidents already stored. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from cycles.est_situation import UNKNOWN_AREA, counts_by_period, hot_times
from models.db import alembic_config, make_engine, transaction
from models.incident import (
    UNKNOWN_HOUR,
    Incident,
    IncidentDayCount,
    IncidentHourCount,
    IncidentSource,
    PartOfDay,
    store_incidents,
)
from models.municipality import Municipality

FIRST = date(2025, 3, 1)
AREAS = ("Stadskärnan", "Bojsenburg", "Slätta", "")
CATEGORIES = ("klotter", "narkotika", "skadegorelse")


def _kommun(engine: sa.Engine, code: str = "2080") -> int:
    with transaction(engine) as session:
        found = session.exec(select(Municipality).where(Municipality.code == code)).first()
        if found is not None:
            return found.id or 0
        municipality = Municipality(name=f"Kommun {code}", code=code)
        session.add(municipality)
        session.flush()
        return municipality.id or 0


incident_specs = st.tuples(
    st.integers(0, 40),  # day offset
    st.sampled_from(AREAS),
    st.sampled_from(CATEGORIES),
    st.one_of(st.none(), st.integers(0, 23)),  # hour, None: only a part of the day
    st.integers(0, 60),  # external id: repeats are the same incident reported again
)


def _incident(kommun: int, spec: tuple[int, str, str, int | None, int]) -> Incident:
    offset, area, category, hour, key = spec
    day = FIRST + timedelta(days=offset)
    return Incident(
        municipality_id=kommun,
        occurred_on=day,
        occurred_time=time(hour, 15) if hour is not None else None,
        part_of_day=None if hour is not None else PartOfDay.EVENING,
        weekday=day.weekday(),
        hour=hour,
        area=area,
        category=category,
        source=IncidentSource.IMPORT,
        external_key=f"{kommun}:prov:{key}",
    )


def _raw(
    session: Session, kommun: int
) -> tuple[dict[tuple[date, str, str], int], dict[tuple[date, int], int]]:
    days = {
        (day, area, category): int(count)
        for day, area, category, count in session.execute(
            sa.select(col(Incident.occurred_on), col(Incident.area), col(Incident.category), sa.func.count())
            .where(col(Incident.municipality_id) == kommun)
            .group_by(col(Incident.occurred_on), col(Incident.area), col(Incident.category))
        )
    }
    hours = {
        (day, UNKNOWN_HOUR if hour is None else hour): int(count)
        for day, hour, count in session.execute(
            sa.select(col(Incident.occurred_on), col(Incident.hour), sa.func.count())
            .where(col(Incident.municipality_id) == kommun)
            .group_by(col(Incident.occurred_on), col(Incident.hour))
        )
    }
    return days, hours


def _counted(
    session: Session, kommun: int
) -> tuple[dict[tuple[date, str, str], int], dict[tuple[date, int], int]]:
    days = {
        (row.occurred_on, row.area, row.category): row.count
        for row in session.exec(select(IncidentDayCount).where(IncidentDayCount.municipality_id == kommun))
    }
    hours = {
        (row.occurred_on, row.hour): row.count
        for row in session.exec(select(IncidentHourCount).where(IncidentHourCount.municipality_id == kommun))
    }
    return days, hours


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(incident_specs, max_size=30), min_size=1, max_size=4),
    periods=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 14)), min_size=1, max_size=4),
)
def test_daily_counts_equal_the_raw_group_by(
    engine: sa.Engine,
    batches: list[list[tuple[int, str, str, int | None, int]]],
    periods: list[tuple[int, int]],
) -> None:
    """Incidents stored in batches (each its own transaction, with repeats within and across them):
    the day and hour counts equal GROUP BY over the incidents, and so do the lägesbild's counts per
    period and its hot-times, for any periods."""
    kommun = _kommun(engine)
    with transaction(engine) as session:
        session.execute(sa.delete(IncidentDayCount))
        session.execute(sa.delete(IncidentHourCount))
        session.execute(sa.delete(Incident))
    for batch in batches:
        with transaction(engine) as session:
            store_incidents(session, [_incident(kommun, spec) for spec in batch])
    with Session(engine) as session:
        raw_days, raw_hours = _raw(session, kommun)
        assert _counted(session, kommun) == (raw_days, raw_hours)
        spans: list[tuple[date, date]] = []
        for offset, length in sorted(periods):
            start = FIRST + timedelta(days=offset)
            if spans and start <= spans[-1][1]:
                continue  # periods must not overlap
            spans.append((start, start + timedelta(days=length)))
        by_period = counts_by_period(session, kommun, spans)
        for index, (start, end) in enumerate(spans):
            expected: dict[tuple[str, str], int] = {}
            for (day, area, category), count in raw_days.items():
                if start <= day <= end:
                    cell = (area or UNKNOWN_AREA, category)
                    expected[cell] = expected.get(cell, 0) + count
            assert by_period[index] == expected
            grid, without = hot_times(session, kommun, start, end)
            expected_grid = [[0] * 24 for _ in range(7)]
            expected_without = 0
            for (day, hour), count in raw_hours.items():
                if start <= day <= end:
                    if hour == UNKNOWN_HOUR:
                        expected_without += count
                    else:
                        expected_grid[day.weekday()][hour] += count
            assert (grid, without) == (expected_grid, expected_without)


def test_the_migration_fills_the_counts_from_the_stored_incidents(database_url: str, tmp_path: Path) -> None:
    """A database at revision 0013 with incidents (written before the counts existed) is upgraded: the
    new tables hold exactly the raw GROUP BY of those incidents, and the lägesbild reads the same."""
    del tmp_path
    config = alembic_config(database_url)
    command.downgrade(config, "0013")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO municipality (name, code, created_at, rhythm) VALUES "
                                       "('Falun', '2080', CURRENT_TIMESTAMP, '{}')"))  # fmt: skip
            kommun = connection.execute(sa.text("SELECT id FROM municipality")).scalar_one()
            rows = [
                _incident(kommun, (offset % 30, AREAS[offset % 4], CATEGORIES[offset % 3],
                                   None if offset % 5 == 0 else offset % 24, offset))
                for offset in range(300)
            ]  # fmt: skip
            table: sa.Table = Incident.__table__  # type: ignore[attr-defined]
            connection.execute(
                table.insert(),
                [{c.name: getattr(row, c.name) for c in table.columns if c.name != "id"} for row in rows],
            )
        command.upgrade(config, "head")
        with Session(engine) as session:
            assert _counted(session, kommun) == _raw(session, kommun)
            assert (
                sum(counts_by_period(session, kommun, [(FIRST, FIRST + timedelta(days=40))])[0].values())
                == 300
            )
    finally:
        engine.dispose()


def test_two_imports_at_once_lose_no_count(engine: sa.Engine) -> None:
    """Two imports of overlapping lists at once (truly parallel on PostgreSQL, one after the other on
    SQLite): every incident is stored once and the counts still equal the raw GROUP BY."""
    kommun = _kommun(engine)
    lists = [
        [
            _incident(kommun, (n % 20, AREAS[n % 4], CATEGORIES[n % 3], n % 24, n))
            for n in range(start, start + 400)
        ]
        for start in (0, 200)
    ]
    lists[1].reverse()  # the shared cells in the opposite order: the upserts must not deadlock
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(incidents: list[Incident]) -> None:
        try:
            with transaction(engine) as session:
                barrier.wait(timeout=30)
                store_incidents(session, incidents)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(incidents,)) for incidents in lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(engine) as session:
        days, hours = _raw(session, kommun)
        assert sum(days.values()) == 600
        assert _counted(session, kommun) == (days, hours)
