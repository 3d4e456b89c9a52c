"""Drift and calibration checks: a planted shift raises one alarm naming what moved; a steady
period raises none; the alarm reaches the audit log, the outbox and the next run stays quiet."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadq.config import Settings
from leadq.predictive.history import CONVERTED
from leadq.predictive.training import TrainingPlan, train
from leadq.services.monitoring import runs
from leadq.services.predictive import registry
from leadq.services.predictive.history import history
from leadq.services.predictive.model import PredictiveModel
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Lead, ModelCheck, OutboxMessage
from tests.cli import invoke
from tests.predictive.workspace import TITLES, build_history
from tests.tuning.watched import RECENT_DAYS, build


def _settings(db: Database) -> Settings:
    return Settings(database_url=db.url, monitor_window_days=RECENT_DAYS,
                    monitor_webhook="ops", monitor_email="ops@example.com")  # fmt: skip


def _breached(run: runs.Run) -> set[str]:
    return {f.key for report in run.reports for f in report.findings if f.breached}


FLOOD = ("flood", {"score:", "grade:", "column:company_size"}, set[str]())


@pytest.mark.parametrize(("db", "shift", "named", "untouched"), [
    ("sqlite", *FLOOD), ("postgresql", *FLOOD),  # the other shifts read the same on both
    ("sqlite", "meaning", {"column:industry"}, {"column:company_size"}),
    ("sqlite", "calibration", {"calibration:grade"},
     {"score:", "column:industry", "column:company_size"}),
], indirect=["db"])  # fmt: skip
def test_a_planted_shift_raises_one_alarm_naming_what_moved(
    db: Database, now: datetime, shift: str, named: set[str], untouched: set[str]
) -> None:
    model = build(db, now, shift)
    settings = _settings(db)
    run = runs.monitor(db, now, settings)
    raised = {f.key for f in run.alarms[model]}
    assert named <= raised and not untouched & _breached(run), raised
    said = " ".join(runs.describe(f) for f in run.alarms[model])
    for key in named - {"score:", "grade:"}:
        assert key.split(":")[1] in said
    again = runs.monitor(db, now + timedelta(hours=24), settings)
    assert not again.alarms and named <= _breached(again), "still breached, not raised twice"
    with db.reading() as session:
        alarms = session.scalars(select(AuditEntry).where(AuditEntry.action == runs.ALARM)).all()
        sent = session.scalars(select(OutboxMessage.channel).order_by(OutboxMessage.channel)).all()
        runs_kept = session.scalar(select(func.count(func.distinct(ModelCheck.run_at))))
    assert len(alarms) == 1 and alarms[0].entity_id == model
    assert sent == ["email", "webhook"] and runs_kept == 2


def test_a_steady_period_raises_nothing(db: Database, now: datetime, tmp_path: Path) -> None:
    model = build(db, now, "none")
    env = {"LEADQ_DATABASE_URL": db.url, "LEADQ_MONITOR_WINDOW_DAYS": str(RECENT_DAYS)}
    shown = invoke(tmp_path, ["monitor"], env)
    assert shown.returncode == 0, shown.stderr
    assert model in shown.stdout and "ALARM" not in shown.stdout and "breached" not in shown.stdout
    with db.reading() as session:
        checks = session.scalars(select(ModelCheck)).all()
        alarms = session.scalar(select(func.count()).where(AuditEntry.action == runs.ALARM))
    kinds = {f"{c.kind}:{c.subject or ''}" for c in checks}
    assert {"score:", "grade:", "column:company_size", "column:industry",
            "calibration:grade"} <= kinds  # fmt: skip
    assert not any(c.breached for c in checks) and alarms == 0


def test_monitor_settings_refuse_nonsense(tmp_path: Path, db: Database) -> None:
    for name, value in [("LEADQ_MONITOR_PSI", "-1"), ("LEADQ_MONITOR_WINDOW_DAYS", "0"),
                        ("LEADQ_MONITOR_EMAIL", "not an address"),
                        ("LEADQ_MONITOR_WEBHOOK", "a/b"),
                        ("LEADQ_MONITOR_PSI", "nan")]:  # fmt: skip
        refused = invoke(tmp_path, ["monitor"], {"LEADQ_DATABASE_URL": db.url, name: value})
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert name.removeprefix("LEADQ_").lower() in refused.stderr.lower(), refused.stderr


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the reading is the same on both
def test_a_predictive_champion_is_checked_column_by_column(db: Database, now: datetime) -> None:
    """A champion trained on the history, live for 60 days; last week's leads arrive with
    their industry written as codes: the alarm names that column, not the steady ones."""
    build_history(db, now - timedelta(days=14), leads=500)
    with db.reading() as session:
        frame = history(session, timedelta(days=7), now - timedelta(days=60)).frame
    trained = train(frame, TrainingPlan(CONVERTED, id_column="lead_id"))
    back = now - timedelta(days=60)
    with db.unit_of_work() as session:
        registry.add(session, PredictiveModel(trained.scorer, trained.report), "buyers", "t", back)
        registry.activate(session, "buyers@1", "t", back)
    assert "industry" in PredictiveModel(trained.scorer, trained.report).columns
    rng = random.Random(5)
    with db.unit_of_work() as session:
        for i in range(90):
            arrived = now - timedelta(days=rng.uniform(0.5, 6.5))
            session.add(Lead(email=f"new{i}@co{i}.example", first_name="N",
                             industry=rng.choice(["62.01", "64.19", "47.11", "85.59"]),
                             job_title=rng.choice(TITLES), company_size=rng.randint(5, 900),
                             source=rng.choice(["website", "referral", "paid_search"]),
                             created_at=arrived, updated_at=arrived))  # fmt: skip
    run = runs.monitor(db, now, Settings(database_url=db.url))
    (report,) = [r for r in run.reports if r.kind == "predictive"]
    breached = {f.key for f in report.findings if f.breached}
    assert "column:industry" in breached and "column:source" not in breached, breached
    assert {"column:industry"} <= {f.key for f in run.alarms["buyers@1"]}
    assert any(f.kind == "calibration" and f.subject == "decile" for f in report.findings)
