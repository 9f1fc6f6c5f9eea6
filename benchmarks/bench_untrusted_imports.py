"""Benchmark: the hostile-file corpus through the CLI, and what each file costs. Prints figures;
asserts nothing (tests/test_malformed_corpus.py does that).

Writes the corpus of tests/malformed_corpus.py (65 files: the bombs of issue 16, broken encodings and
formats, values a database would refuse), imports Falun's example into a fresh database, then imports
every corpus file through ``samordna`` in one child process and prints, per file, the exit code, the
seconds and the child's peak resident memory so far (VmHWM), and the total.

    .venv/bin/python benchmarks/bench_untrusted_imports.py                      # SQLite
    .venv/bin/python benchmarks/bench_untrusted_imports.py --postgres postgresql+psycopg://postgres@…/postgres

With ``--postgres`` (a user allowed to create databases) it creates a scratch database on that server,
uses it, and drops it again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.db import make_engine, migrate, transaction
from tests.conftest import import_falun
from tests.malformed_corpus import write_corpus


@contextmanager
def scratch(admin_url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database on ``admin_url``'s server for the block (None: none asked for)."""
    if admin_url is None:
        yield None
        return
    name = f"samordna_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL to make a scratch database on")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="samordna-bench-corpus-") as folder,
        scratch(args.postgres) as given,
    ):
        work = Path(folder)
        url = given or f"sqlite:///{work / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        with transaction(engine) as session:
            import_falun(session)
        engine.dispose()
        corpus = work / "corpus"
        corpus.mkdir()
        started = time.perf_counter()
        files = write_corpus(corpus)
        written = time.perf_counter() - started
        environment = {**os.environ, "SAMORDNA_DATABASE_URL": url, "SAMORDNA_DATA_DIR": str(work / "data")}
        started = time.perf_counter()
        finished = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.malformed_corpus", str(corpus)],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    results = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    for result in results:
        peak = result["peak_kb"] / 1024
        print(f"{result['code']:>3}  {result['seconds']:6.2f} s  {peak:6.0f} MB  {result['file']}")
    codes: dict[int, int] = {}
    for result in results:
        codes[result["code"]] = codes.get(result["code"], 0) + 1
    print(
        f"{len(files)} files (written in {written:.1f} s), exit codes {codes}, "
        f"child process {elapsed:.1f} s, peak {max(r['peak_kb'] for r in results) / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
