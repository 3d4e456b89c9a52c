"""``leadq score``: lead tables scored in bulk from files, without a database.

Its own module so that scoring a file imports polars and the model, not the workspace's
SQLAlchemy machinery (``leadq.services.scoring.batch``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from leadq.cli.support import UserError, err, out, progress_bar
from leadq.cli.support import now as _now
from leadq.services.scoring import batch, documents

if TYPE_CHECKING:
    from leadq.domain.scoring.model import ScoringModel
    from leadq.services.predictive.model import PredictiveModel


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
    scoring_model, _ = documents.read_model(model)
    extra = None
    if predictive_model is not None:
        from leadq.services.predictive import files  # scikit-learn and LightGBM: only when used

        extra = files.load(predictive_model)
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
