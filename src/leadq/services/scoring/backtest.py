"""Backtests: replay scoring models over the workspace's past leads before switching one on.

Every contender sees the same leads as of the same moment (arrival + N days) and nothing after,
so a rules model and a predictive model are compared on equal terms: ROC AUC, conversion by grade
and by decile, and how many conversions a team with a given capacity would have caught.
Overrides are people's corrections, not a model's judgement: backtests leave them out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.scoring.evaluate import EventFact, ScoreCard, evaluate
from leadq.domain.scoring.model import ScoringModel
from leadq.predictive import evaluation
from leadq.predictive.columns import TargetError
from leadq.predictive.training import TrainingPlan, target_of
from leadq.services.errors import LeadqError, NotFound
from leadq.services.predictive import files as predictive
from leadq.services.predictive import registry
from leadq.services.predictive.history import History, history
from leadq.services.scoring import documents
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Event, Lead


class BacktestError(LeadqError):
    """A backtest that cannot run: no history yet, an unknown model, a bad capacity."""


@dataclass(frozen=True)
class Capacity:
    """How many leads sales can work: a count, or a share of all leads."""

    leads: int | None = None
    share: float | None = None

    @classmethod
    def parse(cls, text: str) -> Capacity:
        value = text.strip()
        try:
            if value.endswith("%"):
                share = float(value[:-1]) / 100
                if 0 < share <= 1:
                    return cls(share=share)
            elif int(value) > 0:
                return cls(leads=int(value))
        except ValueError:
            pass
        raise BacktestError(f"--capacity {text!r}: give a number of leads (40) or a share (20%)")

    def calls(self, total: int) -> int:
        wanted = self.leads if self.leads is not None else round(total * (self.share or 0))
        return max(1, min(total, wanted))


@dataclass
class Result:
    """One contender's figures on the shared history."""

    model: str
    kind: str
    roc_auc: float
    captured: float
    calls: int
    deciles: list[dict[str, float]]
    by_grade: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Backtest:
    leads: int
    conversions: int
    horizon_days: int | None
    results: list[Result]


def run(db: Database, references: Sequence[str | ScoringModel], horizon: timedelta,
        capacity: Capacity, now: datetime) -> Backtest:  # fmt: skip
    """Each contender, named or a draft document not stored yet, over the same history."""
    with db.reading() as session:
        past = history(session, horizon, now)
        ids = [int(i) for i in past.frame["lead_id"]]
        y = np.array([past.outcomes[i] for i in ids], dtype=np.int8)
        if len(np.unique(y)) < 2:
            raise BacktestError(
                f"{len(y)} leads have a known outcome {horizon.days} days after arrival:"
                " a backtest needs converted and unconverted ones"
            )
        results = [_contender(session, ref, past, ids, y, capacity) for ref in references]
    return Backtest(len(y), int(y.sum()), horizon.days, results)


def run_file(references: list[str], path: Path, plan: TrainingPlan, capacity: Capacity,
             encoding: str | None = None) -> Backtest:  # fmt: skip
    """Predictive model directories replayed over an export that has an outcome column."""
    export = predictive.read_file(path, encoding)
    try:
        rows, y, _ = target_of(export.frame, plan)
    except TargetError as exc:
        raise BacktestError(f"{path}: {exc}") from None
    results = []
    for reference in references:
        if not Path(reference).is_dir():
            raise BacktestError(f"--model {reference!r}: over a file, give model directories"
                                " (rules models replay the workspace's history)")  # fmt: skip
        model = predictive.load(Path(reference))
        result = _predictive(reference, model, History(rows, {}, {}), y, capacity)
        if model.report.get("source", {}).get("file") == path.name:
            result.warnings.append(f"trained on {path.name}: its figures here are in-sample")
        results.append(result)
    return Backtest(len(y), int(y.sum()), None, results)


def _contender(session: Session, reference: str | ScoringModel, past: History, ids: list[int],
               y: np.ndarray[Any, np.dtype[np.int8]], capacity: Capacity) -> Result:  # fmt: skip
    if isinstance(reference, ScoringModel):
        return _rules(session, "draft", reference, past, ids, y, capacity)
    if Path(reference).is_dir():
        return _predictive(reference, predictive.load(Path(reference)), past, y, capacity)
    try:
        row = registry.find(session, reference)
        return _predictive(reference, registry.model_of(row), past, y, capacity)
    except NotFound:
        pass
    try:
        model = scoring.model_of(scoring.find_version(session, reference))
    except NotFound:
        model, _ = documents.read_model(reference)
    return _rules(session, reference, model, past, ids, y, capacity)


def _figures(model: str, kind: str, scores: np.ndarray[Any, np.dtype[np.float64]],
             y: np.ndarray[Any, np.dtype[np.int8]], capacity: Capacity) -> Result:  # fmt: skip
    calls = capacity.calls(len(y))
    return Result(model, kind, float(roc_auc_score(y, scores)),
                  evaluation.captured(y, scores, calls / len(y)), calls,
                  evaluation.deciles(y, scores))  # fmt: skip


def _predictive(reference: str, model: predictive.PredictiveModel, past: History,
                y: np.ndarray[Any, np.dtype[np.int8]], capacity: Capacity) -> Result:  # fmt: skip
    predictions = predictive.predict_frame(model, past.frame)
    probability = predictions.frame["probability"].to_numpy().astype(np.float64)
    result = _figures(reference, "predictive", probability, y, capacity)
    result.warnings = predictions.warnings
    if "workspace" in model.report.get("source", {}):
        result.warnings.append("trained on this workspace's history: these leads were in its"
                               " training set, so its figures here are optimistic; its report's"
                               " out-of-fold figures are the fair ones")  # fmt: skip
    return result


def _rules(session: Session, reference: str, model: ScoringModel, past: History, ids: list[int],
           y: np.ndarray[Any, np.dtype[np.int8]], capacity: Capacity) -> Result:  # fmt: skip
    cards = replay(session, model, past.moments, ids)
    scores = np.array([card.score for card in cards], dtype=np.float64)
    result = _figures(f"{reference} ({model.ref})", "rules", scores, y, capacity)
    result.by_grade = _by_grade([card.grade for card in cards], y, list(model.grades))
    return result


def replay(session: Session, model: ScoringModel, moments: dict[int, datetime],
           ids: list[int]) -> list[ScoreCard]:  # fmt: skip
    """Each lead's score card as ``model`` would have made it at the lead's own moment."""
    facts = events_until(session, ids, moments)
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    return [evaluate(model, scoring.lead_facts(leads[i]), facts[i], moments[i]) for i in ids]


def events_until(session: Session, ids: list[int],
                 moments: dict[int, datetime]) -> dict[int, list[EventFact]]:  # fmt: skip
    """Each lead's events up to its own moment, as the scoring engine takes them."""
    found: dict[int, list[EventFact]] = defaultdict(list)
    query = select(Event.lead_id, Event.type, Event.occurred_at, Event.properties, Event.channel)
    for lead_id, kind, at, properties, channel in session.execute(
        query.where(Event.lead_id.in_(ids))
    ):
        if at <= moments[lead_id]:
            found[lead_id].append(EventFact(kind, at, properties or {}, channel))
    return found


def _by_grade(grades: list[str], y: np.ndarray[Any, np.dtype[np.int8]],
              order: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for grade in reversed(order):
        mask = np.array([g == grade for g in grades])
        leads = int(mask.sum())
        conversions = int(y[mask].sum()) if leads else 0
        rows.append({"grade": grade, "leads": leads, "conversions": conversions,
                     "conversion_rate": conversions / leads if leads else 0.0})  # fmt: skip
    return rows
