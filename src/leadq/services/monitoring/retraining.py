"""Scheduled retraining behind a gate: train a challenger on the workspace's history, replay it
and the champion over the newest matured leads, and promote it only when it wins by the margin
without worse calibration. Every run is audited with its figures; ``leadq predictive rollback``
brings the champion back.

The challenger learns from the older three quarters of the matured leads and both models are
judged on the newest quarter, which the challenger never saw; a champion registered after those
leads arrived may have learnt from them, which only makes it harder to beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select

from leadq.config import Settings
from leadq.predictive.columns import TargetError
from leadq.predictive.history import CONVERTED
from leadq.predictive.scorer import TrainingError
from leadq.predictive.training import TrainingPlan, train
from leadq.services.errors import LeadqError
from leadq.services.predictive import model as predictive
from leadq.services.predictive import registry
from leadq.services.predictive.history import arrivals, history
from leadq.services.privacy import audit
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, PredictiveModelVersion

ACTOR = "retraining"
RETRAINED = "predictive.retrained"
HOLDOUT_SHARE = 0.25
MIN_CLASS = 5
CALIBRATION_SLACK = 0.02
BIN_LEADS = 40


class RetrainingRefused(LeadqError):
    """Nothing to retrain yet: no champion, or too few new outcomes; the reason says which."""


@dataclass(frozen=True)
class Judged:
    """A model's figures on the newest matured leads."""

    model: str
    roc_auc: float
    calibration_error: float


@dataclass
class Decision:
    champion: Judged
    challenger: Judged
    promoted: bool
    reason: str
    challenger_ref: str
    holdout: int
    conversions: int
    notes: list[str] = field(default_factory=list)


