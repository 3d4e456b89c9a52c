"""The workspace's predictive commands as a user runs them: train, add, activate, backtest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from leadq.store.db import Database
from tests.predictive.test_predict_cli import leadq
from tests.predictive.workspace import build_history


def test_train_register_activate_and_backtest_from_the_command_line(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    db.upgrade()
    empty = leadq(tmp_path, "train", "--out", "m", ok=False)
    assert "nothing to learn from yet" in empty.stderr
    build_history(db, datetime.now(UTC), leads=300)
    db.dispose()

    trained = leadq(tmp_path, "train", "--out", "m", "--horizon-days", "7")
    assert "ROC AUC" in trained.stdout and (tmp_path / "m" / "report.html").is_file()
    assert "buyers@1" in leadq(tmp_path, "predictive", "add", "m", "--name", "buyers").stdout
    assert "is now the champion" in leadq(tmp_path, "predictive", "activate", "buyers").stdout
    listed = leadq(tmp_path, "predictive", "list").stdout
    assert "buyers@1" in listed and "champion" in listed
    arms = leadq(tmp_path, "predictive", "arms").stdout
    assert "buyers@1" in arms and "champion" in arms

    compared = leadq(tmp_path, "backtest", "--model", "classic", "--model", "buyers",
                     "--capacity", "40").stdout  # fmt: skip
    assert "classic (classic@0)" in compared or "classic" in compared.split("\n")[2]
    assert "buyers" in compared and "ROC AUC" in compared
    assert "conversions caught calling the top 40" in compared
    assert "by grade" in compared  # the rules model's conversion by grade


def test_predictive_commands_refuse_mistakes_in_one_line(tmp_path: Path) -> None:
    Database(f"sqlite:///{tmp_path / 'w.db'}").upgrade()
    cases = [
        (["predictive", "activate", "ghost"], "predictive model ghost not found"),
        (["predictive", "rollback"], "no earlier champion"),
        (["predictive", "add", "nowhere"], "not a model directory"),
        (["predictive", "activate", "ghost", "--challenger-share", "90"], "90"),
        (["backtest", "--model", "classic", "--capacity", "lots"], "--capacity 'lots'"),
        (["backtest", "--model", "classic"], "a backtest needs converted and unconverted"),
        (["train", "--out", "m", "--target", "Converted"], "--target names a column of --csv"),
    ]
    for args, reason in cases:
        result = leadq(tmp_path, *args, ok=False)
        assert reason in result.stderr, (args, result.stderr)
