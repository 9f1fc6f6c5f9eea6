"""Benchmark: the halvårsuppföljning on a large plan (500 measures, two years of rounds and reports).

Builds a SQLite database with one kommun, one plan of 10 focus areas × 50 measures, four follow-up
rounds (2024H1–2025H2) with a status-report task per measure and round, ~80 % answered, some
escalations and 10 indicators with 8 values each; then times compiling the 2025H2 report and rendering
it as HTML, DOCX and the XLSX register. Prints the figures; not a test.

    .venv/bin/python benchmarks/bench_follow_up_report.py [--measures 500]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.db import make_engine, migrate, transaction
from models.enums import MeasureStatus
from models.escalation import Escalation, EscalationReason
from models.follow_up import FollowUpRound
from models.indicator import Indicator, IndicatorValue
from models.municipality import Municipality
from models.plan import ActionPlan, FocusArea, Measure, StatusReport
from models.task import Task, TaskKind, TaskState
from reports.follow_up_report import compile_report, parse_period
from reports.plan_export import export_plan_xlsx
from reports.report_documents import draw_charts, report_docx, report_html

ROUNDS = (
    ("2024H1", date(2024, 5, 21)),
    ("2024H2", date(2024, 11, 19)),
    ("2025H1", date(2025, 5, 20)),
    ("2025H2", date(2025, 11, 18)),
)
STATUSES = list(MeasureStatus)[:5]


def build(url: str, count: int) -> None:
    rng = random.Random(6)  # noqa: S311 - benchmark data
    engine = make_engine(url)
    with transaction(engine) as session:
        kommun = Municipality(name="Storstad", code="9999")
        session.add(kommun)
        session.flush()
        plan = ActionPlan(municipality_id=kommun.id or 0, title="Stor plan", decided_on=date(2024, 1, 15))
        session.add(plan)
        session.flush()
        areas = [
            FocusArea(plan_id=plan.id or 0, position=i + 1, title=f"Fokusområde {i + 1}") for i in range(10)
        ]
        session.add_all(areas)
        session.flush()
        measures = [
            Measure(
                municipality_id=kommun.id or 0,
                plan_id=plan.id or 0,
                focus_area_id=areas[i % 10].id or 0,
                position=i + 1,
                title=f"Åtgärd {i + 1}: " + "text " * 20,
                raw_goal="Minska med 10 procent",
                period_end=date(2025, 1, 1) + timedelta(days=rng.randint(0, 700)),
            )
            for i in range(count)
        ]
        session.add_all(measures)
        session.flush()
        for label, meeting in ROUNDS:
            due = meeting - timedelta(days=14)
            session.add(
                FollowUpRound(
                    municipality_id=kommun.id or 0, period_label=label, meeting_date=meeting, due_date=due
                )
            )
            for measure in measures:
                session.add(
                    Task(
                        municipality_id=kommun.id or 0,
                        kind=TaskKind.STATUS_REPORT,
                        subject="s",
                        due_date=due,
                        idempotency_key=f"statusrapport:{measure.id}:{label}",
                        measure_id=measure.id,
                        period_label=label,
                        state=TaskState.DONE,
                    )
                )
                if rng.random() < 0.8:  # noqa: PLR2004 - answer rate
                    session.add(
                        StatusReport(
                            municipality_id=kommun.id or 0,
                            measure_id=measure.id or 0,
                            reported_on=due - timedelta(days=rng.randint(-5, 10)),
                            status=rng.choice(STATUSES),
                            progress_percent=rng.randint(0, 100),
                            comment="kommentar " * 10,
                            next_step="nästa steg",
                        )
                    )
        for measure in rng.sample(measures, count // 20):
            session.add(
                Escalation(
                    municipality_id=kommun.id or 0,
                    level=rng.choice((1, 2)),
                    reason=EscalationReason.MISSED_FOLLOW_UPS,
                    subject="s",
                    measure_id=measure.id,
                    cause_since=date(2025, 6, 1),
                    opened_on=date(2025, 6, 2),
                    dedupe_key=f"e:{measure.id}",
                )
            )
        for i in range(10):
            indicator = Indicator(
                municipality_id=kommun.id or 0,
                name=f"Indikator {i}",
                source="NTU",
                higher_is_better=True,
                target=70,
                focus_area_id=areas[i].id,
            )
            session.add(indicator)
            session.flush()
            for half in range(8):
                year, second = 2022 + half // 2, half % 2
                start = date(year, 7 if second else 1, 1)
                end = date(year, 12, 31) if second else date(year, 6, 30)
                session.add(
                    IndicatorValue(
                        indicator_id=indicator.id or 0,
                        period_start=start,
                        period_end=end,
                        value=rng.uniform(50, 80),
                    )
                )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measures", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/bench.db"
        migrate(url)
        started = time.perf_counter()
        build(url, args.measures)
        print(
            f"data: {args.measures} measures, {len(ROUNDS)} rounds, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        now = datetime(2026, 1, 5, tzinfo=UTC)
        with transaction(engine) as session:
            timings: dict[str, float] = {}
            started = time.perf_counter()
            report = compile_report(session, 1, parse_period("2025H2"))
            timings["compile"] = time.perf_counter() - started
            started = time.perf_counter()
            charts = draw_charts(report)
            timings["charts (11 PNG)"] = time.perf_counter() - started
            started = time.perf_counter()
            html = report_html(report, charts, generated=now)
            timings["html"] = time.perf_counter() - started
            started = time.perf_counter()
            docx = report_docx(report, charts, generated=now)
            timings["docx"] = time.perf_counter() - started
            started = time.perf_counter()
            xlsx = export_plan_xlsx(session, report.plan_id, created=now)
            timings["xlsx"] = time.perf_counter() - started
        engine.dispose()
        print(f"lights: { {k.value: v for k, v in report.totals().items()} }, missing: {len(report.missing)}")
        for name, seconds in timings.items():
            print(f"{name:>16}: {seconds * 1000:8.0f} ms")
        print(
            f"sizes: html {len(html) // 1024} KiB, docx {len(docx) // 1024} KiB, xlsx {len(xlsx) // 1024} KiB"
        )


if __name__ == "__main__":
    main()
