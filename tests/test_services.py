"""The application layer: what every front door shares (kommun, dates, a person's open work)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from core.clock import moment_of
from core.errors import InvalidInputError
from cycles.follow_up import run_follow_up_cycle
from models.db import transaction
from models.municipality import Municipality
from models.responsibility import responsible_persons
from models.task import Task, TaskKind, TaskState
from services.inputs import parse_day
from services.municipalities import (
    MunicipalityRequiredError,
    UnknownMunicipalityError,
    municipality_codes,
    resolve_municipality,
)
from services.status import StatusReportCommand, open_work_of, parse_status_text, record_status_report
from tests.conftest import Cli

ROUND_OPENS = date(2025, 4, 22)


def test_kommun_is_resolved_by_code_name_or_default(engine: sa.Engine, falun: int) -> None:
    """--kommun wins, SAMORDNA_KOMMUN is the default, neither means every kommun (only where allowed)."""
    with transaction(engine) as session:
        session.add(Municipality(name="Orsa", code="2034"))
        session.flush()
        assert resolve_municipality(session, "falun").id == falun
        assert resolve_municipality(session, None, default="2080").id == falun
        assert resolve_municipality(session, "2034", default="2080").code == "2034"
        assert sorted(municipality_codes(session, None)) == ["2034", "2080"]
        assert municipality_codes(session, None, default="2034") == ["2034"]
        with pytest.raises(MunicipalityRequiredError, match="Ange kommun med --kommun"):
            resolve_municipality(session, None)
        with pytest.raises(UnknownMunicipalityError, match='Kommunen "Atlantis" finns inte'):
            resolve_municipality(session, "Atlantis")


def test_run_and_simulate_follow_samordna_kommun(falun_cli: Cli) -> None:
    """`run` and `simulate` act on SAMORDNA_KOMMUN when --kommun is left out (issue 11's fix)."""
    assert falun_cli("kommun", "skapa", "--namn", "Orsa", "--kod", "2034")[0] == 0
    env = {"SAMORDNA_KOMMUN": "2034"}
    code, out, err = falun_cli("run", "uppfoljning", "--as-of", "2025-04-22", "--utan-prefect", env=env)
    assert code == 0, err
    assert "för 1 kommun (2034)" in out
    assert "uppgift:" not in out  # Orsa has no plan here: Falun's round was not opened
    code, out, err = falun_cli("run", "uppfoljning", "--as-of", "2025-04-22", "--utan-prefect")
    assert code == 0, err
    assert "för 2 kommuner" in out
    code, out, err = falun_cli(
        "simulate", "--from", "2025-04-01", "--to", "2025-04-30", "--format", "json", env=env
    )
    assert code == 0, err
    assert '"kommun": "2080"' not in out


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_a_day_reads_the_same_in_iso_and_swedish(day: date) -> None:
    """2026-03-03 and "3 mars 2026" are the same day to every option and form field."""
    months = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september"]
    months += ["oktober", "november", "december"]
    assert parse_day(day.isoformat(), "--datum") == day
    assert parse_day(f"{day.day} {months[day.month - 1]} {day.year}", "--datum") == day


@pytest.mark.parametrize(
    ("text", "pick", "expected"),
    [
        ("2026-07", "end", date(2026, 7, 31)),
        ("2026-07", "start", date(2026, 7, 1)),
        ("hösten 2026", "day", None),
    ],
)
def test_a_period_stands_for_a_day_only_where_asked(text: str, pick: str, expected: date | None) -> None:
    """A month is its last day for --revideras-senast (end), its first for --giltig-fran (start); where
    one day is asked for, a term is no date at all."""
    if expected is None:
        with pytest.raises(InvalidInputError, match="inget datum"):
            parse_day(text, "--giltig-fran", pick=pick)  # type: ignore[arg-type]
    else:
        assert parse_day(text, "--x", pick=pick) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-02-30", '--datum: "2025-02-30" är inget datum'),
        ("30 februari 2026", '--datum: "30 februari 2026" är inget giltigt datum'),
        ("2026-07", '--datum: "2026-07" är inget datum'),
    ],
)
def test_a_bad_day_is_named_in_swedish(text: str, message: str) -> None:
    """An impossible or vague date is refused with the option's name, never a traceback."""
    with pytest.raises(InvalidInputError) as refused:
        parse_day(text, "--datum")
    assert message in str(refused.value)


def test_a_status_is_read_as_people_write_it() -> None:
    """ "Pågående" and "pagaende" are the same status; "klar" is refused naming the field."""
    assert parse_status_text("Pågående", "status") == parse_status_text("pagaende", "status")
    with pytest.raises(InvalidInputError, match='status: "klar" är ingen status'):
        parse_status_text("klar", "status")


def test_open_work_lists_a_persons_tasks_and_answering_closes_one(engine: sa.Engine, falun: int) -> None:
    """A person's open work is their open tasks with the measure each is about; a report through the
    same service the CLI uses takes the task off the list at once."""
    with transaction(engine) as session:
        municipality = session.get(Municipality, falun)
        assert municipality is not None
        run_follow_up_cycle(session, municipality, ROUND_OPENS)
        task = session.exec(
            select(Task)
            .where(Task.kind == TaskKind.STATUS_REPORT, Task.state == TaskState.OPEN)
            .order_by(Task.id)  # type: ignore[arg-type]
        ).first()
        assert task is not None
        assert task.assignee_person_id is not None
        person_id = task.assignee_person_id
        work = open_work_of(session, falun, person_id, as_of=ROUND_OPENS)
        expected = session.exec(
            select(Task.id).where(Task.assignee_person_id == person_id, Task.state == TaskState.OPEN)
        ).all()
        assert sorted(item.task.id for item in work) == sorted(expected)
        assert all(item.measure is not None and item.measure.id == item.task.measure_id for item in work)
        assert all(item.overdue_working_days == 0 for item in work)
        assert (
            responsible_persons(session, [task.measure_id or 0], falun)[task.measure_id or 0].id == person_id
        )  # type: ignore[union-attr]

        command = StatusReportCommand(task.measure_id or 0, parse_status_text("pågående", "status"))
        record_status_report(session, municipality, command, now=moment_of(date(2025, 4, 23)))
        after = open_work_of(session, falun, person_id, as_of=date(2025, 4, 23))
        assert task.id not in {item.task.id for item in after}
        late = open_work_of(session, falun, person_id, as_of=date(2025, 12, 1))
        assert all(item.overdue_working_days > 0 for item in late)


def _noon(day: date):
    from core.clock import moment_of  # noqa: PLC0415 - beside its one use

    return moment_of(day)
