"""The data model on both databases: aware time, unique keys, migrations in step with the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from models.db import alembic_head, current_revision, head_revision, make_engine, transaction
from models.enums import MeasureStatus
from models.municipality import Municipality, find_municipality
from models.plan import ActionPlan, FocusArea, Measure, StatusReport
from models.task import Task, TaskKind, TaskState, open_tasks
from models.types import NaiveDatetimeError

STOCKHOLM_WINTER = timezone(timedelta(hours=1))


def _kommun(session: Session) -> Municipality:
    municipality = Municipality(name="Falun", code="2080")
    session.add(municipality)
    session.flush()
    return municipality


def test_migrations_reach_head(engine: sa.Engine) -> None:
    """A fresh database migrated by `samordna init` is at the newest revision."""
    assert current_revision(engine) == head_revision() == alembic_head() == "0014"


def test_migrations_match_models(engine: sa.Engine) -> None:
    """The migrations create exactly the tables and columns the models declare."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_aware_datetime_round_trips_as_utc(engine: sa.Engine) -> None:
    """An aware time is stored as UTC and read back aware, equal to what was written."""
    written = datetime(2026, 3, 29, 1, 30, tzinfo=STOCKHOLM_WINTER)
    with transaction(engine) as session:
        kommun = _kommun(session)
        kommun.created_at = written
    with Session(engine) as session:
        read = session.exec(select(Municipality)).one().created_at
    assert read.tzinfo is not None
    assert read.utcoffset() == timedelta(0)
    assert read == written


def test_naive_datetime_is_refused(engine: sa.Engine) -> None:
    """A naive datetime never reaches the database."""
    with pytest.raises(sa.exc.StatementError) as caught, transaction(engine) as session:
        session.add(Municipality(name="Orsa", code="2034", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
    assert isinstance(caught.value.orig, NaiveDatetimeError)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        timezones=st.just(UTC),
    )
)
def test_any_utc_time_round_trips(sqlite_url: str, moment: datetime) -> None:
    """Every aware instant from 2000 to 2100 survives SQLite to the microsecond."""
    engine = make_engine(sqlite_url)
    with transaction(engine) as session:
        row = session.exec(select(Municipality)).first() or Municipality(name="Falun", code="2080")
        row.created_at = moment
        session.add(row)
    with Session(engine) as session:
        assert session.exec(select(Municipality)).one().created_at == moment
    engine.dispose()


def test_task_idempotency_key_is_unique(engine: sa.Engine) -> None:
    """Two tasks with the same idempotency key cannot both exist: the database refuses the second."""
    with transaction(engine) as session:
        kommun_id = _kommun(session).id or 0
        session.add(
            Task(
                municipality_id=kommun_id,
                kind=TaskKind.STATUS_REPORT,
                subject="Rapportera status",
                due_date=date(2026, 5, 4),
                idempotency_key="statusrapport:1:2026H1",
            )
        )
    with pytest.raises(sa.exc.IntegrityError), transaction(engine) as session:
        session.add(
            Task(
                municipality_id=kommun_id,
                kind=TaskKind.STATUS_REPORT,
                subject="Igen",
                due_date=date(2026, 5, 4),
                idempotency_key="statusrapport:1:2026H1",
            )
        )
    with Session(engine) as session:
        tasks = open_tasks(session, kommun_id)
    assert [(task.subject, task.state) for task in tasks] == [("Rapportera status", TaskState.OPEN)]


def test_enums_read_back_as_enums(engine: sa.Engine) -> None:
    """A measure's status is stored as its Swedish word and read back as the enum member."""
    with transaction(engine) as session:
        kommun_id = _kommun(session).id or 0
        plan = ActionPlan(municipality_id=kommun_id, title="Plan")
        session.add(plan)
        session.flush()
        area = FocusArea(plan_id=plan.id or 0, position=1, title="Fokus")
        session.add(area)
        session.flush()
        measure = Measure(
            municipality_id=kommun_id,
            plan_id=plan.id or 0,
            focus_area_id=area.id or 0,
            position=1,
            title="Trygghetsvandring",
            status=MeasureStatus.DELAYED,
        )
        session.add(measure)
        session.flush()
        session.add(
            StatusReport(
                municipality_id=kommun_id,
                measure_id=measure.id or 0,
                reported_on=date(2026, 4, 1),
                status=MeasureStatus.STALLED,
            )
        )
    with engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT status FROM measure")).scalar_one()
    with Session(engine) as session:
        status = session.exec(select(Measure)).one().status
    assert raw == "försenad"
    assert status is MeasureStatus.DELAYED


def test_kommun_found_by_code_or_name(engine: sa.Engine) -> None:
    """A kommun is found by its four-digit kommunkod or by its name in any case."""
    with transaction(engine) as session:
        _kommun(session)
        found = [find_municipality(session, key) for key in ("2080", "falun", "FALUN", "2034", "Orsa")]
    assert [m.code if m else None for m in found] == ["2080", "2080", "2080", None, None]


def test_foreign_keys_are_enforced(engine: sa.Engine) -> None:
    """A measure pointing at a plan that does not exist is refused, on SQLite too."""
    with transaction(engine) as session:
        kommun_id = _kommun(session).id or 0
    orphan = Measure(municipality_id=kommun_id, plan_id=999, focus_area_id=999, position=1, title="x")
    with pytest.raises(sa.exc.IntegrityError), transaction(engine) as session:
        session.add(orphan)
