"""The audit log: append-only in the database itself, filled by every kind of change, readable
by admins only, and free of personal values."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.people import users
from leadq.services.people.apikeys import create_key
from leadq.services.scoring import rescoring as scoring
from leadq.services.scoring.documents import read_model
from leadq.store.db import Database
from leadq.store.tables import AuditEntry

API = "/api/v1"


def actions(db: Database) -> list[tuple[str, str, str]]:
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.entity) for r in rows]


def test_entries_cannot_be_changed_or_removed(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        users.add_user(session, "ann", "long enough secret", "rep", "admin", now)
    for statement in (update(AuditEntry).values(actor="someone else"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="never changed"), db.unit_of_work() as session:
            session.execute(statement)
    assert actions(db) == [("admin", "user.created", "user")]


def test_models_users_and_keys_are_audited_with_who_did_it(db: Database, now: datetime) -> None:
    _, text = read_model("classic")
    with db.unit_of_work() as session:
        scoring.add_model(session, text, "classic", now, "mia")
        scoring.activate(session, "classic", now, "mia")
        users.add_user(session, "ann", "long enough secret", "rep", "admin", now)
        users.set_role(session, "ann", "manager", "admin", now)
        users.set_password(session, "ann", "another long secret", "admin", now)
        users.disable_user(session, "ann", "admin", now)
        create_key(session, "crm", now, "marketing")
    assert actions(db) == [
        ("mia", "model.added", "scoring_model"), ("mia", "model.activated", "scoring_model"),
        ("admin", "user.created", "user"), ("admin", "user.role_changed", "user"),
        ("admin", "user.password_set", "user"), ("admin", "user.disabled", "user"),
        ("cli", "apikey.created", "api_key"),
    ]  # fmt: skip
    with db.reading() as session:
        details = [e.details for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert details[0]["model"] == "classic@1" and len(details[0]["sha256"]) == 64
    assert details[3] == {"from": "rep", "to": "manager"}
    assert "another long secret" not in str(details)


def test_admins_read_the_log_through_the_api_and_others_may_not(
    db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        admin, _ = create_key(session, "root", now, "admin")
        manager, _ = create_key(session, "boss", now, "manager")
    with TestClient(create_app(Settings(database_url=db.url), db)) as client:
        client.headers["Authorization"] = f"Bearer {admin}"
        client.post(f"{API}/leads", json={"email": "kim@acme.com", "first_name": "Kim"})
        client.patch(f"{API}/leads/1", json={"first_name": "Kimberly"})
        page = client.get(f"{API}/audit", params={"entity": "lead", "limit": 1}).json()
        assert [(e["action"], e["actor"], e["entity_id"]) for e in page] == [
            ("lead.updated", "api:root", "1")
        ]
        assert page[0]["details"] == {"fields": ["first_name"]}
        older = client.get(f"{API}/audit", params={"before_id": page[0]["id"]}).json()
        assert [e["action"] for e in older][:2] == ["lead.created", "apikey.created"]
        whole = client.get(f"{API}/audit", params={"limit": 1000}).text
        assert "Kim" not in whole and "kim@acme.com" not in whole
        for bad in ({"limit": 0}, {"limit": "many"}, {"since": "yesterday"},
                    {"since": "2026-01-01T00:00:00"}, {"actor": "x" * 101},
                    {"action": "a\x00b"}, {"before_id": -1}):  # fmt: skip
            assert client.get(f"{API}/audit", params=bad).status_code == 422, bad
        refused = client.get(f"{API}/audit", headers={"Authorization": f"Bearer {manager}"})
        assert refused.status_code == 403
