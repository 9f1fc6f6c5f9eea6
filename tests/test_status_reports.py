"""The way back: a status report, recorded by command or imported from the status sheet, closes the
task it answers, stops its reminders and resolves the escalations whose cause is gone."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, col, select

from core.clock import moment_of
from cycles.daily_sweep import run_daily_sweep
from cycles.follow_up import run_follow_up_cycle
from importers.problems import ImportFailedError
from importers.status_import import HEADERS, write_status_sheet
from models.directory import Person
from models.enums import MeasureStatus
from models.escalation import Escalation, EscalationReason
from models.municipality import Municipality
from models.plan import Measure, StatusReport
from models.task import Reminder, Task, TaskState
from services.status import ReportError, StatusReportCommand, import_status_sheet, record_status_report
from tests.conftest import Cli
from tests.test_plan_import import row_counts

ROUND_OPENS = date(2025, 4, 22)  # Falun's May round: status tasks due Tuesday 6 May 2025
DUE = date(2025, 5, 6)
REPORTED = date(2025, 5, 14)  # a Wednesday, after the level-1 escalation of 13 May
NOW = moment_of(REPORTED)
STATUSES = "planerad, pågående, försenad, avstannad, genomförd, avbruten"
ROUND_MEASURES = 33  # Falun's measures asked in the May 2025 round


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def falun_of(session: Session, falun: int) -> Municipality:
    municipality = session.get(Municipality, falun)
    assert municipality is not None
    return municipality


def sweep(session: Session, municipality: Municipality, first: date, last: date) -> None:
    for day in days(first, last):
        run_daily_sweep(session, municipality, day)


def status_tasks(session: Session, falun: int) -> list[Task]:
    return list(session.exec(select(Task).where(Task.municipality_id == falun).order_by(col(Task.id))))


def escalation(measure: int, reason: EscalationReason, falun: int) -> Escalation:
    return Escalation(
        municipality_id=falun,
        level=2,
        reason=reason,
        subject=f"Avstannad åtgärd {measure}: {reason.value}",
        measure_id=measure,
        cause_since=date(2025, 3, 1),
        opened_on=date(2025, 5, 2),
        dedupe_key=f"eskalering:{reason.value}:{measure}:2025-03-01:L2:ingen",
    )


# ---------------------------------------------------------------------------------------------------
# Recording one report


def test_report_closes_its_task_and_stops_its_reminders(engine: sa.Engine, falun: int) -> None:
    """A report closes the measure's open status task (DONE, closed_at = now) and resolves that task's
    overdue escalation; the sweeps after it remind and escalate everyone else but not that task."""
    with Session(engine, expire_on_commit=False) as session:
        municipality = falun_of(session, falun)
        run_follow_up_cycle(session, municipality, ROUND_OPENS)
        sweep(session, municipality, ROUND_OPENS, REPORTED - timedelta(days=1))
        task, other = status_tasks(session, falun)[:2]
        assert (task.due_date, task.state) == (DUE, TaskState.OPEN)
        task_escalations = session.exec(select(Escalation).where(Escalation.task_id == task.id)).all()
        assert [(row.level, row.resolved_on) for row in task_escalations] == [(1, None)]
        open_before = session.exec(select(sa.func.count()).where(col(Escalation.resolved_on).is_(None))).one()

        outcome = record_status_report(
            session,
            municipality,
            StatusReportCommand(
                task.measure_id or 0,
                status=MeasureStatus.ONGOING,
                reported_on=REPORTED,
                comment="Två samverkansgrupper startade.",
            ),
            now=NOW,
        )

        assert [closed.id for closed in outcome.closed_tasks] == [task.id]
        assert [row.id for row in outcome.resolved] == [task_escalations[0].id]
        session.expire_all()
        assert (task.state, task.closed_at) == (TaskState.DONE, NOW)
        resolved = session.get(Escalation, task_escalations[0].id)
        assert resolved is not None
        assert (resolved.resolved_on, resolved.resolution) == (
            REPORTED,
            "Uppgiften är klar: ny statusrapport (pågående)",
        )
        open_after = session.exec(select(sa.func.count()).where(col(Escalation.resolved_on).is_(None))).one()
        assert open_after == open_before - 1

        sweep(session, municipality, REPORTED, date(2025, 6, 30))
        reminded = session.exec(
            select(Reminder.task_id, Reminder.remind_on).where(Reminder.remind_on >= REPORTED)
        ).all()
        assert [day for task_id, day in reminded if task_id == task.id] == []
        assert [day for task_id, day in reminded if task_id == other.id]  # the control still is reminded
        after = session.exec(select(Escalation).where(Escalation.task_id == task.id)).all()
        assert [row.id for row in after] == [task_escalations[0].id]  # no level 2 for the closed task
        session.rollback()


EXPECTED_RESOLVED = {
    MeasureStatus.ONGOING: {
        EscalationReason.DELAYED_REPORTS,
        EscalationReason.REPORTED_STALLED,
        EscalationReason.MISSED_FOLLOW_UPS,
    },
    MeasureStatus.DELAYED: {EscalationReason.REPORTED_STALLED, EscalationReason.MISSED_FOLLOW_UPS},
    MeasureStatus.STALLED: {EscalationReason.DELAYED_REPORTS, EscalationReason.MISSED_FOLLOW_UPS},
    MeasureStatus.COMPLETED: {
        EscalationReason.DELAYED_REPORTS,
        EscalationReason.REPORTED_STALLED,
        EscalationReason.PAST_END_DATE,
        EscalationReason.MISSED_FOLLOW_UPS,
    },
}


def test_report_resolves_only_escalations_whose_cause_is_gone(engine: sa.Engine, falun: int) -> None:
    """försenad-in-a-row goes unless försenad, avstannad unless avstannad, past-end only when
    genomförd, missed follow-ups always; another measure's escalations stay open."""
    for status, expected in EXPECTED_RESOLVED.items():
        with Session(engine, expire_on_commit=False) as session:
            municipality = falun_of(session, falun)
            measure, other = session.exec(select(Measure.id).order_by(col(Measure.id)).limit(2)).all()
            assert measure is not None
            assert other is not None
            rows = [
                escalation(measure, reason, falun) for reason in EXPECTED_RESOLVED[MeasureStatus.COMPLETED]
            ]
            control = escalation(other, EscalationReason.DELAYED_REPORTS, falun)
            session.add_all([*rows, control])
            session.flush()

            outcome = record_status_report(
                session,
                municipality,
                StatusReportCommand(measure, status=status, reported_on=REPORTED),
                now=NOW,
            )

            assert {row.reason for row in outcome.resolved} == expected, status
            session.expire_all()
            for row in rows:
                if row.reason in expected:
                    assert (row.resolved_on, row.resolution) == (
                        REPORTED,
                        f"Ny statusrapport: {status.value}",
                    )
                else:
                    assert (row.resolved_on, row.resolution) == (None, "")
            assert control.resolved_on is None
            session.rollback()


