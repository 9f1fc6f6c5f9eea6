"""The two-year cycle: lägesbild steps from Falun's lägesbild 2024-05-30, and Orsa's plan revision."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from cycles.situation_assessment import (
    assessment_steps,
    latest_assessment,
    next_assessment_due,
    plan_revisions,
    run_situation_assessment_cycle,
    shift_months,
)
from flows.deployments import situation_assessment_flow
from models.db import make_engine, transaction
from models.municipality import Municipality
from models.plan import ActionPlan, SituationAssessment
from models.records import Event
from models.rhythm import rhythm_from_json
from models.task import Task, TaskKind, TaskState, task_by_key
from models.working_days import is_working_day
from tests.conftest import _fresh_postgres, import_example

# Falun's lägesbild was decided 2024-05-30; the next is due 2026-05-30, a Saturday, so 2026-05-29.
FALUN_STEPS = [
    (0, "Lägesbild 2026: Starta datainsamling för ny lägesbild", date(2025, 8, 29)),  # 2025-08-29 Fri
    (1, "Lägesbild 2026: Analys och orsaksanalys", date(2025, 11, 28)),  # 2025-11-29 is a Saturday
    (2, "Lägesbild 2026: Förslag till lägesbild till BRÅ", date(2026, 2, 27)),  # 02-29 → 02-28 Sat → 02-27
    (3, "Lägesbild 2026: Beslut om lägesbild i Kommunstyrelsen", date(2026, 5, 29)),
]
# Orsa's plan is to be revised by 2026-06-17; 40 working days before it (Första maj and Kristi
# himmelsfärdsdag 2026-05-14 skipped) is Monday 2026-04-20, created 30 days earlier.
ORSA_REVISION_DUE = date(2026, 4, 20)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kommuner(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[sa.Engine, int, int]]:
    """Falun (as conftest's ``falun`` fixture imports it) and Orsa (directory and handlingsplan
    2024–2025), imported once per module and database kind; tests roll their work back."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("lagesbild") / "samordna.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = _fresh_postgres(request.getfixturevalue("postgres_admin_url"))
    engine = make_engine(next(urls))
    ids = []
    with transaction(engine) as session:
        for directory, plan in (
            ("falun-katalog.yaml", "falun-atgardsplan-2024.xlsx"),
            ("orsa-katalog.yaml", "orsa-handlingsplan-2024-2025.xlsx"),
        ):
            ids.append(import_example(session, directory, plan))
    yield engine, ids[0], ids[1]
    engine.dispose()
    next(urls, None)  # drops the PostgreSQL database


@pytest.fixture
def session(kommuner: tuple[sa.Engine, int, int]) -> Iterator[Session]:
    """A session whose work is rolled back when the test ends."""
    with Session(kommuner[0]) as session:
        try:
            yield session
        finally:
            session.rollback()


@pytest.fixture
def falun(kommuner: tuple[sa.Engine, int, int]) -> int:
    """Falun's kommun id (shadows conftest's fixture: the data comes from ``kommuner``)."""
    return kommuner[1]


@pytest.fixture
def orsa(kommuner: tuple[sa.Engine, int, int]) -> int:
    return kommuner[2]


def kommun(session: Session, kommun_id: int) -> Municipality:
    found = session.get(Municipality, kommun_id)
    assert found is not None
    return found


def run(session: Session, kommun_id: int, as_of: date) -> list[Event]:
    return run_situation_assessment_cycle(session, kommun(session, kommun_id), as_of)


def falun_assessment(session: Session, falun: int) -> SituationAssessment:
    assessment = latest_assessment(session, falun)
    assert assessment is not None
    return assessment


def tasks_of(session: Session, kommun_id: int, kind: TaskKind) -> list[Task]:
    return list(
        session.exec(
            select(Task)
            .where(Task.municipality_id == kommun_id, Task.kind == kind)
            .order_by(col(Task.due_date), col(Task.id))
        )
    )


def task_count(session: Session) -> int:
    return session.execute(sa.text("SELECT count(*) FROM task")).scalar_one()


def test_shift_months_clamps_to_the_end_of_the_month() -> None:
    """Month arithmetic keeps the day when it exists and clamps to the month's last day otherwise."""
    assert shift_months(date(2026, 5, 29), -9) == date(2025, 8, 29)
    assert shift_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert shift_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
    assert shift_months(date(2024, 2, 29), 48) == date(2028, 2, 29)
    assert shift_months(date(2025, 1, 15), -13) == date(2023, 12, 15)
    assert shift_months(date(2025, 12, 31), 2) == date(2026, 2, 28)


def test_falun_steps_have_exact_due_dates(session: Session, falun: int) -> None:
    """Falun's four steps count back 9, 6, 3 and 0 months from 2026-05-29 and land on working days."""
    assessment = falun_assessment(session, falun)
    rhythm = rhythm_from_json(kommun(session, falun).rhythm)
    assert assessment.decided_on == date(2024, 5, 30)
    assert next_assessment_due(date(2024, 5, 30), rhythm) == date(2026, 5, 29)
    steps = assessment_steps(assessment, rhythm)
    assert [(step.key, step.subject, step.due_date) for step in steps] == [
        (f"lagesbild:{assessment.id}:{index}", subject, due) for index, subject, due in FALUN_STEPS
    ]
    assert [step.create_on for step in steps] == [
        date(2025, 7, 30),
        date(2025, 10, 29),
        date(2026, 1, 28),
        date(2026, 4, 29),
    ]
    assert all(is_working_day(step.due_date) for step in steps)


