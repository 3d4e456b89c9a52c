"""Scoring files without a database: leads and events as CSV or Parquet, in, scores out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from leadq.domain.scoring.model import ScoringModel
from leadq.domain.scoring.vectorised import score_frame
from leadq.domain.seniority import infer_seniority
from leadq.services.errors import LeadqError
from leadq.services.predictive.model import (
    SCORED_COLUMNS,
    PredictiveModel,
    as_scored_columns,
    missing_columns,
    missing_note,
    predicted,
)

FORMATS = (".csv", ".parquet")


class FileError(LeadqError):
    """An input or output file that cannot be used."""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise FileError(f"{path}: use a .csv or .parquet file")
    return suffix


def scan(path: Path) -> pl.LazyFrame:
    if _suffix(path) and not path.is_file():
        raise FileError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, infer_schema_length=10_000, try_parse_dates=False)


def prepare_leads(leads: pl.LazyFrame, path: Path) -> pl.LazyFrame:
    """Check the id column; infer seniority from job_title where a row has none (as intake
    does), once per distinct title."""
    schema = leads.collect_schema()
    if "id" not in schema:
        raise FileError(f"{path}: the leads file needs an 'id' column")
    if "job_title" in schema and schema["job_title"] == pl.String:
        titles = leads.select(pl.col("job_title").unique()).collect()["job_title"].to_list()
        seniority = {t: s.value for t in titles if t and (s := infer_seniority(t))}
        inferred = pl.col("job_title").replace_strict(seniority, default=None,
                                                     return_dtype=pl.String)  # fmt: skip
        stated = pl.col("seniority").cast(pl.String) if "seniority" in schema else pl.lit(None)
        leads = leads.with_columns(pl.coalesce(stated, inferred).alias("seniority"))
    return leads


def prepare_events(events: pl.LazyFrame, path: Path) -> pl.LazyFrame:
    """``lead_id``, ``type``, ``occurred_at`` (ISO-8601 with zone, read as UTC)."""
    schema = events.collect_schema()
    missing = [c for c in ("lead_id", "type", "occurred_at") if c not in schema]
    if missing:
        raise FileError(f"{path}: the events file needs column(s) {', '.join(missing)}")
    when = pl.col("occurred_at")
    if schema["occurred_at"] == pl.String:
        when = when.str.to_datetime(time_unit="us", time_zone="UTC")
    elif isinstance(schema["occurred_at"], pl.Datetime) and not schema["occurred_at"].time_zone:
        when = when.dt.replace_time_zone("UTC")
    return events.with_columns(when.dt.convert_time_zone("UTC").alias("occurred_at"))


def check_free(columns: list[str], where: object) -> None:
    """The leads must not already have the columns a predictive model adds."""
    if taken := [c for c in SCORED_COLUMNS if c in columns]:
        raise FileError(f"{where}: the leads already have a {taken[0]!r} column, which"
                        " --predictive adds; rename it")  # fmt: skip


def with_predictions(model: PredictiveModel, leads: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
    """The leads with the model's probability, score and reasons; notes on missing columns."""
    try:
        frame = leads.collect()
    except pl.exceptions.PolarsError as exc:
        raise FileError(f"cannot read the leads: {str(exc).splitlines()[0]}") from None
    check_free(frame.columns, "the leads file")
    notes = missing_note(missing_columns(model, frame.columns))
    added = as_scored_columns(predicted(model, frame))
    return frame.with_columns(pl.Series(n, v) for n, v in added.items()).lazy(), notes


def plan(model: ScoringModel, leads_path: Path, events_path: Path | None, out: Path,
         as_of: datetime, predictive: PredictiveModel | None = None,
         ) -> tuple[pl.LazyFrame, list[str]]:  # fmt: skip
    """Check the files and build the scoring query; nothing is computed yet but predictions.
    Returns the query and notes for the user."""
    _suffix(out)
    leads = prepare_leads(scan(leads_path), leads_path)
    events = prepare_events(scan(events_path), events_path) if events_path else None
    notes: list[str] = []
    carry: tuple[str, ...] = ()
    if predictive is not None:
        leads, notes = with_predictions(predictive, leads)
        carry = SCORED_COLUMNS
    scored = score_frame(model, leads, events, as_of, carry)
    keep = [
        "id",
        "score",
        "grade",
        *(c for c in scored.collect_schema() if c.startswith("points.")),
        *carry,
    ]
    return scored.select(keep), notes


def write(scores: pl.LazyFrame, out: Path) -> int:
    """Run the query and write ``id, score, grade, points.<criterion>…``; returns rows."""
    try:
        result = scores.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise FileError(f"cannot score these files: {str(exc).splitlines()[0]}") from None
    if out.suffix.lower() == ".parquet":
        result.write_parquet(out)
    else:
        result.write_csv(out)
    return result.height