def test_report_sets_the_status_unless_a_newer_report_exists(engine: sa.Engine, falun: int) -> None:
    """The measure takes the reported status (status_changed_at = now); a backdated report is kept as
    history but does not override the newer one."""
    with Session(engine, expire_on_commit=False) as session:
        municipality = falun_of(session, falun)
        measure = session.exec(
            select(Measure).where(Measure.status == MeasureStatus.PLANNED).order_by(col(Measure.id))
        ).first()
        assert measure is not None
        first = record_status_report(
            session,
            municipality,
            StatusReportCommand(measure.id or 0, status=MeasureStatus.ONGOING, reported_on=REPORTED),
            now=NOW,
        )
        assert (first.previous_status, first.status_changed) == (MeasureStatus.PLANNED, True)
        later = moment_of(REPORTED + timedelta(days=1))
        backdated = record_status_report(
            session,
            municipality,
            StatusReportCommand(
                measure.id or 0,
                status=MeasureStatus.DELAYED,
                reported_on=date(2025, 5, 2),
                progress_percent=30,
            ),
            now=later,
        )
        assert backdated.status_changed is False
        session.expire_all()
        assert (measure.status, measure.status_changed_at) == (MeasureStatus.ONGOING, NOW)
        history = session.exec(
            select(StatusReport.reported_on, StatusReport.status, StatusReport.progress_percent)
            .where(StatusReport.measure_id == measure.id)
            .order_by(col(StatusReport.reported_on))
        ).all()
        assert history == [
            (date(2025, 5, 2), MeasureStatus.DELAYED, 30),
            (REPORTED, MeasureStatus.ONGOING, None),
        ]
        session.rollback()


