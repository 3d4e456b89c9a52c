"""What every ``leadq`` command module shares: the consoles, the clock, the database, a progress
bar and the one-line error for a mistake on the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from leadq.services.errors import LeadqError

if TYPE_CHECKING:
    from leadq.store.db import Database

out = Console()
err = Console(stderr=True)
ACTOR = "cli"


def now() -> datetime:
    return datetime.now(UTC)


def database() -> Database:
    """The configured database (``LEADQ_DATABASE_URL``); SQLAlchemy is loaded by the commands
    that use one."""
    from leadq.config import get_settings
    from leadq.store.db import Database

    return Database(get_settings().database_url)


class UserError(LeadqError):
    """A mistake on the command line: reported in one line, exit status 2."""


def progress_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
