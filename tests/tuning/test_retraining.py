"""Retraining behind a gate: a challenger that does not win is kept out, one that wins by the
margin is promoted, rollback brings the champion back, and every run is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from leadq.config import Settings
from leadq.predictive.history import CONVERTED
from leadq.predictive.training import TrainingPlan, train
from leadq.services.monitoring import retraining
from leadq.services.predictive import registry
from leadq.services.predictive.history import history
from leadq.services.predictive.model import PredictiveModel
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, PredictiveModelVersion
from tests.cli import invoke
from tests.predictive.workspace import build_history

HORIZON = timedelta(days=7)


def _champion(db: Database, now: datetime, shuffled: bool) -> str:
    """A champion trained on the whole history (or on its outcomes shuffled: a model that
    learnt nothing), added and made champion 60 days ago."""
    with db.reading() as session:
        frame = history(session, HORIZON, now).frame
    if shuffled:
        frame = frame.with_columns(pl.col(CONVERTED).shuffle(seed=3))
    trained = train(frame, TrainingPlan(CONVERTED, id_column="lead_id"))
    back = now - timedelta(days=60)
    with db.unit_of_work() as session:
        row = registry.add(session, PredictiveModel(trained.scorer, trained.report), "buyers",
                           "tests", back)  # fmt: skip
        registry.activate(session, f"buyers@{row.version}", "tests", back)
        return f"buyers@{row.version}"


def _champion_now(db: Database) -> str:
    with db.reading() as session:
        row = session.scalars(select(PredictiveModelVersion).where(
            PredictiveModelVersion.role == registry.CHAMPION)).one()  # fmt: skip
        return f"{row.name}@{row.version}"


def test_the_gate_keeps_a_challenger_that_does_not_win_and_promotes_one_that_does(
    db: Database, now: datetime, tmp_path: Path
) -> None:
    build_history(db, now, leads=400)
    settings = Settings(database_url=db.url, retrain_min_outcomes=30)
    env = {"LEADQ_DATABASE_URL": db.url, "LEADQ_RETRAIN_MIN_OUTCOMES": "30"}
    strong = _champion(db, now, shuffled=False)
    kept = invoke(tmp_path, ["retrain"], env)
    assert kept.returncode == 0, kept.stderr
    assert "Kept the champion" in kept.stdout and _champion_now(db) == strong
    weak = _champion(db, now, shuffled=True)
    decision = retraining.retrain(db, now, settings)
    assert decision.promoted, decision.reason
    assert decision.challenger.roc_auc >= decision.champion.roc_auc + settings.retrain_margin
    assert _champion_now(db) == decision.challenger_ref != weak
    with pytest.raises(retraining.RetrainingRefused, match="waits for 30"):
        retraining.retrain(db, now, settings)  # the new champion has seen nothing mature yet
    rolled = invoke(tmp_path, ["predictive", "rollback"], env)
    assert rolled.returncode == 0, rolled.stderr
    assert _champion_now(db) == weak
    with db.reading() as session:
        runs = session.scalars(select(AuditEntry).where(AuditEntry.action == retraining.RETRAINED)
                               .order_by(AuditEntry.id)).all()  # fmt: skip
    assert [r.details["promoted"] for r in runs] == [False, True]
    assert runs[0].details["champion"] == strong and runs[1].details["champion"] == weak
    assert "does not win by the margin" in runs[0].details["reason"]


def test_the_policy_says_when_a_run_is_due_and_nothing_runs_without_a_champion(
    db: Database, now: datetime, tmp_path: Path
) -> None:
    off = Settings(database_url=db.url)
    every = Settings(database_url=db.url, retrain_every_days=14)
    assert not retraining.due(db, now, off) and retraining.due(db, now, every)
    with pytest.raises(retraining.RetrainingRefused, match="no predictive champion"):
        retraining.retrain(db, now, every)
    refused = invoke(tmp_path, ["retrain"], {"LEADQ_DATABASE_URL": db.url})
    assert refused.returncode != 0 and "no predictive champion" in refused.stderr
    assert "Traceback" not in refused.stderr
    policy = {"LEADQ_DATABASE_URL": db.url, "LEADQ_RETRAIN_EVERY_DAYS": "14"}
    worked = invoke(tmp_path, ["worker", "--once"], policy)
    assert worked.returncode == 0, worked.stderr
    assert "retraining: RetrainingRefused: no predictive champion" in worked.stderr
    for name, value in [("LEADQ_RETRAIN_MARGIN", "-0.1"), ("LEADQ_RETRAIN_EVERY_DAYS", "0"),
                        ("LEADQ_RETRAIN_MIN_OUTCOMES", "lots")]:  # fmt: skip
        bad = invoke(tmp_path, ["retrain"], {"LEADQ_DATABASE_URL": db.url, name: value})
        assert bad.returncode != 0 and name.removeprefix("LEADQ_").lower() in bad.stderr.lower()
