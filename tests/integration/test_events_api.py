"""Events through the HTTP API: single and batch, idempotent, all-or-nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.services.scoring import queue
from leadq.store.db import Database
from leadq.store.tables import Event

API = "/api/v1"


def new_lead(client: TestClient, email: str = "e@acme.com") -> int:
    lead_id: int = client.post(f"{API}/leads", json={"email": email}).json()["id"]
    return lead_id


def event(lead_id: int, when: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "type": "page_view",
        "occurred_at": when.isoformat(),
        "properties": {"path": "/pricing"},
        **extra,
    }


def stored(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def test_event_is_stored_and_moves_last_activity(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    when = now - timedelta(hours=1)
    response = client.post(f"{API}/events", json=event(lead_id, when, channel="web"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "page_view" and body["properties"] == {"path": "/pricing"}
    assert datetime.fromisoformat(body["occurred_at"]) == when
    assert client.get(f"{API}/leads/{lead_id}").json()["last_activity_at"] is None  # queued
    assert queue.drain(db, lambda: now) == 1
    lead = client.get(f"{API}/leads/{lead_id}").json()
    assert datetime.fromisoformat(lead["last_activity_at"]) == when
    older = event(lead_id, when - timedelta(days=3))
    client.post(f"{API}/events?wait=true", json=older)  # in the request: the same moves
    lead = client.get(f"{API}/leads/{lead_id}").json()
    assert datetime.fromisoformat(lead["last_activity_at"]) == when  # an older event moves nothing
    timeline = client.get(f"{API}/leads/{lead_id}/events").json()
    assert [e["occurred_at"] for e in timeline] == sorted(
        (e["occurred_at"] for e in timeline), reverse=True
    )


def test_retried_event_with_same_key_is_stored_once(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    payload = event(lead_id, now, idempotency_key="evt-42")
    first = client.post(f"{API}/events", json=payload)
    second = client.post(f"{API}/events", json=payload)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["duplicate"] is True
    assert stored(db) == 1


def test_batch_is_idempotent_within_and_across_requests(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    batch = [
        event(lead_id, now - timedelta(minutes=i), idempotency_key=f"k{i % 5}") for i in range(10)
    ]
    batch.append(event(lead_id, now))  # no key: always a new event
    first = client.post(f"{API}/events/batch", json={"events": batch})
    assert first.json() == {"accepted": 6, "duplicates": 5}
    second = client.post(f"{API}/events/batch", json={"events": batch})
    assert second.json() == {"accepted": 1, "duplicates": 10}
    assert stored(db) == 7


def test_batch_with_unknown_lead_is_refused_whole(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    batch = [event(lead_id, now), event(987654, now), event(lead_id, now)]
    response = client.post(f"{API}/events/batch", json={"events": batch})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "events[1].lead_id", "reason": "no lead with id 987654"}
    ]
    assert stored(db) == 0


def test_event_for_unknown_lead_is_refused(client: TestClient, db: Database, now: datetime) -> None:
    response = client.post(f"{API}/events", json=event(5555, now))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "lead_id", "reason": "no lead with id 5555"}]
    assert stored(db) == 0


def test_timestamps_need_a_zone_and_may_not_be_in_the_future(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    naive = event(lead_id, now)
    naive["occurred_at"] = now.replace(tzinfo=None).isoformat()
    response = client.post(f"{API}/events", json=naive)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "occurred_at"
    assert "timezone" in response.json()["errors"][0]["reason"]
    future = client.post(f"{API}/events", json=event(lead_id, now + timedelta(hours=1)))
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "occurred_at"
    assert "future" in future.json()["errors"][0]["reason"]
    within_skew = client.post(f"{API}/events", json=event(lead_id, now + timedelta(seconds=30)))
    assert within_skew.status_code == 201
    batch = [event(lead_id, now), event(lead_id, now + timedelta(days=2))]
    refused = client.post(f"{API}/events/batch", json={"events": batch})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "events[1].occurred_at"
    assert stored(db) == 1


def test_custom_event_types_are_allowed_but_must_be_names(
    client: TestClient, now: datetime
) -> None:
    lead_id = new_lead(client)
    ok = client.post(f"{API}/events", json={**event(lead_id, now), "type": "Partner_Referral"})
    assert ok.status_code == 201 and ok.json()["type"] == "partner_referral"
    bad = client.post(f"{API}/events", json={**event(lead_id, now), "type": "drop table;"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "type"


def test_batch_over_the_limit_is_413_and_stores_nothing(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = new_lead(client)
    item = event(lead_id, now)
    response = client.post(f"{API}/events/batch", json={"events": [item] * 10_001})
    assert response.status_code == 413
    assert "10000" in response.json()["errors"][0]["reason"]
    assert stored(db) == 0
    full = client.post(f"{API}/events/batch", json={"events": [item] * 10_000})
    assert full.json() == {"accepted": 10_000, "duplicates": 0}


def test_batch_body_errors_name_the_item(client: TestClient, db: Database, now: datetime) -> None:
    lead_id = new_lead(client)
    good = event(lead_id, now)
    cases = [
        ({"events": [good, {**good, "occurred_at": "yesterday"}]}, "events[1].occurred_at"),
        ({"events": [good, {**good, "colour": "red"}]}, "events[1].colour"),
        ({"evnts": [good]}, "events"),
        ({"events": "all of them"}, "events"),
    ]
    for body, field in cases:
        response = client.post(f"{API}/events/batch", json=body)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    broken = client.post(
        f"{API}/events/batch", content=b'{"events": [', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert stored(db) == 0


def test_batch_body_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][f"{API}/events/batch"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["events"]["items"] == {"$ref": "#/components/schemas/EventInput"}


def test_oversized_properties_are_refused(client: TestClient, db: Database, now: datetime) -> None:
    lead_id = new_lead(client)
    big = {**event(lead_id, now), "properties": {"path": "/" + "x" * 5000}}
    response = client.post(f"{API}/events", json=big)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "properties"
    many = {**event(lead_id, now), "properties": {f"p{i}": i for i in range(65)}}
    assert client.post(f"{API}/events", json=many).status_code == 422
    assert stored(db) == 0
