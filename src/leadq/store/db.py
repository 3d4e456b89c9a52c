"""Engine, sessions and the unit of work; schema upgrades through Alembic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from leadq.domain.search import SQL_FUNCTION, search_text

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")
READ_ONLY = "leadq_read_only"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver so SQLAlchemy's "begin" hook below decides how to begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A page cache of up to 64 MiB a connection (SQLite's default is 2 MiB): inserts land at
    # random places in the indexes of large tables (the events' keys), and a page read again
    # from the file costs a system call (1,000,000 events imported 55 s -> 50 s).
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    dbapi_connection.create_function(SQL_FUNCTION, 5, search_text, deterministic=True)


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock up front (IMMEDIATE), so read-then-write never deadlocks;
    # read-only sessions begin plainly and run beside writers under WAL.
    reading = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for SQLite or PostgreSQL with the settings each needs to behave the same."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def _retryable(exc: IntegrityError | OperationalError) -> bool:
    return isinstance(exc, IntegrityError) or (
        getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


class Database:
    """One place that owns the engine and hands out transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time. Queue this process's writers on a lock instead of
        # SQLite's busy handler, which sleeps up to 100 ms between tries; other processes
        # still wait through the busy timeout.
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with self._writer or nullcontext(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries only; on SQLite it does not wait for writers."""
        with self._readers.begin() as session:
            yield session

    def run(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        """Run a use case in one transaction; a lost race on a unique key reruns it, and the
        rerun sees the winner's row (an upsert becomes a merge, a retried event a duplicate)."""
        for attempt in range(attempts):
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts - 1 or not _retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def upgrade(self) -> None:
        """Create the schema or bring it up to the newest migration."""
        from alembic import command  # only here: every command would pay for importing it

        with self.engine.begin() as connection:
            config = alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("leadq.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
