"""Automation respects consent: no nurture track and no e-mail to the lead without an explicit
marketing_email grant or under Do Not Email; no call task under Do Not Call; no follow-up at all
once sales_contact is withdrawn. Staff still hear about the lead. Every refusal is audited."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.store.db import Database
from leadq.store.tables import AuditEntry, FollowUpTask, Lead, OutboxMessage
from tests.automation.documents import put_in_force
from tests.consent.conftest import record

API = "/api/v1"
SELF = "ewa@hurtownia.example"
RULES = f"""
endpoints:
  mailer: {{url: "http://127.0.0.1:9/nurture"}}
  crm: {{url: "http://127.0.0.1:9/crm"}}
tracks:
  cold: {{content: [guide, ebook], webhook: mailer}}
rules:
  - id: welcome
    trigger: lead_created
    do:
      - nurture: cold
      - notify: {{email: {SELF}}}
      - notify: {{email: sales@acme.example}}
      - notify: {{webhook: crm}}
      - task: {{kind: call, due_minutes: 60, working_hours: false}}
      - task: {{kind: first_touch, due_minutes: 60, working_hours: false}}
"""


@pytest.fixture(autouse=True)
def rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    put_in_force(monkeypatch, tmp_path, RULES)


def arrive(client: TestClient, **more: Any) -> int:
    created = client.post(f"{API}/leads", json={"email": SELF, "first_name": "Ewa", **more})
    assert created.status_code == 201, created.text
    lead_id: int = created.json()["id"]
    return lead_id


def effects(db: Database, lead_id: int) -> dict[str, Any]:
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        outbox = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        tasks = session.scalars(select(FollowUpTask.kind).where(FollowUpTask.lead_id == lead_id))
        skipped = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "automation.skipped").order_by(AuditEntry.id))  # fmt: skip
        return {"track": lead.nurture_track,
                "sent": sorted((m.channel, m.target) for m in outbox),
                "payloads": [m.payload for m in outbox],
                "tasks": sorted(tasks),
                "skipped": [(e.entity_id, e.details) for e in skipped]}  # fmt: skip


STAFF = [("email", "sales@acme.example"), ("webhook", "crm")]


def test_with_consent_the_lead_is_nurtured_and_emailed(client: TestClient, db: Database,
                                                       now: datetime) -> None:  # fmt: skip
    lead_id = arrive(client, consents=[record("marketing_email", True, now)])
    found = effects(db, lead_id)
    assert found["track"] == "cold"
    assert found["sent"] == sorted([*STAFF, ("email", SELF), ("webhook", "mailer")])
    assert found["tasks"] == ["call", "first_touch"] and found["skipped"] == []
    started = next(p for p in found["payloads"] if p.get("track") == "cold")
    assert started["trigger"]["event"] == "nurture.started"
    crm = next(p for p in found["payloads"] if "lead" in p and "track" not in p)
    assert crm["lead"]["may_email"] is True and crm["lead"]["consents"] == {
        "marketing_email": True,
        "profiling": None,
        "sales_contact": None,
    }


@pytest.mark.parametrize(("intake", "reason"), [
    ({}, "no marketing_email consent"),
    ({"consents": [{"purpose": "marketing_email", "granted": False, "source": "form"}]},
     "marketing_email withdrawn"),
    ({"consents": [{"purpose": "marketing_email", "granted": True, "source": "form"}],
      "do_not_email": True}, "do_not_email"),
])  # fmt: skip
def test_without_consent_no_nurture_and_no_email_to_the_lead(
    client: TestClient, db: Database, now: datetime, intake: dict[str, Any], reason: str
) -> None:
    for consent in intake.get("consents", []):
        consent["at"] = now.isoformat()
    lead_id = arrive(client, **intake)
    found = effects(db, lead_id)
    assert found["track"] is None
    assert found["sent"] == sorted(STAFF)  # staff still hear about the lead
    assert found["skipped"] == [
        (str(lead_id), {"rule": "welcome", "action": "nurture", "reason": reason}),
        (str(lead_id), {"rule": "welcome", "action": "notify", "reason": reason})]  # fmt: skip
    assert SELF not in str(found["skipped"])
    with db.reading() as session:
        member = session.execute(select(Lead.id).where(Lead.nurture_track.is_not(None))).first()
    assert member is None


@pytest.mark.parametrize(("intake", "tasks", "reason"), [
    ({"do_not_call": True}, ["first_touch"], "do_not_call"),
    ({"consents": [{"purpose": "sales_contact", "granted": False, "source": "call"}]}, [],
     "sales_contact withdrawn"),
])  # fmt: skip
def test_follow_up_tasks_respect_do_not_call_and_sales_contact(
    client: TestClient,
    db: Database,
    now: datetime,
    intake: dict[str, Any],
    tasks: list[str],
    reason: str,
) -> None:
    for consent in intake.get("consents", []):
        consent["at"] = now.isoformat()
    lead_id = arrive(client, **intake)
    found = effects(db, lead_id)
    assert found["tasks"] == tasks
    refused = [d for _, d in found["skipped"] if d["action"] == "task"]
    assert refused == [{"rule": "welcome", "action": "task", "reason": reason}] * (2 - len(tasks))


def test_a_later_withdrawal_stops_the_nurture_and_tells_the_mailer(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = arrive(client, consents=[record("marketing_email", True, now)])
    assert effects(db, lead_id)["track"] == "cold"
    withdrawn = client.post(f"{API}/leads/{lead_id}/consents",
                            json={"consent": record("marketing_email", False, now,
                                                    "unsubscribe link")})  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    found = effects(db, lead_id)
    assert found["track"] is None
    stop = found["payloads"][-1]
    assert stop["trigger"]["event"] == "nurture.stopped"
    assert stop["trigger"]["reason"] == "marketing_email withdrawn"
    assert stop["lead"] == {"id": lead_id, "email": SELF} and stop["track"] == "cold"
    assert client.get(f"{API}/segments/nurture-cold/leads").json() == []
