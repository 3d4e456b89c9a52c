"""Logs are JSON lines with the request id, and no personal value reaches them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.logs import JsonLines, log
from leadq.services.people.apikeys import create_key
from leadq.store.db import Database

PERSON = {"email": "zofia.nowak@example.com", "first_name": "Zofia", "last_name": "Nowak",
          "phone": "+48 601 234 567"}  # fmt: skip


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield stream
    log.removeHandler(handler)
    log.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_is_one_line_with_its_id_and_nothing_personal(
    db: Database, now: datetime, written: io.StringIO
) -> None:
    with db.unit_of_work() as session:
        token, _ = create_key(session, "crm", now)
    with TestClient(create_app(Settings(database_url=db.url), db)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        created = client.post("/api/v1/leads", json=PERSON)
        again = client.post("/api/v1/leads", json={**PERSON, "phone": "x"})  # a 422
        found = client.get("/api/v1/leads", params={"q": "zofia.nowak@example.com"})
        traced = client.get("/api/v1/health", headers={"X-Request-ID": "trace-42"})
        hostile = client.get("/api/v1/health", headers={"X-Request-ID": 'a b"{}' * 30})
        client.post("/api/v1/forms/website", data={"email": PERSON["email"], "name": "Zofia"})
        client.post("/login", data={"username": "zofia.nowak", "password": "Nowak1234"})
    logged = lines(written)
    requests = [entry for entry in logged if entry["event"] == "request"]
    assert [e["status"] for e in requests] == [201, 422, 200, 200, 200, 202, 403]
    assert requests[2]["path"] == "/api/v1/leads" and "query" not in requests[2]
    ids = [created, again, found, traced, hostile]
    assert [e["request_id"] for e in requests[:5]] == [r.headers["x-request-id"] for r in ids]
    assert traced.headers["x-request-id"] == "trace-42"
    assert len(hostile.headers["x-request-id"]) == 32  # refused as given, replaced by our own
    text = written.getvalue()
    for value in [*PERSON.values(), "Zofia", "Nowak", "601 234 567", "zofia.nowak"]:
        assert value not in text


def test_an_exception_is_logged_by_type_and_place_not_by_its_message(
    written: io.StringIO,
) -> None:
    try:
        raise ValueError("duplicate key value violates unique constraint: (email)=(z@x.pl)")
    except ValueError:
        log.exception("unhandled")
    (entry,) = lines(written)
    assert entry["error"] == "ValueError" and entry["where"].startswith(f"{__file__}:")
    assert "z@x.pl" not in written.getvalue()