def test_report_on_another_kommuns_measure_is_refused(engine: sa.Engine, falun: int) -> None:
    """A Falun measure cannot be reported under Orsa, nor a report dated in the future; nothing is added."""
    with Session(engine, expire_on_commit=False) as session:
        orsa = Municipality(name="Orsa", code="2034")
        session.add(orsa)
        session.flush()
        measure = session.exec(select(Measure.id).where(Measure.municipality_id == falun)).first()
        assert measure is not None
        with pytest.raises(ReportError, match=f"Åtgärden {measure} finns inte i Orsa"):
            record_status_report(
                session,
                orsa,
                StatusReportCommand(measure, status=MeasureStatus.ONGOING, reported_on=REPORTED),
                now=NOW,
            )
        with pytest.raises(ReportError, match="Rapportdatumet 2025-05-15 ligger i framtiden"):
            record_status_report(
                session,
                falun_of(session, falun),
                StatusReportCommand(
                    measure, status=MeasureStatus.ONGOING, reported_on=REPORTED + timedelta(days=1)
                ),
                now=NOW,
            )
        assert session.exec(select(sa.func.count()).select_from(StatusReport)).one() == 0
        session.rollback()


# ---------------------------------------------------------------------------------------------------
# The status sheet


def data_rows(path: Path) -> tuple[Workbook, int, list[int]]:
    """The workbook, its header row and the data rows' measure ids."""
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    header = next(row[0].row for row in sheet.iter_rows() if row[0].value == "Id")
    assert [cell.value for cell in sheet[header]] == list(HEADERS)
    ids = [int(row[0].value) for row in sheet.iter_rows(min_row=header + 1) if row[0].value is not None]
    return workbook, header, ids


def test_status_sheet_round_trip(engine: sa.Engine, falun: int, tmp_path: Path) -> None:
    """The sheet lists every measure waiting for a report with a drop-down of the statuses; two rows
    filled in become two reports that close two tasks, and the untouched rows are skipped."""
    path = tmp_path / "status.xlsx"
    with Session(engine, expire_on_commit=False) as session:
        municipality = falun_of(session, falun)
        run_follow_up_cycle(session, municipality, ROUND_OPENS)
        assert write_status_sheet(session, municipality, path, ROUND_OPENS) == ROUND_MEASURES
        workbook, header, ids = data_rows(path)
        assert len(ids) == ROUND_MEASURES
        sheet = workbook.active
        assert sheet is not None
        lists = [rule for rule in sheet.data_validations.dataValidation if rule.type == "list"]
        assert [rule.formula1 for rule in lists] == [
            '"planerad,pågående,försenad,avstannad,genomförd,avbruten"'
        ]
        assert str(lists[0].sqref) == f"E{header + 1}:E{header + ROUND_MEASURES}"
        sheet.cell(header + 1, 5, "Pågående")
        sheet.cell(header + 1, 6, 40)
        sheet.cell(header + 1, 7, "Grupperna har startat.")
        sheet.cell(header + 1, 8, "Utvärdera i höst.")
        sheet.cell(header + 2, 5, "forsenad")
        sheet.cell(header + 2, 9, date(2025, 5, 2))
        workbook.save(path)

        summary = import_status_sheet(session, municipality, path, now=NOW)

        assert (len(summary.outcomes), summary.tasks_closed, summary.skipped) == (2, 2, ROUND_MEASURES - 2)
        reports = session.exec(select(StatusReport).order_by(col(StatusReport.measure_id))).all()
        assignee = session.get(Person, status_tasks(session, falun)[0].assignee_person_id)
        assert assignee is not None
        assert [
            (r.measure_id, r.status, r.progress_percent, r.comment, r.next_step, r.reported_on, r.source)
            for r in reports
        ] == [
            (
                ids[0],
                MeasureStatus.ONGOING,
                40,
                "Grupperna har startat.",
                "Utvärdera i höst.",
                REPORTED,
                "statusmall",
            ),
            (ids[1], MeasureStatus.DELAYED, None, "", "", date(2025, 5, 2), "statusmall"),
        ]
        assert reports[0].reporter_name == assignee.name
        done = session.exec(select(Task.measure_id).where(Task.state == TaskState.DONE)).all()
        assert sorted(done) == sorted(ids[:2])
        session.rollback()


