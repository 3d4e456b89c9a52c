"""Real worker processes against a real, slow webhook receiver, on SQLite and PostgreSQL: no
message goes out twice without a crash, and a broken automation file stops no worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.notify.webhook import KEY_HEADER
from leadq.services.automation.document import current_automation
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import OutboxMessage
from tests.automation.documents import put_in_force
from tests.automation.receiver import Receiver, running

pytestmark = pytest.mark.slow


def _document(url: str) -> str:
    return f"""
endpoints:
  crm: {{url: "{url}"}}
rules:
  - id: tell_crm
    trigger: lead_created
    do: [{{notify: {{webhook: crm}}}}]
"""


def _arrive(db: Database, count: int, prefix: str) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        for i in range(count):
            upsert_lead(session, LeadInput(email=f"{prefix}{i}@firm.example"), "tests", now,
                        IntakePolicy())  # fmt: skip


def _outbox(db: Database) -> list[OutboxMessage]:
    with db.reading() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


def _until(done: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stopped(started: list[subprocess.Popen[bytes]]) -> str:
    assert all(w.stderr for w in started)
    return "a worker stopped: " + " | ".join(
        w.stderr.read().decode()[-800:] for w in started if w.poll() is not None and w.stderr
    )


@contextmanager
def workers(db: Database, path: Path, count: int, batch: int, lease: float,
            tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:  # fmt: skip
    env = {**os.environ, "LEADQ_DATABASE_URL": db.url, "LEADQ_AUTOMATION_FILE": str(path),
           "LEADQ_OUTBOX_LEASE_SECONDS": str(lease)}  # fmt: skip
    command = [sys.executable, "-m", "leadq", "worker", "--batch", str(batch), "--interval", "0.1"]
    started = [subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(count)]  # fmt: skip
    try:
        for worker in started:  # each has read the document before the test goes on
            assert worker.stdout and b"worker started" in worker.stdout.readline(), _stopped(
                started
            )
        yield started
    finally:
        for worker in started:
            worker.kill()
            worker.wait(timeout=10)


def test_slow_receivers_and_short_leases_deliver_each_message_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch takes longer than its lease (8 × 0.5 s against 3 s), so another worker takes
    over its last messages; the first must then neither send them nor record them."""
    with running(Receiver(delay=0.5)) as receiver:
        path = put_in_force(monkeypatch, tmp_path, _document(receiver.url))
        _arrive(db, 24, "slow")
        with workers(db, path, count=2, batch=8, lease=3.0, tmp_path=tmp_path):
            delivered = _until(lambda: {r.status for r in _outbox(db)} == {"delivered"}, 90)
            time.sleep(1.0)  # a straggler would post now
    assert delivered, "the workers did not deliver everything in 90 s"
    rows = _outbox(db)
    sent = Counter(request["headers"][KEY_HEADER] for request in receiver.requests)
    assert len(rows) == 24 and set(sent) == {row.idempotency_key for row in rows}
    assert max(sent.values()) == 1, f"sent twice: {[k for k, n in sent.items() if n > 1]}"
    assert {row.attempts for row in rows} == {1}


def test_a_broken_file_stops_no_worker_and_the_fixed_one_is_picked_up(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(Receiver()) as receiver:
        valid = _document(receiver.url)
        path = put_in_force(monkeypatch, tmp_path, valid)
        current_automation()  # this process (the intake side) read the valid file too
        with workers(db, path, count=2, batch=5, lease=5.0, tmp_path=tmp_path) as started:
            _arrive(db, 2, "before")
            assert _until(lambda: len(receiver.requests) == 2, 60)
            path.write_text(valid.replace("trigger: lead_created", "trigger: nope"))
            _arrive(db, 2, "broken")  # intake runs on the last valid document
            assert _until(lambda: len(receiver.requests) == 4, 60)
            time.sleep(1.5)
            assert [w.poll() for w in started] == [None, None], _stopped(started)
            path.write_text(valid.replace("tell_crm", "tell_crm_again"))
            _arrive(db, 1, "fixed")
            assert _until(lambda: len(receiver.requests) == 5, 60)
            assert _until(lambda: {r.status for r in _outbox(db)} == {"delivered"}, 30)
            assert [w.poll() for w in started] == [None, None], _stopped(started)
    rows = _outbox(db)
    assert rows[-1].payload["trigger"]["rule"] == "tell_crm_again"  # the fixed file is in force


def test_a_worker_refuses_to_start_on_a_file_that_never_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> None:
    path = put_in_force(monkeypatch, tmp_path, "rules: [{id: x, trigger: nope, do: []}]\n")
    env = {**os.environ, "LEADQ_DATABASE_URL": f"sqlite:///{sqlite_template}",
           "LEADQ_AUTOMATION_FILE": str(path)}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "leadq", "worker", "--once"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    assert "automation.yaml" in done.stderr + done.stdout and "trigger" in done.stderr + done.stdout
