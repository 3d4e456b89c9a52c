"""Bad input over HTTP: a clear 4xx naming the field and the reason, and nothing written."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.config import Settings
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Lead

API = "/api/v1"


def leads_stored(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Lead)) or 0


def errors(response: object) -> list[dict[str, str]]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "errors"}
    return list(body["errors"])


def test_malformed_json_is_400(client: TestClient, db: Database) -> None:
    response = client.post(
        f"{API}/leads",
        content=b'{"email": "a@b.com",',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert errors(response) == [{"field": "body", "reason": "malformed JSON"}]
    assert leads_stored(db) == 0


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"first_name": "Nobody"}, "body", "a lead needs an email or a phone"),
        ({"email": "not-an-address"}, "email", "not a valid e-mail address"),
        ({"email": "a@b.com", "favourite_colour": "red"}, "favourite_colour", "unknown field"),
        ({"email": "a@b.com", "company_size": "many"}, "company_size", "integer"),
        ({"email": "a@b.com", "company_size": -5}, "company_size", "greater than or equal"),
        ({"email": "a@b.com", "age": 400}, "age", "less than or equal"),
        ({"email": "a@b.com", "seniority": "emperor"}, "seniority", "c_level"),
        ({"email": "a@b.com", "job_title": "x" * 300}, "job_title", "at most 255"),
        ({"phone": "call me maybe"}, "phone", "digits"),
        ({"phone": "+48 12"}, "phone", "not a"),
        ({"phone": "601 234 567"}, "phone", "LEADQ_DEFAULT_PHONE_REGION"),
        (
            {"email": "a@b.com", "attributes": {f"k{i}": i for i in range(101)}},
            "attributes",
            "at most 100",
        ),
        ({"email": "<script>alert(1)</script>@evil.com"}, "email", "not a valid e-mail"),
        (
            {"email": "a@b.com", "first_name": ["Robert'); DROP TABLE leads;--"]},
            "first_name",
            "string",
        ),
    ],
)
def test_invalid_lead_is_refused_with_field_and_reason(
    client: TestClient, db: Database, payload: dict[str, object], field: str, reason: str
) -> None:
    response = client.post(f"{API}/leads", json=payload)
    assert response.status_code == 422, response.text
    found = errors(response)
    assert any(e["field"] == field and reason in e["reason"] for e in found), found
    assert leads_stored(db) == 0


def test_non_object_body_is_refused(client: TestClient) -> None:
    response = client.post(f"{API}/leads", json=[{"email": "a@b.com"}])
    assert response.status_code == 422


def test_hostile_text_is_stored_as_text(client: TestClient) -> None:
    name = "Robert'); DROP TABLE leads;-- <img src=x onerror=alert(1)> \u202e"
    created = client.post(f"{API}/leads", json={"email": "r@acme.com", "first_name": name[:100]})
    assert created.status_code == 201
    assert (
        client.get(f"{API}/leads/{created.json()['id']}").json()["first_name"] == name[:100].strip()
    )


def test_phone_region_setting_reads_national_numbers(db: Database) -> None:
    from leadq.api.app import create_app
    from leadq.services.people.apikeys import create_key

    with db.unit_of_work() as session:
        token, _ = create_key(session, "pl", datetime.now().astimezone())
    app = create_app(Settings(database_url=db.url, default_phone_region="PL"), db)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post(f"{API}/leads", json={"phone": "601 234 567"})
    assert response.status_code == 201
    assert response.json()["phone"] == "+48601234567"


def test_body_over_the_size_limit_is_413(db: Database, api_key: str) -> None:
    from leadq.api.app import create_app

    app = create_app(Settings(database_url=db.url, max_body_bytes=2048), db)
    with TestClient(app, headers={"Authorization": f"Bearer {api_key}"}) as client:
        big = {"email": "a@b.com", "attributes": {"notes": "x" * 5000}}
        response = client.post(f"{API}/leads", json=big)
        assert response.status_code == 413
        assert errors(response)[0]["field"] == "body"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what streams in
            for _ in range(10):
                yield b" " * 512

        streamed = client.post(
            f"{API}/leads",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
    assert leads_stored(db) == 0


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
def test_api_requires_a_valid_key(anonymous: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in (
        ("get", "/leads"),
        ("post", "/leads"),
        ("get", "/leads/1"),
        ("patch", "/leads/1"),
        ("post", "/events"),
        ("post", "/events/batch"),
    ):
        response = anonymous.request(method, f"{API}{path}", headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("cache_seconds", [0, 1.0])  # long enough for a loaded machine
def test_revoked_key_is_refused_once_the_key_cache_expires(
    db: Database, api_key: str, now: datetime, cache_seconds: float
) -> None:
    from leadq.api.app import create_app
    from leadq.services.people.apikeys import revoke_key

    app = create_app(Settings(database_url=db.url, api_key_cache_seconds=cache_seconds), db)
    with TestClient(app, headers={"Authorization": f"Bearer {api_key}"}) as client:
        assert client.get(f"{API}/leads").status_code == 200
        with db.unit_of_work() as session:
            revoke_key(session, 1, now)
        if cache_seconds:
            assert client.get(f"{API}/leads").status_code == 200  # still trusted for a moment
            time.sleep(cache_seconds + 0.05)
        assert client.get(f"{API}/leads").status_code == 401


def test_health_needs_no_key(anonymous: TestClient, db: Database) -> None:
    response = anonymous.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json()["database"] == db.engine.dialect.name


def test_bad_cursor_and_sort_are_refused(client: TestClient) -> None:
    assert errors(client.get(f"{API}/leads", params={"cursor": "garbage!"}))[0]["field"] == "cursor"
    assert errors(client.get(f"{API}/leads", params={"sort": "name"}))[0]["field"] == "sort"
    assert errors(client.get(f"{API}/leads", params={"limit": 0}))[0]["field"] == "limit"


def test_merge_that_fails_validation_writes_no_audit(client: TestClient, db: Database) -> None:
    client.post(f"{API}/leads", json={"email": "m@acme.com"})
    client.post(f"{API}/leads", json={"email": "m@acme.com", "age": "old"})
    with db.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "lead"))
        assert list(actions) == ["lead.created"]


def test_ids_beyond_the_database_range_are_refused(client: TestClient, now: datetime) -> None:
    huge = 2**63 + 5
    assert client.get(f"{API}/leads/{huge}").status_code == 422
    assert client.get(f"{API}/leads/-1").status_code == 422
    body = {"lead_id": huge, "type": "page_view", "occurred_at": now.isoformat()}
    assert client.post(f"{API}/events", json=body).status_code == 422
    assert client.post(f"{API}/events/batch", json={"events": [body]}).status_code == 422
    cursor = base64.urlsafe_b64encode(json.dumps([1e400, huge]).encode()).decode()
    assert client.get(f"{API}/leads", params={"cursor": cursor}).status_code == 422