def write_sheet(path: Path, rows: list[list[object]]) -> None:
    """A status sheet by hand: the header on row 1, then ``rows``."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=";").writerows([list(HEADERS), *rows])
        return
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def row(measure: int, status: str, *, progress: object = None, day: object = None) -> list[object]:
    return [measure, "Åtgärd", "Anna", None, status, progress, "Kommentar", "Nästa steg", day]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_bad_sheet_names_every_problem_and_writes_nothing(
    engine: sa.Engine, falun: int, tmp_path: Path, suffix: str
) -> None:
    """Every problem of the sheet is reported at once, with its row and column, and no report is
    written, not even for the good row."""
    path = tmp_path / f"status{suffix}"
    write_sheet(
        path,
        [
            row(1, "pågående"),
            row(99999, "pågående"),
            row(2, "klar"),
            row(3, "försenad", progress=140),
            row(4, "avstannad", day="30 februari 2026"),
            row(5, ""),
        ],
    )
    with Session(engine, expire_on_commit=False) as session:
        with pytest.raises(ImportFailedError) as failure:
            import_status_sheet(session, falun_of(session, falun), path, now=NOW)
        sheet = None if suffix == ".csv" else "Sheet"
        assert [
            (p.location.sheet, p.location.row, p.location.column, p.location.column_letter, p.message)
            for p in failure.value.problems
        ] == [
            (sheet, 3, "Id", "A", "åtgärden 99999 finns inte i Falun."),
            (
                sheet,
                4,
                "Status",
                "E",
                f'"klar" är ingen status; skriv en av {STATUSES}.',
            ),
            (sheet, 5, "Framsteg %", "F", "140 är inte 0–100; framsteget anges i procent."),
            (
                sheet,
                6,
                "Datum",
                "I",
                '"30 februari 2026" är inget giltigt datum (februari 2026 har 28 dagar).',
            ),
        ]
        assert session.exec(select(sa.func.count()).select_from(StatusReport)).one() == 0
        session.rollback()


# ---------------------------------------------------------------------------------------------------
# The command line


def test_cli_status_report_closes_the_task(falun_cli: Cli) -> None:
    """`status report` records the report in one transaction and says what it closed."""
    code, _, err = falun_cli(
        "run", "uppfoljning", "--as-of", "2025-04-22", "--kommun", "2080", "--utan-prefect"
    )
    assert code == 0, err
    code, out, err = falun_cli(
        "status", "report", "2", "--status", "Pågående", "--kommentar", "Startade i april.",
        "--framsteg", "40", "--nasta-steg", "Utvärdera.", "--datum", "2025-05-14",
        "--rapportor", "Anna Lindqvist", "--kommun", "2080",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Statusrapport för åtgärd 2 ")
    assert lines[0].endswith("den 2025-05-14: status planerad → pågående.")
    assert lines[1].startswith("  Uppgift klar, påminnelserna upphör: Statusrapport första halvåret 2025: ")
    assert lines[1].endswith("(senast 2025-05-06)")
    assert len(lines) == 2
    engine = sa.create_engine(falun_cli.url)
    with Session(engine) as session:
        report = session.exec(select(StatusReport)).one()
        assert (report.measure_id, report.progress_percent, report.reporter_name, report.source) == (
            2,
            40,
            "Anna Lindqvist",
            "kommandorad",
        )
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--status", "pågående", "--kommun", "2034"), "Fel: Åtgärden 1 finns inte i Orsa."),
        (("--status", "klar", "--kommun", "2080"), '--status: "klar" är ingen status'),
        (
            ("--status", "pågående", "--datum", "30 februari 2026", "--kommun", "2080"),
            '--datum: "30 februari 2026" är inget giltigt datum (februari 2026 har 28 dagar).',
        ),
    ],
)
def test_cli_status_report_is_refused(falun_cli: Cli, args: tuple[str, ...], message: str) -> None:
    """Another kommun's measure, an unknown status or an impossible date: a Swedish message, exit 1,
    nothing written."""
    code, _, err = falun_cli("kommun", "skapa", "--namn", "Orsa", "--kod", "2034")
    assert code == 0, err
    before = row_counts(falun_cli.url)
    code, out, err = falun_cli("status", "report", "1", *args)
    assert (code, out) == (1, "")
    assert message in err
    assert "Traceback" not in err
    assert row_counts(falun_cli.url) == before


def test_cli_status_mall_and_import(falun_cli: Cli, tmp_path: Path) -> None:
    """`status mall` writes the sheet, `status import --dry-run` changes nothing, `status import`
    records the filled rows; a bad sheet is refused with row and column and changes nothing."""
    code, _, err = falun_cli(
        "run", "uppfoljning", "--as-of", "2025-04-22", "--kommun", "2080", "--utan-prefect"
    )
    assert code == 0, err
    path = tmp_path / "mall.xlsx"
    code, out, err = falun_cli("status", "mall", "--fil", path, "--kommun", "2080", "--as-of", "2025-04-22")
    assert code == 0, err
    assert f"{ROUND_MEASURES} åtgärder väntar på statusrapport" in out
    workbook, header, _ = data_rows(path)
    sheet = workbook.active
    assert sheet is not None
    sheet.cell(header + 1, 5, "genomförd")
    sheet.cell(header + 2, 5, "avbruten")
    workbook.save(path)

    before = row_counts(falun_cli.url)
    code, out, err = falun_cli("status", "import", path, "--kommun", "2080", "--dry-run")
    assert code == 0, err
    assert out.startswith(
        f"Provkörning, ingenting sparades: mall.xlsx för Falun: 2 statusrapporter, 2 uppgifter klara, "
        f"0 eskaleringar lösta, {ROUND_MEASURES - 2} rader utan status hoppades över."
    )
    assert row_counts(falun_cli.url) == before

    code, out, err = falun_cli("status", "import", path, "--kommun", "2080")
    assert code == 0, err
    assert out.startswith("Inläst: mall.xlsx för Falun: 2 statusrapporter, 2 uppgifter klara")
    after = row_counts(falun_cli.url)
    assert after["status_report"] == before["status_report"] + 2

    sheet.cell(header + 3, 5, "pågående")
    sheet.cell(header + 3, 6, 140)
    workbook.save(path)
    code, out, err = falun_cli("status", "import", path, "--kommun", "2080")
    assert (code, out) == (1, "")
    assert err.startswith("Fel: importen avbröts och ingenting sparades.")
    assert (
        f'mall.xlsx, blad "Statusrapporter", rad {header + 3}, kolumn "Framsteg %" (F): '
        "140 är inte 0–100; framsteget anges i procent." in err
    )
    assert row_counts(falun_cli.url) == after