def test_step_is_created_from_its_creation_day_on(session: Session, falun: int) -> None:
    """No step task the day before the first creation day; on it, exactly step 0, to the BRÅ-samordnare."""
    assessment = falun_assessment(session, falun)
    assert run(session, falun, date(2025, 7, 29)) == []
    assert task_count(session) == 0
    assert run(session, falun, date(2025, 7, 30)) == [
        Event(
            date(2025, 7, 30),
            "uppgift",
            "Lägesbild 2026: Starta datainsamling för ny lägesbild",
            "Anna Lindqvist",
        )
    ]
    task = task_by_key(session, f"lagesbild:{assessment.id}:0")
    assert task is not None
    assert (task.kind, task.due_date, task.state) == (
        TaskKind.SITUATION_ASSESSMENT_STEP,
        date(2025, 8, 29),
        TaskState.OPEN,
    )
    assert task.created_at == datetime(2025, 7, 30, 10, 0, tzinfo=UTC)
    assert run(session, falun, date(2025, 10, 28)) == []
    assert [event.subject for event in run(session, falun, date(2025, 10, 29))] == [FALUN_STEPS[1][1]]


def test_running_twice_creates_nothing_the_second_time(session: Session, falun: int) -> None:
    """A late run creates every step that is owed, overdue ones too; the same run again adds nothing."""
    first = run(session, falun, date(2026, 6, 30))
    assert [event.subject for event in first] == [subject for _, subject, _ in FALUN_STEPS]
    count = task_count(session)
    assert run(session, falun, date(2026, 6, 30)) == []
    assert run(session, falun, date(2026, 7, 1)) == []
    assert task_count(session) == count == 4
    steps = tasks_of(session, falun, TaskKind.SITUATION_ASSESSMENT_STEP)
    assert [task.due_date for task in steps] == [due for _, _, due in FALUN_STEPS]


def test_a_newer_lagesbild_starts_the_next_cycle(session: Session, falun: int) -> None:
    """Steps count from the latest decided lägesbild: decided 2026-05-28, the next is due 2028-05-26."""
    newer = SituationAssessment(municipality_id=falun, title="Lägesbild 2026", decided_on=date(2026, 5, 28))
    undated = SituationAssessment(municipality_id=falun, title="Lägesbild utan datum")
    session.add_all([newer, undated])
    session.flush()
    assert latest_assessment(session, falun) == newer
    assert run(session, falun, date(2026, 6, 30)) == []
    events = run(session, falun, date(2027, 7, 27))
    assert [event.subject for event in events] == ["Lägesbild 2028: Starta datainsamling för ny lägesbild"]
    task = task_by_key(session, f"lagesbild:{newer.id}:0")
    assert task is not None
    assert task.due_date == date(2027, 8, 26)  # 2028-05-26 minus 9 months, a Thursday


def test_no_dated_lagesbild_no_steps(session: Session, falun: int, orsa: int) -> None:
    """Without a lägesbild decision date there is nothing to count from: no step tasks at all."""
    falun_assessment(session, falun).decided_on = None
    session.flush()
    assert latest_assessment(session, falun) is None
    assert run(session, falun, date(2026, 6, 30)) == []  # Falun's plan has no revision date either
    assert latest_assessment(session, orsa) is None
    assert tasks_of(session, orsa, TaskKind.SITUATION_ASSESSMENT_STEP) == []


def test_orsa_plan_revision_task(session: Session, orsa: int) -> None:
    """Orsa's plan (revise by 2026-06-17) gets one revision task due 2026-04-20, from 2026-03-21 on."""
    plan = session.exec(select(ActionPlan).where(ActionPlan.municipality_id == orsa)).one()
    assert plan.revision_due == date(2026, 6, 17)
    rhythm = rhythm_from_json(kommun(session, orsa).rhythm)
    [planned] = plan_revisions([plan], rhythm)
    assert (planned.due_date, planned.create_on) == (ORSA_REVISION_DUE, date(2026, 3, 21))
    assert run(session, orsa, date(2026, 3, 20)) == []
    events = run(session, orsa, date(2026, 3, 21))
    subject = "Revidera åtgärdsplanen före 2026-06-17: Handlingsplan för brottsförebyggande arbete 2024–2025"
    assert events == [Event(date(2026, 3, 21), "uppgift", subject, "Jonas Lindh")]
    task = task_by_key(session, f"revidera_plan:{plan.id}:2026-06-17")
    assert task is not None
    assert (task.kind, task.due_date, task.subject) == (TaskKind.PLAN_REVISION, ORSA_REVISION_DUE, subject)
    assert run(session, orsa, date(2026, 3, 21)) == []
    assert run(session, orsa, date(2026, 9, 1)) == []
    assert len(tasks_of(session, orsa, TaskKind.PLAN_REVISION)) == 1


def test_moved_revision_date_asks_again(session: Session, orsa: int) -> None:
    """A new revision date is a new revision: its own task, keyed by the new date."""
    plan = session.exec(select(ActionPlan).where(ActionPlan.municipality_id == orsa)).one()
    run(session, orsa, date(2026, 3, 21))
    plan.revision_due = date(2027, 6, 17)
    session.flush()
    assert run(session, orsa, date(2026, 9, 1)) == []
    assert len(run(session, orsa, date(2027, 3, 22))) == 1
    keys = [task.idempotency_key for task in tasks_of(session, orsa, TaskKind.PLAN_REVISION)]
    assert keys == [f"revidera_plan:{plan.id}:2026-06-17", f"revidera_plan:{plan.id}:2027-06-17"]


def test_flow_is_named_lagesbild() -> None:
    """The Prefect flow wraps the cycle under the name the schedules use."""
    assert situation_assessment_flow.name == "lagesbild"
