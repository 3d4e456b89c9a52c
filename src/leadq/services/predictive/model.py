"""A trained predictive model in memory, and its probabilities as the scores sales sees.

Kept apart from training and files so that rescoring a lead needs neither scikit-learn nor
LightGBM until a model is actually loaded: every ``leadq`` command starts that much faster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from leadq.predictive.reasons import reasons
from leadq.services.errors import LeadqError

if TYPE_CHECKING:
    from leadq.predictive.scorer import LeadScorer


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


def scores(probability: np.ndarray[Any, np.dtype[np.float64]]) -> list[int]:
    """Probability as the 1–100 score sales sees."""
    return [int(s) for s in np.clip(np.rint(probability * 100), 1, 100)]


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
