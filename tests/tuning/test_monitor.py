"""Drift and calibration checks: a planted shift raises one alarm naming what moved; a steady
period raises none; the alarm reaches the audit log, the outbox and the next run stays quiet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadq.config import Settings
from leadq.services.monitoring import runs
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, ModelCheck, OutboxMessage
from tests.cli import invoke
from tests.tuning.watched import RECENT_DAYS, build


def _settings(db: Database) -> Settings:
    return Settings(database_url=db.url, monitor_window_days=RECENT_DAYS,
                    monitor_webhook="ops", monitor_email="ops@example.com")  # fmt: skip


def _breached(run: runs.Run) -> set[str]:
    return {f.key for report in run.reports for f in report.findings if f.breached}


@pytest.mark.parametrize(("shift", "named", "untouched"), [
    ("flood", {"score:", "grade:", "column:company_size"}, set()),
    ("meaning", {"column:industry"}, {"column:company_size"}),
    ("calibration", {"calibration:grade"}, {"score:", "column:industry", "column:company_size"}),
])  # fmt: skip
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
