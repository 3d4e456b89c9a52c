"""Automation one can lean on, on SQLite and PostgreSQL: every event path runs the same touch
rules, the API answers with the lead as committed, and a broken automation file leaves the last
valid document in force without a word of it reaching a client."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.services.intake.imports import import_events
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask
from tests.automation.documents import put_in_force

ROUTED = """
teams:
  desk:
    members: [{name: anna, email: anna@example.com}]
rules:
  - id: route
    trigger: lead_created
    do:
      - assign: {round_robin: desk}
      - task: {kind: first_touch, due_minutes: 15, working_hours: false}
"""
TOUCHES = ["email_replied", "call_logged", "meeting_booked"]
PATHS = ["single", "batch", "csv"]


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return put_in_force(monkeypatch, tmp_path, ROUTED)


def _touch(client: TestClient, db: Database, path: str, lead_id: int, kind: str,
           by: str, tmp_path: Path) -> None:  # fmt: skip
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    event = {"lead_id": lead_id, "type": kind, "occurred_at": at, "properties": {"by": by}}
    if path == "single":
        assert client.post("/api/v1/events", json=event).status_code == 201
    elif path == "batch":
        reply = client.post("/api/v1/events/batch", json={"events": [event]})
        assert reply.status_code in (200, 201), reply.text
    else:
        csv = tmp_path / "events.csv"
        csv.write_text(f"lead_id,type,occurred_at,by\n{lead_id},{kind},{at},{by}\n")
        summary = import_events(db, csv, IntakePolicy(), datetime.now(UTC), tmp_path / "rej.csv")
        assert summary.accepted == 1, summary


def _open_tasks(db: Database, lead_id: int) -> list[FollowUpTask]:
    with db.reading() as session:
        query = select(FollowUpTask).where(FollowUpTask.lead_id == lead_id)
        return [t for t in session.scalars(query) if t.done_at is None]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", TOUCHES)
def test_every_event_path_runs_the_touch_rules(
    routed: Path, client: TestClient, db: Database, path: str, kind: str, tmp_path: Path
) -> None:
    other = client.post("/api/v1/leads", json={"email": "other@firm.example"}).json()["id"]
    lead = client.post("/api/v1/leads", json={"email": f"{path}-{kind}@firm.example"}).json()
    assert lead["owner"] == "anna" and len(_open_tasks(db, lead["id"])) == 1
    _touch(client, db, path, lead["id"], kind, "somebody-else", tmp_path)
    assert len(_open_tasks(db, lead["id"])) == 1  # not the owner: the task stays open
    _touch(client, db, path, lead["id"], kind, "anna", tmp_path)
    assert _open_tasks(db, lead["id"]) == []
    with db.reading() as session:
        done = session.scalars(select(FollowUpTask).where(FollowUpTask.lead_id == lead["id"])).one()
    assert (done.done_by, done.done_how) == ("anna", kind)
    assert len(_open_tasks(db, other)) == 1  # nobody touched the other lead


def test_create_and_merge_answer_with_the_lead_as_committed(
    routed: Path, client: TestClient
) -> None:
    created = client.post("/api/v1/leads", json={"email": "rose@acme.example", "country": "PL"})
    assert created.status_code == 201 and created.json()["owner"] == "anna"
    stored = client.get(f"/api/v1/leads/{created.json()['id']}").json()
    for field in ("owner", "stage", "score", "grade", "updated_at"):
        assert created.json()[field] == stored[field], field
    merged = client.post("/api/v1/leads", json={"email": "rose@acme.example", "city": "Łódź"})
    assert merged.status_code == 200
    again = client.get(f"/api/v1/leads/{created.json()['id']}").json()
    for field in ("owner", "stage", "score", "grade", "city"):
        assert merged.json()[field] == again[field], field


BROKEN = ROUTED.replace("trigger: lead_created", "trigger: nope")
FIXED = ROUTED.replace("anna", "bruno")


def test_a_broken_file_leaves_the_last_valid_document_in_force(
    routed: Path, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.get("/api/v1/health").json()["automation"]["status"] == "current"
    routed.write_text(BROKEN)
    with caplog.at_level(logging.ERROR, logger="leadq"):
        first = client.post("/api/v1/leads", json={"email": "a@firm.example"})
        second = client.post("/api/v1/leads", json={"email": "b@firm.example"})
    for reply in (first, second):
        assert reply.status_code == 201, reply.text
        assert reply.json()["owner"] == "anna"  # the last valid document still routes
        assert str(routed.parent) not in reply.text
    assert [r.getMessage() for r in caplog.records].count("automation.stale") == 1
    health = client.get("/api/v1/health")
    body = health.json()
    assert health.status_code == 200 and body["status"] == "degraded"
    stale = body["automation"]
    assert stale["status"] == "stale" and stale["since"] and stale["reason"].startswith("rules[0")
    assert "trigger" in stale["reason"]
    assert str(routed.parent) not in health.text
    routed.write_text(FIXED)
    os.utime(routed, ns=(routed.stat().st_atime_ns, routed.stat().st_mtime_ns + 10**9))
    assert client.post("/api/v1/leads", json={"email": "c@firm.example"}).json()["owner"] == "bruno"
    current = client.get("/api/v1/health").json()
    assert current["status"] == "ok" and current["automation"]["status"] == "current"
    assert current["automation"]["since"] is None and current["automation"]["reason"] is None
    assert current["automation"]["loaded_at"] > stale["loaded_at"]


def test_a_file_that_disappears_is_stale_without_naming_its_path(
    routed: Path, client: TestClient
) -> None:
    routed.unlink()
    assert (
        client.post("/api/v1/leads", json={"email": "gone@firm.example"}).json()["owner"] == "anna"
    )
    automation = client.get("/api/v1/health").json()["automation"]
    assert automation["status"] == "stale" and "cannot read" in automation["reason"]
    assert str(routed) not in json.dumps(automation)


def test_a_file_that_never_validated_is_the_servers_problem(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Reached only when the file is swapped under a running process that never read it: the
    caller learns the server cannot take the lead now (503), not which file or why."""
    path = put_in_force(monkeypatch, tmp_path, BROKEN)
    reply = client.post("/api/v1/leads", json={"email": "later@firm.example"})
    assert reply.status_code == 503 and reply.json()["error"] == "unavailable"
    assert str(path.parent) not in reply.text and "trigger" not in reply.text
    assert client.get("/api/v1/leads").json()["items"] == []  # nothing half-stored
