"""Test fixtures: real databases, migrated by the real migrations.

Every database test runs twice, on a SQLite file and on PostgreSQL. PostgreSQL comes from
SAMORDNA_TEST_POSTGRES_URL (``.ci/run`` starts one); without it the PostgreSQL half is skipped on a
developer's machine and fails under CI=true, so CI can never pass without having run it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.settings import get_settings
from importers.directory_import import import_directory_file
from importers.plan_import import import_plan_file
from models.db import make_engine, migrate, transaction
from samordna.cli import main

# Prefect reads its settings at import: point it at a throwaway home before any test imports it.
PREFECT_TEST_HOME = tempfile.mkdtemp(prefix="samordna-test-prefect-")
atexit.register(shutil.rmtree, PREFECT_TEST_HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = PREFECT_TEST_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)
# Samordna's own local state (the link secret file of the web app, logs) in a throwaway folder too, so
# a developer's var/ (after `make demo`) never reaches a test; tests that want a secret set their own.
SAMORDNA_TEST_DATA = tempfile.mkdtemp(prefix="samordna-test-data-")
atexit.register(shutil.rmtree, SAMORDNA_TEST_DATA, ignore_errors=True)
os.environ["SAMORDNA_DATA_DIR"] = SAMORDNA_TEST_DATA
os.environ.pop("SAMORDNA_WEB_SECRET", None)

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
POSTGRES_ENV = "SAMORDNA_TEST_POSTGRES_URL"
# One template per test run (by process id: test modules import conftest a second time), so that two
# runs against one server never drop each other's.
TEMPLATE_DB = f"samordna_test_template_{os.getpid()}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set under CI=true: the PostgreSQL tests must run in CI")
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped on this machine")
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{TEMPLATE_DB}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_ENV} is not reachable: {error}")
    finally:
        engine.dispose()
    migrate(make_url(url).set(database=TEMPLATE_DB).render_as_string(hide_password=False))
    # Dropped when the run ends, by the process that made it.
    atexit.register(_drop_database, url, TEMPLATE_DB, os.getpid())
    return url


def _drop_database(admin_url: str, name: str, owner_pid: int) -> None:
    if os.getpid() != owner_pid:
        return  # a forked child (the kill tests fork) exiting must not drop the parent's template
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except sa.exc.OperationalError:
        pass  # the server is already gone (CI stops it after the run): nothing left to clean
    finally:
        engine.dispose()


@contextmanager
def postgres_copy(admin_url: str, template: str) -> Iterator[str]:
    """The URL of a new database with every row of ``template`` (nobody may be connected to it), dropped
    when the block ends."""
    name = f"samordna_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_postgres(admin_url: str) -> Iterator[str]:
    with postgres_copy(admin_url, TEMPLATE_DB) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind, new for every test."""
    if request.param == "sqlite":
        path = tmp_path / "samordna.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from _fresh_postgres(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database for tests that only concern the command line."""
    path = tmp_path / "samordna.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


class Cli:
    """Runs ``samordna`` in-process against one database and returns (exit code, stdout, stderr)."""

    def __init__(self, url: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.data_dir = data_dir
        self.capsys = capsys

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SAMORDNA_DATABASE_URL", self.url)
            patch.setenv("SAMORDNA_DATA_DIR", str(self.data_dir))
            patch.delenv("SAMORDNA_KOMMUN", raising=False)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            # The process-wide settings follow this call's environment, not an earlier test's: a flow
            # run in-process reads them through get_settings().
            get_settings.cache_clear()
            self.capsys.readouterr()
            try:
                code = main([str(arg) for arg in args])
            finally:
                get_settings.cache_clear()
            out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The command line on each kind of database."""
    return Cli(database_url, tmp_path / "data", capsys)


@pytest.fixture
def sqlite_cli(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The command line on SQLite only."""
    return Cli(sqlite_url, tmp_path / "data", capsys)


def import_example(session: Session, directory: str, plan: str) -> int:
    """Import an example directory and plan from examples/; the kommun's id."""
    _, municipality = import_directory_file(session, EXAMPLES / directory)
    import_plan_file(session, EXAMPLES / plan)
    return municipality.id or 0


def import_falun(session: Session) -> int:
    """The Falun example (directory with rhythm, and the åtgärdsplan 2024); the kommun's id."""
    return import_example(session, "falun-katalog.yaml", "falun-atgardsplan-2024.xlsx")


@pytest.fixture
def falun(engine: sa.Engine) -> int:
    """The Falun example imported into the test's database; the kommun's id."""
    with transaction(engine) as session:
        return import_falun(session)


@pytest.fixture(scope="session")
def falun_sqlite_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite file with the Falun example imported, to copy for tests that need files of their own."""
    path = tmp_path_factory.mktemp("falun") / "falun.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with transaction(engine) as session:
        import_falun(session)
    engine.dispose()
    return path


@pytest.fixture
def falun_cli(falun_sqlite_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The command line on a copy of the Falun example."""
    database = tmp_path / "falun.db"
    shutil.copyfile(falun_sqlite_file, database)
    return Cli(f"sqlite:///{database}", tmp_path / "data", capsys)