def calibration_error(y: np.ndarray, probability: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the lead-weighted gap between promised and realised
    conversion over equal-count bins of at least ``BIN_LEADS`` leads (smaller bins measure
    chance more than calibration)."""
    order = np.argsort(probability, kind="stable")
    parts = np.array_split(order, max(1, min(bins, len(order) // BIN_LEADS)))
    gaps = [abs(float(probability[p].mean()) - float(y[p].mean())) * len(p) for p in parts]
    return sum(gaps) / max(len(y), 1)


def due(db: Database, now: datetime, settings: Settings) -> bool:
    """Whether the policy asks for a run: retraining is on and its last run is old enough."""
    if settings.retrain_every_days is None:
        return False
    with db.reading() as session:
        last = session.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action == RETRAINED))
    return last is None or now - last >= timedelta(days=settings.retrain_every_days)


def retrain(db: Database, now: datetime, settings: Settings, actor: str = ACTOR) -> Decision:
    """One gated run: train, judge, promote or keep, and record it."""
    horizon = timedelta(days=settings.retrain_horizon_days)
    with db.reading() as session:
        champion = session.scalars(
            select(PredictiveModelVersion).where(PredictiveModelVersion.role == registry.CHAMPION)
        ).first()
        if champion is None:
            raise RetrainingRefused(
                "no predictive champion to challenge: train, add and activate one first"
            )
        past = history(session, horizon, now)
        converted = {p.lead_id: p.converted_at for p in arrivals(session)}
        current = registry.model_of(champion)
        champion_ref, champion_since = f"{champion.name}@{champion.version}", champion.created_at
    frame = _matured(past.frame, past.moments, converted, horizon,
                     timedelta(days=settings.monitor_maturity_days), now)  # fmt: skip
    newer = sum(past.moments[int(i)] > champion_since for i in frame["lead_id"])
    if newer < settings.retrain_min_outcomes:
        raise RetrainingRefused(
            f"{newer} leads have matured since {champion_ref} was added:"
            f" retraining waits for {settings.retrain_min_outcomes}"
        )
    cut = int(frame.height * (1 - HOLDOUT_SHARE))
    older, newest = frame[:cut], frame[cut:]
    y = newest[CONVERTED].cast(pl.Int8).to_numpy()
    if min(int(y.sum()), int(len(y) - y.sum())) < MIN_CLASS:
        raise RetrainingRefused(
            f"the newest {len(y)} matured leads hold {int(y.sum())}"
            " conversions: judging needs converted and unconverted ones"
        )
    try:
        trained = train(older, TrainingPlan(CONVERTED, id_column="lead_id"))
    except (TargetError, TrainingError) as exc:
        raise RetrainingRefused(f"the challenger could not be trained: {exc}") from None
    challenger = predictive.PredictiveModel(trained.scorer, trained.report)
    judged = [
        _judge(name, model, newest, y)
        for name, model in (("champion", current), ("challenger", challenger))
    ]
    decision = _decide(judged[0], judged[1], settings.retrain_margin)
    decision.holdout, decision.conversions = len(y), int(y.sum())
    if champion_since > min(past.moments[int(i)] for i in newest["lead_id"]):
        decision.notes.append(
            f"{champion_ref} was added after some of these leads arrived and"
            " may have learnt from them: its figures here are optimistic"
        )
    _record(db, now, actor, champion_ref, challenger, trained.report, decision, horizon)
    return decision


def _matured(frame: pl.DataFrame, moments: dict[int, datetime],
             converted: dict[int, datetime | None], horizon: timedelta, maturity: timedelta,
             now: datetime) -> pl.DataFrame:  # fmt: skip
    """The leads whose outcome has matured, oldest first, converted meaning within
    ``maturity`` of arrival for every one of them (a lead of last month has had less time to
    buy than one of last year: counting both alike would make a model look miscalibrated)."""
    ids = [int(i) for i in frame["lead_id"]]
    arrived = [moments[i] - horizon for i in ids]
    won = [str(int((c := converted.get(i)) is not None and c <= a + maturity))
           for i, a in zip(ids, arrived, strict=True)]  # fmt: skip
    ripe = [a + maturity <= now for a in arrived]
    return (frame.with_columns(pl.Series(CONVERTED, won), pl.Series("moment", arrived))
            .filter(pl.Series(ripe)).sort("moment", "lead_id").drop("moment"))  # fmt: skip


def _judge(
    name: str, model: predictive.PredictiveModel, frame: pl.DataFrame, y: np.ndarray
) -> Judged:
    probability = np.asarray(predictive.predicted(model, frame)["probability"], dtype=np.float64)
    return Judged(name, float(roc_auc_score(y, probability)), calibration_error(y, probability))


def _decide(champion: Judged, challenger: Judged, margin: float) -> Decision:
    gain = challenger.roc_auc - champion.roc_auc
    worse_calibrated = challenger.calibration_error > champion.calibration_error + CALIBRATION_SLACK
    if gain < margin:
        reason = (
            f"kept the champion: the challenger's ROC AUC {challenger.roc_auc:.3f} against"
            f" {champion.roc_auc:.3f} does not win by the margin of {margin:g}"
        )
    elif worse_calibrated:
        reason = (
            f"kept the champion: the challenger ranks better ({challenger.roc_auc:.3f}"
            f" against {champion.roc_auc:.3f}) but its calibration error"
            f" {challenger.calibration_error:.3f} is worse than"
            f" {champion.calibration_error:.3f}"
        )
    else:
        reason = (
            f"promoted the challenger: ROC AUC {challenger.roc_auc:.3f} against"
            f" {champion.roc_auc:.3f}, calibration error"
            f" {challenger.calibration_error:.3f} against {champion.calibration_error:.3f}"
        )
    promoted = gain >= margin and not worse_calibrated
    return Decision(champion, challenger, promoted, reason, "", 0, 0)


def _record(
    db: Database,
    now: datetime,
    actor: str,
    champion_ref: str,
    challenger: predictive.PredictiveModel,
    report: dict[str, Any],
    decision: Decision,
    horizon: timedelta,
) -> None:
    report["source"] = {"workspace": "retraining", "horizon_days": horizon.days}
    with db.unit_of_work() as session:
        name = champion_ref.split("@")[0]
        row = registry.add(session, challenger, name, actor, now)
        decision.challenger_ref = f"{row.name}@{row.version}"
        details = {
            "champion": champion_ref,
            "challenger": decision.challenger_ref,
            "promoted": decision.promoted,
            "reason": audit.Code(decision.reason),
            "holdout": decision.holdout,
            "conversions": decision.conversions,
            "roc_auc": {
                "champion": round(decision.champion.roc_auc, 4),
                "challenger": round(decision.challenger.roc_auc, 4),
            },
            "calibration_error": {
                "champion": round(decision.champion.calibration_error, 4),
                "challenger": round(decision.challenger.calibration_error, 4),
            },
        }
        audit.record(session, actor, RETRAINED, "predictive_model", row.id, details, now)
        if decision.promoted:
            registry.activate(session, decision.challenger_ref, actor, now)
