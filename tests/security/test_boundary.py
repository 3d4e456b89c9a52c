"""One door check for every way in: text that cannot be stored, numbers out of range and times
near the ends of the calendar are refused with 422 naming the field, never a 500; an error
nobody foresaw is still JSON with its request id."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from leadq.logs import JsonLines
from leadq.services.qualification import outcomes
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

API = "/api/v1"


def refused(response: object, field_part: str) -> str:
    """The reasons of a 422 that names ``field_part``."""
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "invalid_input"
    fields = [e["field"] for e in body["errors"]]
    assert any(field_part in f for f in fields), fields
    return " ".join(e["reason"] for e in body["errors"])


def stored(db: Database, model: type[Lead] | type[Event]) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def lead(client: TestClient) -> int:
    response = client.post(f"{API}/leads", json={"email": "door@example.com", "first_name": "D"})
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


def _event(lead: int, **changes: object) -> dict[str, object]:
    return {"lead_id": lead, "type": "purchase", "occurred_at": "2026-01-05T10:00:00+00:00",
            "properties": {"amount": 10}, **changes}  # fmt: skip


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1e400", "-1e400", "1e308", "1e16", "123456789012345678901"])
def test_an_amount_out_of_range_is_refused_and_analytics_keeps_working(
    client: TestClient, db: Database, lead: int, amount: str
) -> None:
    body = f'{{"lead_id": {lead}, "type": "purchase", "occurred_at": "2026-01-05T10:00:00Z",' \
           f' "properties": {{"amount": {amount}}}}}'  # fmt: skip
    response = client.post(f"{API}/events", content=body,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert "expected a finite number" in refused(response, "properties.amount")
    assert stored(db, Event) == 0
    assert client.get(f"{API}/analytics").status_code == 200


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_numbers_are_refused(
    client: TestClient, lead: int, constant: str
) -> None:
    body = f'{{"lead_id": {lead}, "type": "purchase", "occurred_at": "2026-01-05T10:00:00Z",' \
           f' "properties": {{"amount": {constant}}}}}'  # fmt: skip
    response = client.post(f"{API}/events", content=body,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    assert "expected a finite number" in refused(response, "properties.amount")


def test_an_amount_stored_before_the_bound_cannot_break_analytics(
    client: TestClient, db: Database, lead: int
) -> None:
    assert client.post(f"{API}/events", json=_event(lead)).status_code == 201
    huge = "CAST(:doc AS JSONB)" if db.engine.dialect.name == "postgresql" else ":doc"
    with db.unit_of_work() as session:  # as an older version of leadq could have stored it
        session.execute(text(f"UPDATE events SET properties = {huge}"),
                        {"doc": '{"amount": 1e400}'})  # fmt: skip
    with db.unit_of_work() as session:  # the facts analytics reads, as an upgrade fills them
        outcomes.refresh(session, None)
    for path in ("/analytics", "/analytics?by=source", "/analytics/dashboard"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 200, (path, response.text)
    rows = client.get(f"{API}/analytics").json()["rows"]
    assert all(row["revenue"] == 0 or row["revenue"] is None for row in rows)


# -- text ------------------------------------------------------------------------------------

NUL, SURROGATE = "\\u0000", "\\ud800"


@pytest.mark.parametrize("bad", [NUL, SURROGATE, f"Ann{NUL}a"])
@pytest.mark.parametrize(
    ("method", "path", "template", "field"),
    [
        ("POST", "/leads", '{"email": "x@example.com", "first_name": "%s"}', "first_name"),
        ("POST", "/leads", '{"email": "x@example.com", "attributes": {"a": {"b": ["%s"]}}}',
         "attributes.a.b[0]"),
        ("POST", "/leads", '{"email": "x@example.com", "attributes": {"%s": 1}}', "attributes"),
        ("PATCH", "/leads/{lead}", '{"company": "%s"}', "company"),
        ("POST", "/events", '{"lead_id": {lead}, "type": "page_view", "channel": "%s",'
         ' "occurred_at": "2026-01-05T10:00:00Z"}', "channel"),
        ("POST", "/events", '{"lead_id": {lead}, "type": "page_view", "idempotency_key": "%s",'
         ' "occurred_at": "2026-01-05T10:00:00Z"}', "idempotency_key"),
        ("POST", "/events", '{"lead_id": {lead}, "type": "page_view", "properties": {"%s": 1},'
         ' "occurred_at": "2026-01-05T10:00:00Z"}', "properties"),
        ("POST", "/events/batch", '{"events": [{"lead_id": {lead}, "type": "page_view",'
         ' "occurred_at": "2026-01-05T10:00:00Z", "properties": {"path": "%s"}}]}',
         "events[0].properties.path"),
    ],
)  # fmt: skip
def test_text_that_cannot_be_stored_is_refused_in_every_json_field(
    client: TestClient, db: Database, lead: int, bad: str, method: str, path: str,
    template: str, field: str,
) -> None:  # fmt: skip
    body = template.replace("{lead}", str(lead)) % bad
    response = client.request(method, f"{API}{path.replace('{lead}', str(lead))}", content=body,
                              headers={"Content-Type": "application/json"})  # fmt: skip
    refused(response, field)
    assert stored(db, Lead) == 1 and stored(db, Event) == 0


@pytest.mark.parametrize("query", ["q=a%00b", "owner=%00", "source=x%00", "stage=%00",
                                   "q=%ED%A0%80", "q=%FF"])  # fmt: skip
def test_query_filters_that_cannot_be_stored_are_refused(client: TestClient, query: str) -> None:
    name = query.split("=")[0]
    refused(client.get(f"{API}/leads?{query}"), f"query.{name}")
    refused(client.get(f"{API}/tasks?owner=%00"), "query.owner")


@pytest.mark.parametrize("kind", ["urlencoded", "multipart", "json"])
def test_the_public_form_refuses_nul_without_a_key(
    anonymous: TestClient, db: Database, kind: str
) -> None:
    fields = {"email": "pub@example.com", "first_name": "Pu\x00b"}
    url = f"{API}/forms/website"
    if kind == "urlencoded":
        response = anonymous.post(url, data=fields)
    elif kind == "multipart":
        response = anonymous.post(url, data=fields, files={"none": ("", b"")})
    else:
        response = anonymous.post(url, json=fields)
    refused(response, "first_name")
    assert stored(db, Lead) == 0


# -- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        ("0001-01-01T00:00:00+14:00", "between 1900 and 2199"),
        ("0001-01-01T00:00:00+00:00", "between 1900 and 2199"),
        ("1899-12-31T23:59:59+00:00", "between 1900 and 2199"),
        ("1969-12-31T23:59:59+00:00", "before 1970"),
        ("9999-12-31T23:59:59-05:00", "between 1900 and 2199"),
    ],
)
def test_event_times_near_the_ends_of_the_calendar_are_refused(
    client: TestClient, db: Database, lead: int, moment: str, reason: str
) -> None:
    response = client.post(f"{API}/events", json=_event(lead, occurred_at=moment))
    assert reason in refused(response, "occurred_at")
    assert stored(db, Event) == 0


def test_other_times_near_the_ends_of_the_calendar_are_refused(
    client: TestClient, lead: int
) -> None:
    override = {
        "kind": "points",
        "points": 5,
        "reason": "checked",
        "expires_at": "9999-12-31T23:59:59-05:00",
    }
    refused(client.post(f"{API}/leads/{lead}/overrides", json=override), "expires_at")
    refused(client.get(f"{API}/audit", params={"until": "9999-12-31T23:59:59-05:00"}), "until")
    refused(client.get(f"{API}/audit", params={"since": "0001-01-01T00:00:00+14:00"}), "since")
    refused(client.get(f"{API}/analytics", params={"since": "0001-01-01T00:00:00"}), "since")
    refused(client.get(f"{API}/analytics", params={"until": "9999-12-31T23:59:59"}), "until")


def test_times_well_inside_the_calendar_are_accepted(
    client: TestClient, lead: int, now: datetime
) -> None:
    old = _event(lead, occurred_at="1970-01-01T00:00:00+00:00", properties={})
    assert client.post(f"{API}/events", json=old).status_code == 201
    soon = (now + timedelta(days=30)).isoformat()
    override = {"kind": "points", "points": 5, "reason": "checked", "expires_at": soon}
    assert client.post(f"{API}/leads/{lead}/overrides", json=override).status_code == 201


# -- the unforeseen --------------------------------------------------------------------------


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """The ``leadq`` log lines as ``leadq serve`` writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("leadq")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_an_unforeseen_error_is_json_with_its_request_id_in_the_log(
    client: TestClient, db: Database, server_log: io.StringIO
) -> None:
    with db.unit_of_work() as session:  # a real failure: a table analytics reads is gone
        session.execute(text("ALTER TABLE campaign_costs RENAME TO campaign_costs_away"))
    try:
        response = client.get(f"{API}/analytics", headers={"X-Request-ID": "trace-500"})
    finally:  # the database is shared with the next tests of this worker
        with db.unit_of_work() as session:
            session.execute(text("ALTER TABLE campaign_costs_away RENAME TO campaign_costs"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "trace-500"
    assert response.json()["error"] == "internal_error"
    lines = [line for line in server_log.getvalue().splitlines() if "unhandled_error" in line]
    assert lines and '"request_id": "trace-500"' in lines[0]
    assert "campaign_costs" not in lines[0]  # the type and place of the error, not its message
