"""The automation commands as a user runs them, mistakes included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from leadq.services.automation.reactions import enqueue
from leadq.store.db import Database
from tests.predictive.test_predict_cli import leadq


def test_outbox_tasks_segments_and_worker_from_the_command_line(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    db.upgrade()
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        dead = enqueue(session, "email", "", {"subject": "s", "body": "b"}, now,
                       error="no e-mail address for the lead's owner (unassigned)")  # fmt: skip
        session.flush()
        dead_id = dead.id
    db.dispose()
    listed = leadq(tmp_path, "outbox", "list", "--status", "dead").stdout
    assert "no e-mail address for the lead's owner" in listed and "dead" in listed
    assert "pending again" in leadq(tmp_path, "outbox", "retry", str(dead_id)).stdout
    assert "is pending; only dead ones retry" in leadq(tmp_path, "outbox", "retry", str(dead_id),
                                                      ok=False).stderr  # fmt: skip
    assert "outbox message 999 not found" in leadq(tmp_path, "outbox", "retry", "999",
                                                   ok=False).stderr  # fmt: skip
    assert "task 5 not found" in leadq(tmp_path, "tasks", "done", "5", ok=False).stderr
    assert "Segment warm-ones saved" in leadq(tmp_path, "segments", "save", "warm-ones",
                                              "--grade", "warm").stdout  # fmt: skip
    assert "use a-z" in leadq(tmp_path, "segments", "save", "Bad Name", ok=False).stderr
    assert "segment ghost not found" in leadq(tmp_path, "segments", "members", "ghost",
                                              ok=False).stderr  # fmt: skip
    (tmp_path / "bad.yaml").write_text("rules: [{id: x, trigger: nope, do: []}]\n")
    env_bad = leadq(tmp_path, "automation", "validate", "bad.yaml", ok=False)
    assert "bad.yaml" in env_bad.stderr and "rules[0:x]" in env_bad.stderr
    assert "status: 'lost': use pending" in leadq(tmp_path, "outbox", "list", "--status", "lost",
                                    ok=False).stderr  # fmt: skip
