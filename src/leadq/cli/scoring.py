"""``leadq model``, ``rescore`` and ``score``: scoring models in the workspace, tables in bulk."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from leadq.cli.support import ACTOR, UserError, err, out, progress_bar
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.domain.scoring.model import ScoringModel
from leadq.services.predictive.model import PredictiveModel
from leadq.services.scoring import batch
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Lead

model_app = typer.Typer(help="Scoring models: validate, add, activate, list.", no_args_is_help=True)


@model_app.command("validate")
def validate_model(file: Annotated[Path, typer.Argument(help="Model YAML file")]) -> None:
    """Check a model document; a bad one is refused with the path inside it and the reason."""
    model, _ = scoring.read_model(str(file))
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
    _, text = scoring.read_model(file)
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


def _rescore(db: Database, reason: str) -> tuple[int, int]:
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Lead)) or 0
    with progress_bar() as bar:
        task = bar.add_task("Rescoring", total=max(total, 1))
        return scoring.rescore_everyone(db, _now(), reason, lambda n: bar.advance(task, n))


def rescore() -> None:
    """Recompute every lead's score as of now (decay is time-driven: run this on a schedule)."""
    total, changed = _rescore(_database(), "rescore")
    out.print(f"{total} leads rescored, {changed} changed")


def _as_of(value: str | None) -> datetime:
    if value is None:
        return _now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of {value!r}: not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise UserError(f"--as-of {value!r}: give a time zone, e.g. {value}+00:00")
    return moment


class Engine(StrEnum):
    polars = "polars"
    spark = "spark"


def score(
    leads: Annotated[str, typer.Option(help="Leads table: id and profile fields")],
    out_file: Annotated[str, typer.Option("--out", help="Scores to write")],
    events: Annotated[str | None, typer.Option(help="Events table")] = None,
    model: Annotated[str, typer.Option(help="Shipped model name or a model YAML file")] = "classic",
    as_of: Annotated[str | None, typer.Option(help="Score as of this ISO-8601 time [now]")] = None,
    predictive_model: Annotated[
        Path | None,
        typer.Option(
            "--predictive",
            help="Also add probability and reasons from this model directory ('leadq train')",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="polars: .csv/.parquet files on this machine; spark: Parquet"
            " files, folders or URIs on Spark"
        ),
    ] = Engine.polars,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL [local[*], or spark-submit's]")
    ] = None,
) -> None:
    """Score lead tables in bulk, without the database: id, score, grade, points.<criterion>."""
    moment = _as_of(as_of)
    scoring_model, _ = scoring.read_model(model)
    from leadq.services.predictive import files  # scikit-learn and LightGBM: only when used

    extra = None if predictive_model is None else files.load(predictive_model)
    if engine is Engine.spark:
        rows = _score_on_spark(scoring_model, leads, events, out_file, moment, master, extra)
    else:
        if master is not None:
            raise UserError("--master is for --engine spark")
        leads_path, out_path = Path(leads), Path(out_file)
        scores, notes = batch.plan(scoring_model, leads_path, Path(events) if events else None,
                                   out_path, moment, extra)  # fmt: skip
        _notes(notes)
        with progress_bar() as bar:
            task = bar.add_task(f"Scoring {leads_path.name} with {scoring_model.name}", total=1)
            rows = batch.write(scores, out_path)
            bar.advance(task)
    out.print(f"Scored {rows} leads with {scoring_model.name} as of {moment.isoformat()} → "
              f"{out_file}")  # fmt: skip


def _score_on_spark(model: ScoringModel, leads: str, events: str | None, out_file: str,
                    moment: datetime, master: str | None,
                    extra: PredictiveModel | None) -> int:  # fmt: skip
    from leadq.spark.session import start

    spark = start(master)  # says what is missing before anything imports PySpark
    from leadq.spark import batch as spark_batch

    scores, notes = spark_batch.plan(spark, model, leads, events, moment, extra)
    _notes(notes)
    return spark_batch.write(spark, scores, out_file)


def _notes(notes: list[str]) -> None:
    for note in notes:
        err.print(f"[yellow]warning:[/] {escape(note)}")
