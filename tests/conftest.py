"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and the API."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

from leadq.api.app import create_app
from leadq.config import Settings, get_settings
from leadq.services.people.apikeys import create_key
from leadq.store.db import Database
from leadq.store.tables import Base

POSTGRES_URL = os.environ.get("LEADQ_TEST_POSTGRES_URL")
SKIP_PG = "LEADQ_TEST_POSTGRES_URL is not set (the CI script .ci/run sets it)"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


TESTS = Path(__file__).resolve().parent


THREADS = pytest.StashKey[object]()


def pytest_configure(config: pytest.Config) -> None:
    """One thread for LightGBM and NumPy in each test worker and the commands it starts: the
    workers already fill every core, and OpenMP / OpenBLAS threads spinning against each other
    made a five-second training test take minutes. Libraries loaded already are limited at
    run time, the rest by the environment."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    config.stash[THREADS] = threadpool_limits(1)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers more than cores. A run spends a fifth of its time waiting on
    servers, browsers and PostgreSQL (whose work the workers' CPU time does not count), and
    the extra workers fill it: on 2 cores, 12m23s with four workers, 13m08s with three."""
    return (os.cpu_count() or 1) + 2


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs a heavy part, so ``pytest -m "not spark and not browser"`` is a quick run;
    Spark tests share one worker, so the run starts one JVM, not one per worker, and so do an
    end-to-end module's tests, so its servers and browser start once. First among the hooks:
    xdist reads the group marks in its own, and a mark set after it is not seen."""
    for item in items:
        path = Path(str(item.path))
        fixtures = getattr(item, "fixturenames", ())
        if TESTS / "spark" in path.parents:
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif TESTS / "e2e" in path.parents:  # a module's server and browser start once
            item.add_marker(pytest.mark.xdist_group(f"e2e-{path.stem}"))
        if "browser" in fixtures or path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        on_postgres = any(isinstance(v, str) and v == "postgresql" for v in params)
        if on_postgres or "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "leadq.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, created from the configured server."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_PG)
    name = f"leadq_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.upgrade()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if backend == "sqlite":
        path = tmp_path / "leadq.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database(f"sqlite:///{path}")
    db = Database(request.getfixturevalue("postgres_url"))
    with db.engine.begin() as conn:
        conn.exec_driver_sql(_emptying(conn))
    return db


def _emptying(conn: Connection) -> str:
    """Every table emptied, dependants first, and every sequence restarted: what ``TRUNCATE
    … RESTART IDENTITY`` does, at a tenth of its cost on the few rows a test leaves (a
    truncate makes new files for each table it empties: 0.2 s a test, over a thousand tests).
    Tables whose triggers refuse a delete (the append-only audit log) are truncated."""
    triggered = "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
    guarded = sorted(conn.exec_driver_sql(triggered).scalars())
    named = "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
    statements = [f"TRUNCATE {', '.join(guarded)} CASCADE"] if guarded else []
    statements += [f"DELETE FROM {table.name}" for table in reversed(Base.metadata.sorted_tables)
                   if table.name not in guarded]  # fmt: skip
    statements += [f"SELECT setval('{name}', 1, false)"
                   for name in conn.exec_driver_sql(named).scalars()]  # fmt: skip
    return "; ".join(statements)


@pytest.fixture(autouse=True)
def _settings_of_this_test_only() -> Iterator[None]:
    """Settings read from the environment are cached; a test that changed the environment
    (``monkeypatch.setenv`` and a cache clear) must not leave its settings to the next test
    in this process, e.g. an automation file that assigns every new lead."""
    yield
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A real, empty, migrated database, on each backend."""
    database = fresh_database(request.param, request, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(database_url=db.url)


@pytest.fixture
def api_key(db: Database, now: datetime) -> str:
    with db.unit_of_work() as session:
        token, _ = create_key(session, "tests", now)
    return token


@pytest.fixture
def anonymous(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The real app on a real database, without credentials."""
    with TestClient(create_app(settings, db)) as client:
        yield client


@pytest.fixture
def client(anonymous: TestClient, api_key: str) -> TestClient:
    """The real app with a valid API key."""
    anonymous.headers["Authorization"] = f"Bearer {api_key}"
    return anonymous
