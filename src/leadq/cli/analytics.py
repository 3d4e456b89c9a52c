"""``leadq report`` (the analytics report as files) and ``leadq costs import``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.markup import escape

from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.cli.support import out
from leadq.reporting.analytics_page import write_report
from leadq.services.analytics import costs
from leadq.services.analytics.metrics import DIMENSIONS, Dimension, metrics_by, period
from leadq.services.errors import FieldError, InvalidInput

costs_app = typer.Typer(help="Campaign costs, for cost per lead.", no_args_is_help=True)


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        reason = f"{value!r} is not an ISO date or time (2026-03-01 or 2026-03-01T09:00+01:00)"
        raise InvalidInput([FieldError(option, reason)]) from None


def _dimensions(names: list[str] | None) -> list[Dimension]:
    chosen = names or list(DIMENSIONS)
    unknown = [name for name in chosen if name not in DIMENSIONS]
    if unknown:
        reason = f"unknown dimension {unknown[0]!r}; one of: {', '.join(DIMENSIONS)}"
        raise InvalidInput([FieldError("--by", reason)])
    return [cast(Dimension, name) for name in dict.fromkeys(chosen)]


def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the report to")],
    by: Annotated[
        list[str] | None,
        typer.Option(help=f"Dimension ({', '.join(DIMENSIONS)}; default: all), repeatable"),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Leads created from (ISO date, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="Leads created before (ISO date)")] = None,
) -> None:
    """Write analytics.html (self-contained) and analytics-<dimension>.csv per dimension."""
    dimensions = _dimensions(by)
    window = period(_moment(since, "--since"), _moment(until, "--until"))
    now = _now()
    with _database().reading() as session:
        tables = metrics_by(session, dimensions, window.since, window.until, now=now)
    try:
        written = write_report(out_dir, tables, window.since, window.until, now)
    except OSError as exc:
        raise InvalidInput([FieldError("--out", f"{out_dir}: {exc.strerror or exc}")]) from None
    for path in written:
        out.print(f"Wrote {escape(str(path))}", highlight=False)


@costs_app.command("import")
def import_costs(
    file: Annotated[
        Path, typer.Argument(help="CSV: campaign, spent_on, amount[, source, currency]")
    ],
) -> None:
    """Import campaign costs; a cost already booked for the campaign, source and day is
    replaced. A file with a bad line stores nothing and lists every bad line."""
    with _database().unit_of_work() as session:
        stored = costs.import_costs(session, file, _now())
    out.print(f"Imported {stored} cost lines from {escape(str(file))}", highlight=False)
