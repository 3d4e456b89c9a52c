"""Hot leads reach sales: assignment, a speed-to-lead task, a signed webhook that survives a
failing receiver, and an e-mail through a real SMTP server."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.config import Settings
from leadq.services.automation import outbox
from leadq.services.automation.document import current_automation
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask, Lead, OutboxMessage, SegmentMember
from tests.automation.conftest import Mailbox
from tests.automation.documents import TEAMS, put_in_force
from tests.automation.receiver import Receiver, running
from tests.integration.test_scoring_api import lead_with, use_model

SECRET = "s3cret-for-tests"


def document(url: str) -> str:
    return (
        TEAMS
        + f"""
endpoints:
  crm: {{url: "{url}", secret_env: LEADQ_TEST_HOOK_SECRET}}
segments: [hot-leads]
rules:
  - id: hot_to_sales
    trigger: grade_changed
    when: {{to: [hot]}}
    do:
      - assign: {{territory: true, round_robin: emea}}
      - task: {{kind: first_touch, due_minutes: 15}}
      - notify: {{webhook: crm}}
      - notify: {{email: owner}}
      - segment: {{add: hot-leads}}
"""
    )


def test_hot_lead_is_assigned_tasked_and_notified_once_despite_failures(
    client: TestClient, db: Database, now: datetime, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mailbox: tuple[Mailbox, int],
) -> None:  # fmt: skip
    box, smtp_port = mailbox
    monkeypatch.setenv("LEADQ_TEST_HOOK_SECRET", SECRET)
    with running(Receiver(secret=SECRET, failures=2)) as receiver:
        put_in_force(monkeypatch, tmp_path, document(receiver.url))
        use_model(client, "classic")
        lead_id = lead_with(client, "ceo@bank.example", now, webinars=2, pricing=1,
                            job_title="CEO", company_size=300, country="PL")  # fmt: skip
        with db.reading() as session:
            lead = session.get(Lead, lead_id)
            assert lead is not None and lead.grade == "hot" and lead.owner == "anna"
            task = session.scalars(select(FollowUpTask)).one()
            assert (task.owner, task.kind, task.rule) == ("anna", "first_touch", "hot_to_sales")
            assert task.due_at > task.created_at
            messages = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            assert [m.channel for m in messages] == ["webhook", "email"]
            assert messages[1].target == "anna@example.com"
            assert session.scalars(select(SegmentMember)).one().lead_id == lead_id

        settings = Settings(database_url=db.url, smtp_port=smtp_port, outbox_backoff_seconds=30)
        automation, clock = current_automation(), [datetime.now(now.tzinfo)]

        def deliver(after: float) -> outbox.Round:
            clock[0] += timedelta(seconds=after)
            return outbox.deliver_due(db, automation, settings, lambda: clock[0])

        first = deliver(0)
        assert (first.delivered, first.retried) == (1, 1)  # e-mail sent, webhook refused (503)
        assert deliver(10).handled == 0  # back-off: 30 s before the second try
        assert deliver(25).retried == 1  # second 503; next try 60 s later
        assert deliver(40).handled == 0
        assert deliver(25).delivered == 1

    assert len(receiver.requests) == 3 and all(r["verified"] for r in receiver.requests)
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1 and len(receiver.effects) == 1  # three deliveries, one effect
    (effect,) = receiver.effects.values()
    assert effect["trigger"]["rule"] == "hot_to_sales" and effect["trigger"]["event"] == (
        "lead.grade_changed"
    )
    assert effect["lead"]["id"] == lead_id and effect["lead"]["grade"] == "hot"
    assert {line["criterion"] for line in effect["lead"]["breakdown"]} >= {"decision_maker"}
    with db.reading() as session:
        webhooks = select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        hook = session.scalars(webhooks).one()
        assert (hook.status, hook.attempts) == ("delivered", 3)
        assert "HTTP 503" in (hook.last_error or "")

    (mail,) = box.messages
    assert mail["To"] == "anna@example.com" and "hot_to_sales" in mail["Subject"]
    body = mail.get_payload()
    assert "Score: 22" in body and "Decision-making position" in body and "ceo@bank.example" in body


def test_unreachable_endpoint_dead_letters_and_can_be_retried(
    client: TestClient, db: Database, now: datetime, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    put_in_force(monkeypatch, tmp_path, document(f"http://127.0.0.1:{dead_port}/hook")
                 .replace("      - notify: {email: owner}\n", ""))  # fmt: skip
    use_model(client, "classic")
    lead_with(client, "vp@bank.example", now, webinars=2, pricing=1, job_title="VP of Sales",
              company_size=300, country="PL")  # fmt: skip
    settings = Settings(database_url=db.url, outbox_max_attempts=3, outbox_backoff_seconds=1)
    automation, moment = current_automation(), datetime.now(now.tzinfo)
    for step in range(3):
        at = moment + timedelta(hours=step)
        outbox.deliver_due(db, automation, settings, lambda at=at: at)  # type: ignore[misc]
    listed = client.get("/api/v1/outbox", params={"status": "dead"}).json()
    assert len(listed) == 1 and listed[0]["attempts"] == 3
    assert "ConnectError" in listed[0]["last_error"] and str(dead_port) in listed[0]["last_error"]

    with running(Receiver()) as receiver:
        put_in_force(monkeypatch, tmp_path, document(receiver.url)
                     .replace("secret_env: LEADQ_TEST_HOOK_SECRET", "format: slack"))  # fmt: skip
        retried = client.post(f"/api/v1/outbox/{listed[0]['id']}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        assert client.post(f"/api/v1/outbox/{listed[0]['id']}/retry").status_code == 409
        later = moment + timedelta(hours=4)
        done = outbox.deliver_due(db, current_automation(), settings, lambda: later)
        assert done.delivered == 1
    (effect,) = receiver.effects.values()  # Slack's format: text and blocks
    assert effect["text"].startswith("A lead (no company): grade changed — score 22")
    assert "Decision-making position: +9" in effect["blocks"][1]["text"]["text"]
    assert client.post("/api/v1/outbox/999999/retry").status_code == 404
