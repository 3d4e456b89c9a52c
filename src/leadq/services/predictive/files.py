"""Predictive models as files: train on an export, write the model directory, score a file."""

from __future__ import annotations

import json
import resource
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from leadq.config import get_settings
from leadq.predictive.columns import TargetError
from leadq.predictive.exports import Export, ExportError, read_export
from leadq.predictive.history import CONVERTED
from leadq.predictive.report_page import render
from leadq.predictive.scorer import LeadScorer, TrainingError
from leadq.predictive.training import Trained, TrainingPlan, train
from leadq.services.predictive.history import history
from leadq.services.predictive.model import (
    REASONS,
    SCORED_COLUMNS,
    Predictions,
    PredictiveError,
    PredictiveModel,
    as_scored_columns,
    missing_columns,
    missing_note,
    predict_frame,
    predicted,
    scores,
)
from leadq.store.db import Database

__all__ = [  # the model in use lives in .model; this module adds files and training
    "MODEL_FILE",
    "REASONS",
    "REPORT_HTML",
    "REPORT_JSON",
    "SCORED_COLUMNS",
    "Predictions",
    "PredictiveError",
    "PredictiveModel",
    "as_scored_columns",
    "load",
    "missing_columns",
    "missing_note",
    "predict_file",
    "predict_frame",
    "predicted",
    "read_file",
    "save",
    "scores",
    "train_file",
    "train_workspace",
]

MODEL_FILE = "model.joblib"
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


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
    import joblib  # loads scikit-learn's helpers: only when a model is read or written

    joblib.dump(model.scorer, out_dir / MODEL_FILE)
    (out_dir / REPORT_JSON).write_text(json.dumps(model.report, indent=2), encoding="utf-8")
    lang = get_settings().language()  # report.html is read in the workspace's language
    (out_dir / REPORT_HTML).write_text(render(model.report, lang), encoding="utf-8")


def load(model_dir: Path) -> PredictiveModel:
    """A model directory written by ``leadq train`` (it holds code: load only your own)."""
    files = model_dir / MODEL_FILE, model_dir / REPORT_JSON
    if not all(f.is_file() for f in files):
        raise PredictiveError(f"{model_dir}: not a model directory (no {MODEL_FILE} and"
                              f" {REPORT_JSON}); train one with 'leadq train'")  # fmt: skip
    try:
        import joblib  # loads scikit-learn's helpers: only when a model is read or written

        scorer = joblib.load(files[0])
        report = json.loads(files[1].read_text(encoding="utf-8"))
    except Exception as exc:  # a damaged or foreign file: say so instead of a traceback
        raise PredictiveError(f"{model_dir}: cannot read the model ({exc})") from None
    if not isinstance(scorer, LeadScorer) or not isinstance(report, dict):
        raise PredictiveError(f"{model_dir}: {MODEL_FILE} is not a leadq model")
    return PredictiveModel(scorer, report)


def predict_file(model_dir: Path, path: Path, out: Path, encoding: str | None = None,
                 separator: str | None = None) -> Predictions:  # fmt: skip
    model = load(model_dir)
    predictions = predict_frame(model, read_file(path, encoding, separator).frame)
    try:
        predictions.frame.write_csv(out)
    except OSError as exc:
        raise PredictiveError(f"{out}: cannot write ({exc.strerror})") from None
    return predictions
