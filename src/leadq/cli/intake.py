"""``leadq import`` and ``export``: leads and events in and out as CSV, every bad row reported."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from leadq.cli.support import UserError, err, out, progress_bar
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.config import get_settings
from leadq.services.intake import imports
from leadq.services.intake.policy import IntakePolicy

import_app = typer.Typer(help="Import leads or events from CSV.", no_args_is_help=True)


export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise UserError(f"--map {pair!r}: expected CSV_COLUMN=field")
        mapping[column.strip()] = field.strip()
    return mapping


def _report(summary: imports.Summary, kind: str) -> None:
    if kind == "leads":
        line = (
            f"{summary.created} created, {summary.merged} merged, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected"
        )
    else:
        line = (
            f"{summary.accepted} stored, {summary.duplicates} already stored, "
            f"{summary.rejected} rejected"
        )
    out.print(f"Imported {kind}: {line}")
    if summary.ignored_columns:
        out.print(f"Ignored export-only columns: {', '.join(summary.ignored_columns)}")
    if summary.rejects_file:
        out.print(f"Rejected rows with line and reason: {summary.rejects_file}")


FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row")]


Rejects = Annotated[Path | None, typer.Option(help="Where rejected rows go [FILE.rejects.csv]")]


Encoding = Annotated[str, typer.Option(help="Text encoding of the file")]


def _run_import(
    kind: str, file: Path, encoding: str, rejects: Path | None, mapping: dict[str, str]
) -> None:
    db = _database()
    policy = IntakePolicy.from_settings(get_settings())
    rejects_path = rejects or Path.cwd() / f"{file.stem}.rejects.csv"
    total = imports.count_lines(file, encoding)
    with progress_bar() as bar:
        task = bar.add_task(f"Importing {file.name}", total=max(total - 1, 1))
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if kind == "leads":
            summary = imports.import_leads(
                db, file, mapping, policy, _now(), rejects_path, encoding, advance
            )
        else:
            summary = imports.import_events(
                db, file, policy, _now(), rejects_path, encoding, advance
            )
    _report(summary, kind)


@import_app.command("leads")
def import_leads(
    file: FileArg,
    encoding: Encoding = "utf-8",
    rejects: Rejects = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="CSV_COLUMN=field, repeatable; field may be attributes.NAME"),
    ] = None,
) -> None:
    """Import leads; the same person twice (by e-mail, then phone) is merged, not duplicated."""
    _run_import("leads", file, encoding, rejects, _mapping(map_ or []))


@import_app.command("events")
def import_events(file: FileArg, encoding: Encoding = "utf-8", rejects: Rejects = None) -> None:
    """Import events: lead_id or email or phone, type, occurred_at (with time zone), channel,
    idempotency_key; every other column becomes a property."""
    _run_import("events", file, encoding, rejects, {})


@export_app.command("leads")
def export_leads(
    output: Annotated[Path | None, typer.Option("--out", help="File to write [stdout]")] = None,
) -> None:
    """Export every lead as CSV, ready to import back."""
    db = _database()
    with db.reading() as session:
        if output is None:
            imports.export_leads(session, sys.stdout)
            return
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = imports.export_leads(session, handle)
    err.print(f"Exported {count} leads to {output}")
