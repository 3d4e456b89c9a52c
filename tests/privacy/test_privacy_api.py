"""The privacy endpoints refuse bad requests with the field and the reason, store nothing
then, and answer only admin keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.services.people.apikeys import create_key
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Lead

API = "/api/v1"
HOSTILE = ["'; DROP TABLE leads; --", "<script>alert(1)</script>", "\u202eevil",
           "{{7*7}}", "../../etc/passwd", "Jan Kowalski, jan@acme.example"]  # fmt: skip


def new_lead(client: TestClient, email: str = "kim@acme.example") -> int:
    response = client.post(f"{API}/leads", json={"email": email, "first_name": "Kim"})
    assert response.status_code == 201, response.text
    lead_id: int = response.json()["id"]
    return lead_id


def erased(db: Database) -> list[int]:
    with db.reading() as session:
        return list(session.scalars(select(Lead.id).where(Lead.erased_at.is_not(None))))


def errors(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": 5}, "reason"),
    ({"reason": ["x"]}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"why": "x"}, "why"),
    ([], "body"),
])  # fmt: skip
def test_bad_erase_bodies_are_refused_and_erase_nothing(
    client: TestClient, db: Database, body: Any, field: str
) -> None:
    lead_id = new_lead(client)
    response = client.post(f"{API}/leads/{lead_id}/erase", json=body)
    assert response.status_code == 422, response.text
    assert field in errors(response)
    assert erased(db) == []


def test_malformed_json_is_a_400(client: TestClient, db: Database) -> None:
    lead_id = new_lead(client)
    for path in (f"/leads/{lead_id}/erase", "/privacy/retain"):
        response = client.post(f"{API}{path}", content=b'{"reason": ',
                               headers={"Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 400 and errors(response) == ["body"], path
    assert erased(db) == []


@pytest.mark.parametrize("lead_id", ["0", "-1", "abc", "1.5", "99999999999999999999", "%00"])
def test_malformed_lead_ids_are_refused(client: TestClient, lead_id: str) -> None:
    for method, path in (("GET", "export"), ("POST", "erase")):
        response = client.request(method, f"{API}/leads/{lead_id}/{path}")
        assert response.status_code == 422, (lead_id, response.text)
        assert errors(response) in (["lead_id"], ["path"])  # NUL is refused at the door


def test_a_lead_that_does_not_exist_is_404(client: TestClient) -> None:
    for method, path in (("GET", "export"), ("POST", "erase")):
        response = client.request(method, f"{API}/leads/424242/{path}")
        assert response.status_code == 404 and errors(response) == ["lead_id"]


def test_hostile_reasons_are_accepted_and_stored_nowhere(client: TestClient, db: Database) -> None:
    for index, reason in enumerate(HOSTILE):
        lead_id = new_lead(client, f"h{index}@acme.example")
        response = client.post(f"{API}/leads/{lead_id}/erase", json={"reason": reason})
        assert response.status_code == 200, response.text
        assert response.json()["erased"] is True
    with db.reading() as session:
        details = [e.details for e in session.scalars(select(AuditEntry))]
    assert all(reason not in str(details) for reason in HOSTILE)
    assert len(erased(db)) == len(HOSTILE)
    unstorable = client.post(f"{API}/leads/{new_lead(client, 'n@acme.example')}/erase",
                             json={"reason": "\x00nul"})  # fmt: skip
    assert unstorable.status_code == 422 and errors(unstorable) == ["reason"]


def test_an_empty_erase_body_is_fine(client: TestClient, db: Database) -> None:
    lead_id = new_lead(client)
    response = client.post(f"{API}/leads/{lead_id}/erase")
    assert response.status_code == 200 and response.json()["erased"] is True
    exported = client.get(f"{API}/leads/{lead_id}/export").json()
    assert exported["profile"]["email"] is None and exported["profile"]["erased_at"]


@pytest.mark.parametrize(("body", "field"), [
    ({"inactive_months": -1}, "inactive_months"),
    ({"inactive_months": 0}, "inactive_months"),
    ({"event_months": 1201}, "event_months"),
    ({"inactive_months": "12"}, "inactive_months"),
    ({"inactive_months": 1.5}, "inactive_months"),
    ({"event_months": True}, "event_months"),
    ({"dry_run": "yes"}, "dry_run"),
    ({"include_customers": 1}, "include_customers"),
    ({"inactive_months": 12, "delete_everything": True}, "delete_everything"),
])  # fmt: skip
def test_bad_retention_requests_are_refused(
    client: TestClient, db: Database, body: dict[str, Any], field: str
) -> None:
    new_lead(client)
    response = client.post(f"{API}/privacy/retain", json=body)
    assert response.status_code == 422, response.text
    assert field in errors(response)
    assert erased(db) == []


def test_retention_over_http_uses_settings_and_overrides(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    with db.unit_of_work() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        lead.created_at = now - timedelta(days=400)  # 13 months: within the default 24
    defaults = client.post(f"{API}/privacy/retain", json={"dry_run": True}).json()
    assert (defaults["leads"], defaults["events_before"]) == (0, None)
    planned = client.post(f"{API}/privacy/retain",
                          json={"inactive_months": 12, "dry_run": True}).json()  # fmt: skip
    assert planned["lead_ids"] == [lead_id] and planned["dry_run"] is True
    assert erased(db) == []
    off = client.post(f"{API}/privacy/retain", json={"inactive_months": None, "event_months": 1})
    assert off.status_code == 200 and off.json()["leads"] == 0
    done = client.post(f"{API}/privacy/retain", json={"inactive_months": 12}).json()
    assert done["lead_ids"] == [lead_id] and erased(db) == [lead_id]


@pytest.mark.parametrize("role", ["rep", "marketing", "manager"])
def test_only_admins_may_export_erase_or_retain(
    client: TestClient, db: Database, now: datetime, role: str
) -> None:
    lead_id = new_lead(client)
    with db.unit_of_work() as session:
        token, _ = create_key(session, f"someone-{role}", now, role)
    other = {"Authorization": f"Bearer {token}"}
    calls = [("GET", f"/leads/{lead_id}/export"), ("POST", f"/leads/{lead_id}/erase"),
             ("POST", "/privacy/retain")]  # fmt: skip
    for method, path in calls:
        response = client.request(method, f"{API}{path}", json={}, headers=other)
        assert response.status_code == 403, (method, path, response.text)
    assert erased(db) == []
    with db.reading() as session:
        exports = select(AuditEntry.id).where(AuditEntry.action == "lead.exported")
        assert session.scalars(exports).all() == []
