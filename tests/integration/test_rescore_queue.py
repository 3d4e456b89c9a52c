"""Queued intake scoring: events are stored at once, their leads rescored by a drainer, and the
result is what rescoring in the request gives (``?wait=true``, read your writes)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select

from leadq.services.scoring import queue
from leadq.store.db import Database
from leadq.store.tables import RescoreRequest
from tests.cli import invoke
from tests.integration.test_scoring_api import API, assert_stored_equals_fresh, score_of, use_model

EVENTS: list[dict[str, Any]] = [
    {"type": "content_download", "properties": {"asset_type": "whitepaper"}},
    {"type": "webinar_attended"},
    {"type": "page_view", "properties": {"path": "/pricing"}},
    {"type": "page_view", "properties": {"path": "/pricing/pro"}},
]


def _clock() -> datetime:
    return datetime.now(UTC)


def _twins(client: TestClient, count: int) -> list[tuple[int, int]]:
    """Pairs of leads with the same profile: the first of each is scored through the queue."""
    titles = ["CEO", "Analyst", "VP Sales", None]
    pairs = []
    for i in range(count):
        profile = {"job_title": titles[i % 4], "company_size": 10 + 70 * i}
        pair = [client.post(f"{API}/leads", json={"email": f"{side}{i}@acme.com", **profile})
                .json()["id"] for side in ("q", "w")]  # fmt: skip
        pairs.append((pair[0], pair[1]))
    return pairs


def _batch(lead_id: int, n: int, when: datetime) -> list[dict[str, Any]]:
    return [{"lead_id": lead_id, "occurred_at": (when + timedelta(minutes=k)).isoformat(),
             **EVENTS[k % len(EVENTS)]} for k in range(n)]  # fmt: skip


def _seen(client: TestClient, lead_id: int) -> tuple[Any, ...]:
    card = score_of(client, lead_id)
    lead = client.get(f"{API}/leads/{lead_id}").json()
    return card["score"], card["grade"], card["breakdown"], lead["stage"]


def test_queued_batches_and_singles_score_as_rescoring_at_once(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    pairs = _twins(client, 8)
    before = {q: _seen(client, q) for q, _ in pairs}
    when = now - timedelta(hours=3)
    queued = [e for i, (q, _) in enumerate(pairs) for e in _batch(q, 1 + i, when)]
    waited = [e for i, (_, w) in enumerate(pairs) for e in _batch(w, 1 + i, when)]
    assert client.post(f"{API}/events/batch", json={"events": queued}).json()["accepted"] == 36
    assert client.post(f"{API}/events/batch?wait=true", json={"events": waited}).status_code == 200
    single = {"lead_id": pairs[0][0], "type": "page_view", "properties": {"path": "/pricing"},
              "occurred_at": now.isoformat()}  # fmt: skip
    assert client.post(f"{API}/events", json=single).status_code == 201
    assert client.post(f"{API}/events?wait=true",
                       json={**single, "lead_id": pairs[0][1]}).status_code == 201  # fmt: skip

    with db.reading() as session:  # stored, not scored yet: one request per lead and batch
        rows = session.execute(select(RescoreRequest.lead_id)).scalars().all()
    assert sorted(rows) == sorted([q for q, _ in pairs] + [pairs[0][0]])
    assert {q: _seen(client, q) for q, _ in pairs} == before
    assert queue.drain(db, _clock, limit=3) == 9  # three claims of three, then one of none

    with db.reading() as session:
        assert queue.waiting(session) == 0
    for q, w in pairs:
        assert _seen(client, q) == _seen(client, w)
    assert len({_seen(client, q)[0] for q, _ in pairs}) > 3  # the pairs differ from each other


def test_a_drainer_skips_leads_erased_or_merged_since_and_clears_their_requests(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    kept, merged, erased = (
        client.post(f"{API}/leads", json={"email": f"{n}@acme.com", **extra}).json()["id"]
        for n, extra in (("kept", {"phone": "+48 601 234 567"}),
                         ("dup", {"phone": "+48 601 234 567"}), ("gone", {}))
    )  # fmt: skip
    when = now - timedelta(hours=1)
    batch = [e for lead in (kept, merged, erased) for e in _batch(lead, 3, when)]
    assert client.post(f"{API}/events/batch", json={"events": batch}).status_code == 200
    assert client.post(f"{API}/leads/{erased}/erase").status_code == 200
    pair = client.get(f"{API}/duplicates").json()[0]["id"]
    assert client.post(f"{API}/duplicates/{pair}/merge", json={"keep": kept}).status_code == 200
    assert score_of(client, erased)["score"] > 0  # the erasure scored its events first
    assert queue.drain(db, _clock) == 2  # the erasure took its lead's request
    with db.reading() as session:
        assert queue.waiting(session) == 0
    assert client.get(f"{API}/leads/{erased}").json()["email"] is None
    assert len(client.get(f"{API}/leads/{kept}/events").json()) == 6  # both leads' events
    assert_stored_equals_fresh(db)


def test_a_claim_of_more_requests_than_a_statement_takes_parameters_is_settled(
    client: TestClient, db: Database, now: datetime
) -> None:
    """Leads touched chunk after chunk by a long events import wait with a request per chunk:
    a claim takes every one of them, more than SQLite's 32,766 parameters of a statement
    (its default; this machine's build allows more, so it is set back for the test)."""
    if db.engine.dialect.name == "sqlite":
        event.listen(db.engine, "connect", lambda connection, _: connection.setlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766))  # fmt: skip
        db.engine.dispose()  # the connections made from now on have the limit
    use_model(client, "classic")
    lead = client.post(f"{API}/leads", json={"email": "w@acme.com"}).json()["id"]
    events = {"events": _batch(lead, 2, now - timedelta(days=1))}
    assert client.post(f"{API}/events/batch?wait=true", json=events).status_code == 200
    when = now - timedelta(days=1)
    rows = [{"lead_id": lead, "queued_at": when, "first_event_at": when, "last_event_at": when}
            for _ in range(40_000)]  # fmt: skip
    with db.unit_of_work() as session:
        session.execute(insert(RescoreRequest), rows)
    assert queue.drain(db, _clock, limit=500) == 40_000
    with db.reading() as session:
        assert queue.waiting(session) == 0
    assert_stored_equals_fresh(db)


@pytest.mark.parametrize("wait", ["maybe", "", "2", "\x00"])
def test_wait_must_be_a_yes_or_no_and_a_refusal_stores_nothing(
    client: TestClient, db: Database, now: datetime, wait: str
) -> None:
    lead = client.post(f"{API}/leads", json={"email": "w@acme.com"}).json()["id"]
    answer = client.post(f"{API}/events/batch", params={"wait": wait},
                         json={"events": _batch(lead, 2, now - timedelta(hours=1))})  # fmt: skip
    assert answer.status_code in (400, 422), answer.text
    assert "wait" in answer.text
    assert client.get(f"{API}/leads/{lead}/events").json() == []
    with db.reading() as session:
        assert queue.waiting(session) == 0


@pytest.mark.parametrize("count", ["0", "5001", "many"])
def test_the_worker_refuses_a_claim_size_out_of_bounds(tmp_path: Path, count: str) -> None:
    args = ["worker", "--once", "--leads-per-claim", count]
    result = invoke(tmp_path, args, {"LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"})
    assert result.returncode == 2 and "Invalid value for '--leads-per-claim'" in result.stderr
    assert "worker started" not in result.stdout  # refused before it claims anything
