"""What every ``leadq`` command module shares: the consoles, the clock and the database."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from leadq.config import get_settings
from leadq.store.db import Database

out = Console()
err = Console(stderr=True)
ACTOR = "cli"


def now() -> datetime:
    return datetime.now(UTC)


def database() -> Database:
    """The configured database (``LEADQ_DATABASE_URL``)."""
    return Database(get_settings().database_url)
