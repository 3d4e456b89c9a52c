"""Killing the worker in the middle of a run loses no notification, sends at most the message in
flight again (same idempotency key, so the effect is applied once) and counts its attempts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.notify.webhook import KEY_HEADER
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import OutboxMessage
from tests.automation.documents import put_in_force
from tests.automation.receiver import Receiver, running

MESSAGES = 30


def test_sigkill_mid_run_loses_nothing_and_applies_each_message_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(Receiver(secret="k", delay=0.1)) as receiver:
        document = f"""
endpoints:
  crm: {{url: "{receiver.url}", secret_env: LEADQ_CRASH_SECRET}}
rules:
  - id: tell_crm
    trigger: lead_created
    do: [{{notify: {{webhook: crm}}}}]
"""
        path = put_in_force(monkeypatch, tmp_path, document)
        db = Database(f"sqlite:///{tmp_path / 'w.db'}")
        db.upgrade()
        now = datetime.now(UTC)
        with db.unit_of_work() as session:
            for i in range(MESSAGES):
                upsert_lead(session, LeadInput(email=f"l{i}@firm.example"), "tests", now,
                            IntakePolicy())  # fmt: skip
        env = {**os.environ, "LEADQ_DATABASE_URL": db.url, "LEADQ_AUTOMATION_FILE": str(path),
               "LEADQ_CRASH_SECRET": "k", "LEADQ_OUTBOX_LEASE_SECONDS": "1"}  # fmt: skip
        command = [sys.executable, "-m", "leadq", "worker", "--batch", "5", "--interval", "0.1"]
        worker = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # mid-batch: some claimed, some sent, not recorded
        worker.wait(timeout=10)
        assert 8 <= len(receiver.requests) < MESSAGES
        time.sleep(1.2)  # the dead worker's leases run out
        again = subprocess.run([*command[:-4], "--once"], env=env, cwd=tmp_path,
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        assert again.returncode == 0, again.stderr

    with db.reading() as session:
        rows = list(session.scalars(select(OutboxMessage)))
    assert len(rows) == MESSAGES and {r.status for r in rows} == {"delivered"}
    assert set(receiver.effects) == {r.idempotency_key for r in rows}  # each applied once
    assert all(r["verified"] for r in receiver.requests)
    sent = Counter(r["headers"][KEY_HEADER] for r in receiver.requests)
    assert MESSAGES <= sum(sent.values()) <= MESSAGES + 1  # at most the one in flight, again
    for row in rows:  # an attempt counts when it starts: the killed one may not have arrived
        assert sent[row.idempotency_key] <= row.attempts <= sent[row.idempotency_key] + 1
    assert sum(r.attempts for r in rows) - sum(sent.values()) <= 1
    db.dispose()
