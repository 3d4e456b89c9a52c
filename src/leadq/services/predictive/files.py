"""Predictive models as files: train on an export, write the model directory, score a file."""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import polars as pl

from leadq.predictive.columns import TargetError
from leadq.predictive.exports import Export, ExportError, read_export
from leadq.predictive.history import CONVERTED
from leadq.predictive.reasons import reasons
from leadq.predictive.report_page import render
from leadq.predictive.scorer import LeadScorer, TrainingError
from leadq.predictive.training import Trained, TrainingPlan, train
from leadq.services.errors import LeadqError
from leadq.services.predictive.history import history
from leadq.store.db import Database

MODEL_FILE = "model.joblib"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REASONS = 3
SCORED_COLUMNS = ("probability", "predictive_score", *(f"reason_{i + 1}" for i in range(REASONS)))
"""What a predictive model adds to each lead of a scored table."""


class PredictiveError(LeadqError):
    """A file, a column or a model directory that cannot be used; nothing was written."""


@dataclass(frozen=True)
class PredictiveModel:
    """A trained scorer with its report, as loaded from a model directory or the registry."""

    scorer: LeadScorer
    report: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        return [c["column"] for c in self.report["columns"]]


def read_file(path: Path, encoding: str | None = None, separator: str | None = None) -> Export:
    try:
        return read_export(path, encoding, separator)
    except ExportError as exc:
        raise PredictiveError(str(exc)) from None


def train_file(path: Path, plan: TrainingPlan, out_dir: Path, encoding: str | None = None,
               separator: str | None = None) -> Trained:  # fmt: skip
    """Train on a CRM export and write ``model.joblib``, ``report.json`` and ``report.html``."""
    started = time.perf_counter()
    export = read_file(path, encoding, separator)
    try:
        trained = train(export.frame, plan)
    except (TargetError, TrainingError) as exc:
        raise PredictiveError(f"{path}: {exc}") from None
    source = {"file": path.name, "encoding": export.encoding, "separator": export.separator}
    trained.report.update(_provenance(started, source))
    save(PredictiveModel(trained.scorer, trained.report), out_dir)
    return trained


def train_workspace(db: Database, horizon: timedelta, out_dir: Path, now: datetime) -> Trained:
    """Train on the workspace's own leads, each seen as of its arrival plus ``horizon``."""
    started = time.perf_counter()
    with db.reading() as session:
        past = history(session, horizon, now)
    if past.frame.is_empty():
        raise PredictiveError(f"no lead is older than {horizon.days} days with a known outcome:"
                              " nothing to learn from yet")  # fmt: skip
    plan = TrainingPlan(CONVERTED, id_column="lead_id")
    try:
        trained = train(past.frame, plan)
    except (TargetError, TrainingError) as exc:
        raise PredictiveError(f"workspace history: {exc}") from None
    trained.report.update(_provenance(started, {"workspace": db.engine.url.database or "",
                                                "horizon_days": horizon.days}))  # fmt: skip
    save(PredictiveModel(trained.scorer, trained.report), out_dir)
    return trained


def _provenance(started: float, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "leadq_version": version("leadq"), "source": source,
        "training_seconds": time.perf_counter() - started,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def save(model: PredictiveModel, out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise PredictiveError(f"{out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.scorer, out_dir / MODEL_FILE)
    (out_dir / REPORT_JSON).write_text(json.dumps(model.report, indent=2), encoding="utf-8")
    (out_dir / REPORT_HTML).write_text(render(model.report), encoding="utf-8")


def load(model_dir: Path) -> PredictiveModel:
    """A model directory written by ``leadq train`` (it holds code: load only your own)."""
    files = model_dir / MODEL_FILE, model_dir / REPORT_JSON
    if not all(f.is_file() for f in files):
        raise PredictiveError(f"{model_dir}: not a model directory (no {MODEL_FILE} and"
                              f" {REPORT_JSON}); train one with 'leadq train'")  # fmt: skip
    try:
        scorer = joblib.load(files[0])
        report = json.loads(files[1].read_text(encoding="utf-8"))
    except Exception as exc:  # a damaged or foreign file: say so instead of a traceback
        raise PredictiveError(f"{model_dir}: cannot read the model ({exc})") from None
    if not isinstance(scorer, LeadScorer) or not isinstance(report, dict):
        raise PredictiveError(f"{model_dir}: {MODEL_FILE} is not a leadq model")
    return PredictiveModel(scorer, report)


@dataclass(frozen=True)
class Predictions:
    frame: pl.DataFrame
    warnings: list[str]


def missing_columns(model: PredictiveModel, present: list[str]) -> list[str]:
    """The model's columns the rows lack (they count as empty); none present is an error."""
    missing = [c for c in model.columns if c not in present]
    if len(missing) == len(model.columns):
        raise PredictiveError(
            "none of the model's columns is in the file (it learnt from "
            + ", ".join(repr(c) for c in model.columns[:8])
            + ")"
        )
    return missing


def missing_note(missing: list[str]) -> list[str]:
    return (
        [f"not in the file, treated as empty: {', '.join(map(repr, missing))}"] if missing else []
    )


def predicted(model: PredictiveModel, frame: pl.DataFrame) -> dict[str, Any]:
    """``probability``, ``score`` (1–100) and ``reason_1`` … ``reason_3`` for each row; the
    model's columns are read as text, as in the export it learnt from."""
    missing = missing_columns(model, frame.columns)
    present = [c for c in model.columns if c not in missing]
    rows = frame.select(
        *(pl.col(c).cast(pl.String) for c in present),
        *(pl.lit(None, dtype=pl.String).alias(c) for c in missing),
    )
    explanation = model.scorer.explain(rows)
    probability = model.scorer.calibrated(explanation.raw)
    phrases = reasons(explanation, rows, REASONS)
    added: dict[str, Any] = {"probability": probability.round(4), "score": scores(probability)}
    for i in range(REASONS):
        added[f"reason_{i + 1}"] = [p[i].phrase if i < len(p) else None for p in phrases]
    return added


def as_scored_columns(added: dict[str, Any]) -> dict[str, Any]:
    """``predicted``'s values under the names of a scored table (``SCORED_COLUMNS``), where the
    rules already own ``score``."""
    return {name: added["score" if name == "predictive_score" else name] for name in SCORED_COLUMNS}


def predict_frame(model: PredictiveModel, frame: pl.DataFrame) -> Predictions:
    """The rows with ``probability``, ``score`` (1–100) and ``reason_1`` … ``reason_3`` added."""
    notes = missing_note(missing_columns(model, frame.columns))
    added = predicted(model, frame)
    return Predictions(frame.with_columns(pl.Series(k, v) for k, v in added.items()), notes)


def scores(probability: np.ndarray[Any, np.dtype[np.float64]]) -> list[int]:
    """Probability as the 1–100 score sales sees."""
    return [int(s) for s in np.clip(np.rint(probability * 100), 1, 100)]


def predict_file(model_dir: Path, path: Path, out: Path, encoding: str | None = None,
                 separator: str | None = None) -> Predictions:  # fmt: skip
    model = load(model_dir)
    predictions = predict_frame(model, read_file(path, encoding, separator).frame)
    try:
        predictions.frame.write_csv(out)
    except OSError as exc:
        raise PredictiveError(f"{out}: cannot write ({exc.strerror})") from None
    return predictions
