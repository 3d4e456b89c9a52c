"""``leadq model``, ``rescore`` and ``score``: scoring models in the workspace, tables in bulk."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.cli.support import ACTOR, out, progress_bar
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.services.scoring import bulk, documents, thresholds
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Lead

model_app = typer.Typer(help="Scoring models: validate, add, activate, list.", no_args_is_help=True)


@model_app.command("validate")
def validate_model(file: Annotated[Path, typer.Argument(help="Model YAML file")]) -> None:
    """Check a model document; a bad one is refused with the path inside it and the reason."""
    model, _ = documents.read_model(str(file))
    count = len(model.criteria())
    out.print(f"{file}: model '{model.name}' is valid ({count} criteria, grades "
              f"{', '.join(model.grades)})")  # fmt: skip


@model_app.command("add")
def add_model(
    file: Annotated[
        str, typer.Argument(help="Model YAML file, or a shipped model: classic, dynamic")
    ],
) -> None:
    """Add a model to the workspace as its next version (not active until activated)."""
    _, text = documents.read_model(file)
    with _database().unit_of_work() as session:
        row = scoring.add_model(session, text, file, _now(), ACTOR)
    out.print(f"Added {row.name}@{row.version}; activate it with 'leadq model activate "
              f"{row.name}@{row.version}'")  # fmt: skip


@model_app.command("activate")
def activate_model(
    reference: Annotated[str, typer.Argument(help="NAME (newest version) or NAME@VERSION")],
) -> None:
    """Make a model version the active one and rescore every lead with it."""
    db = _database()
    with db.unit_of_work() as session:
        row = scoring.activate(session, reference, _now(), ACTOR)
        ref = f"{row.name}@{row.version}"
    total, changed = _rescore(db, f"model {ref} activated")
    out.print(f"Active model: {ref}; {total} leads rescored, {changed} changed")


@model_app.command("list")
def list_models() -> None:
    """Model versions in the workspace; the active one is marked."""
    table = Table("name", "version", "active", "added", box=box.SIMPLE_HEAD)
    with _database().reading() as session:
        for row in scoring.list_models(session):
            table.add_row(row.name, str(row.version), "●" if row.active else "",
                          row.created_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    out.print(table)


thresholds_app = typer.Typer(help="Grade lines from sales capacity.", no_args_is_help=True)


@thresholds_app.command("suggest")
def suggest_thresholds(
    capacity: Annotated[
        str, typer.Option(help="New leads sales can take: 40/week, 8/day, 150/month, 10/week/rep")
    ],
    model: Annotated[
        str | None, typer.Option(help="NAME or NAME@VERSION (default: the active model)")
    ] = None,
    days: Annotated[
        int, typer.Option(min=0, max=3650, help="Score each lead N days after it arrived")
    ] = 7,
    warm_share: Annotated[
        int, typer.Option(min=1, max=100, help="Percent of conversions hot + warm should hold")
    ] = 80,
    apply: Annotated[
        bool, typer.Option(help="Add the model with these lines as its next version")
    ] = False,
) -> None:
    """Replay history with the model and propose grade lines: the top grade takes about the
    capacity each week, the next holds the asked share of conversions."""
    db = _database()
    limit = thresholds.pace(capacity)
    with db.unit_of_work() as session:
        reference = model or _active(session)
        found = thresholds.propose(session, reference, limit, timedelta(days=days), _now(),
                                   warm_share / 100)  # fmt: skip
        table = Table("grade", "line", "leads / week", "converted", "share of conversions",
                      "today's line", box=box.SIMPLE_HEAD)  # fmt: skip
        today = {row.grade: row for row in found.current}
        for row in found.proposed:
            table.add_row(escape(row.grade), _line(row.line), f"{row.per_week:.1f}",
                          f"{row.conversion_rate:.0%}", f"{row.share_of_conversions:.0%}",
                          _line(today[row.grade].line))  # fmt: skip
        for sentence in found.sentences():
            out.print(escape(sentence))
        out.print(table)
        if apply:
            added = thresholds.apply(session, reference, found, _now(), ACTOR)
            ref = f"{added.name}@{added.version}"
            out.print(f"Added {ref}; activate it with 'leadq model activate {ref}'")


def _active(session: Session) -> str:
    active = scoring.active_model(session)
    if active is None:
        raise thresholds.SuggestionRefused("no model is active: name one with --model")
    return active.ref


def _line(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _rescore(db: Database, reason: str) -> tuple[int, int]:
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Lead)) or 0
    with progress_bar("leads") as bar:
        task = bar.add_task("Rescoring", total=max(total, 1))
        return bulk.rescore_everyone(db, _now(), reason, lambda n: bar.advance(task, n))


def rescore() -> None:
    """Recompute every lead's score as of now (decay is time-driven: run this on a schedule)."""
    total, changed = _rescore(_database(), "rescore")
    out.print(f"{total} leads rescored, {changed} changed")
