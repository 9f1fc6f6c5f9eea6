"""Benchmark: compile and render one EST agenda over a busy period. Prints figures; asserts nothing.

Falun's example directory, two years of generated incidents (services/demo.py, about 2,800), and one
EST period of exactly 2,000 incidents (EST-53, the meeting of 2027-01-05). Then, timed: compiling the
agenda (the EST-lägesbild's SQL aggregates: category × area for the period, the previous period, a year
back and 26 periods of streaks; hot-times; open insatser; participants), drawing its three charts, and
rendering HTML, DOCX and ICS. Target: under 2 s for all of it. Run it:

    .venv/bin/python benchmarks/bench_est_agenda.py                     # SQLite
    .venv/bin/python benchmarks/bench_est_agenda.py --postgres          # also PostgreSQL

PostgreSQL runs on a scratch database created (and dropped) on the server of SAMORDNA_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cycles.est_calendar import meeting_date
from importers.directory_import import import_directory_file
from models.db import make_engine, migrate, transaction
from models.incident import store_incidents
from models.municipality import find_municipality
from models.rhythm import rhythm_from_json
from reports.est_agenda import agenda_charts, compile_agenda, render_docx, render_html, render_ics
from services.demo import generate_incidents

NUMBER = 53
PERIOD_INCIDENTS = 2000
REPEAT = 3


def seed(url: str) -> tuple[int, int]:
    """The kommun's id and how many incidents were stored."""
    migrate(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        _, municipality = import_directory_file(session, REPO / "examples" / "falun-katalog.yaml")
        municipality_id = municipality.id or 0
        rhythm = rhythm_from_json(municipality.rhythm)
        end = meeting_date(rhythm, NUMBER)
        start = end - timedelta(days=rhythm.est.interval_days - 1)
        history = generate_incidents(
            municipality_id, start - timedelta(days=730), start - timedelta(days=1), tag="historik"
        )
        busy = generate_incidents(municipality_id, start, end, seed=53, scale=45.0, tag="period")[
            :PERIOD_INCIDENTS
        ]
        if len(busy) < PERIOD_INCIDENTS:
            raise SystemExit(f"only {len(busy)} incidents generated for the period; raise the scale")
        store_incidents(session, history)
        store_incidents(session, busy)
    engine.dispose()
    return municipality_id, len(history) + len(busy)


def measure(url: str, label: str) -> None:
    _, stored = seed(url)
    engine = make_engine(url)
    rows: dict[str, list[float]] = {
        "sammanställa (SQL)": [],
        "diagram": [],
        "HTML": [],
        "DOCX": [],
        "ICS": [],
        "totalt": [],
    }
    total_in_period = 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        with transaction(engine) as session:
            municipality = find_municipality(session, "2080")
            assert municipality is not None
            agenda = compile_agenda(session, municipality, NUMBER)
        compiled = time.perf_counter()
        png = agenda_charts(agenda)
        charted = time.perf_counter()
        html = render_html(agenda, charts_png=png)
        htmled = time.perf_counter()
        render_docx(agenda, charts_png=png)
        docxed = time.perf_counter()
        render_ics(agenda)
        done = time.perf_counter()
        total_in_period = agenda.situation.total
        for key, seconds in zip(
            rows,
            (
                compiled - started,
                charted - compiled,
                htmled - charted,
                docxed - htmled,
                done - docxed,
                done - started,
            ),
            strict=True,
        ):
            rows[key].append(seconds)
    engine.dispose()
    size = len(html) // 1024
    print(f"\n{label}: {stored} händelser lagrade, {total_in_period} i perioden EST-{NUMBER}; HTML {size} kB")
    for key, seconds in rows.items():
        middle, low, high = statistics.median(seconds), min(seconds), max(seconds)
        print(f"  {key:<20} median {middle:6.3f} s   (min {low:.3f}, max {high:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", action="store_true", help="also on PostgreSQL (SAMORDNA_TEST_POSTGRES_URL)"
    )
    parser.add_argument("--postgres-url", default=os.environ.get("SAMORDNA_TEST_POSTGRES_URL"))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-est-") as folder:
        measure(f"sqlite:///{folder}/bench.db", "SQLite")
    if options.postgres or (options.postgres_url and "--postgres-url" in sys.argv):
        if not options.postgres_url:
            raise SystemExit("ange --postgres-url eller SAMORDNA_TEST_POSTGRES_URL")
        admin = make_engine(options.postgres_url, isolation_level="AUTOCOMMIT")
        name = f"bench_est_{os.getpid()}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.make_url(options.postgres_url).set(database=name).render_as_string(hide_password=False)
            measure(url, "PostgreSQL")
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
