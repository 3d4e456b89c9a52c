"""What every ``leadq`` command module shares: the consoles, the clock, the database, a progress
bar and the one-line error for a mistake on the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

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


class RateColumn(ProgressColumn):
    """Items per second, once there is a rate to tell."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            "" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed"
        )


def progress_bar(unit: str = "rows") -> Progress:
    """Done of total, the rate, time spent and time left (from the recent rate)."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
