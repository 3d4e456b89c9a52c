"""The consents endpoints: history and current state, recording a change, refusals of bad
input with the field and the reason, and a rep kept to their own and unassigned leads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.services.people.apikeys import create_key
from leadq.store.db import Database
from leadq.store.tables import Consent
from tests.consent.conftest import record

API = "/api/v1"


def new_lead(client: TestClient, email: str = "ewa@hurtownia.example", **more: Any) -> int:
    created = client.post(f"{API}/leads", json={"email": email, **more})
    assert created.status_code == 201, created.text
    lead_id: int = created.json()["id"]
    return lead_id


def consents_stored(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Consent)) or 0


def test_a_new_lead_has_no_consents_but_may_be_called_and_profiled(client: TestClient) -> None:
    lead_id = new_lead(client)
    body = client.get(f"{API}/leads/{lead_id}/consents").json()
    assert body == {"lead_id": lead_id, "do_not_email": False, "do_not_call": False,
                    "current": {"marketing_email": None, "profiling": None,
                                "sales_contact": None},
                    "allowed": {"email": False, "call": True, "profiling": True},
                    "history": []}  # fmt: skip


def test_record_withdraw_and_flags(client: TestClient, now: datetime) -> None:
    lead_id = new_lead(client)
    url = f"{API}/leads/{lead_id}/consents"
    yesterday = now - timedelta(days=1)
    opted = client.post(
        url,
        json={
            "consent": record(
                "marketing_email", True, yesterday, "webinar signup", wording_version="w-2"
            )
        },
    )
    assert opted.status_code == 200, opted.text
    body = opted.json()
    assert body["allowed"] == {"email": True, "call": True, "profiling": True}
    current = body["current"]["marketing_email"]
    assert (current["granted"], current["source"], current["wording_version"]) == (
        True, "webinar signup", "w-2")  # fmt: skip
    assert datetime.fromisoformat(current["at"]) == yesterday
    assert [h["actor"] for h in body["history"]] == ["api:tests"]

    late = client.post(url, json={"consent": record("marketing_email", False,
                                                    now - timedelta(days=9))})  # fmt: skip
    assert late.json()["current"]["marketing_email"]["granted"] is True  # older: history only
    assert len(late.json()["history"]) == 2

    flags = client.post(url, json={"do_not_email": True, "do_not_call": True})
    assert flags.status_code == 200, flags.text
    assert flags.json()["allowed"] == {"email": False, "call": False, "profiling": True}
    both = client.post(url, json={"consent": record("profiling", False, now),
                                  "do_not_call": False})  # fmt: skip
    assert both.json()["allowed"] == {"email": False, "call": True, "profiling": False}

    lead = client.get(f"{API}/leads/{lead_id}").json()  # the lead JSON shows them too
    assert (lead["do_not_email"], lead["do_not_call"]) == (True, False)
    assert set(lead["consents"]) == {"marketing_email", "profiling"}
    assert lead["consents"]["profiling"]["granted"] is False
    listed = client.get(f"{API}/leads").json()["items"][0]
    assert listed["consents"]["marketing_email"]["source"] == "webinar signup"


VALID = {"purpose": "profiling", "granted": False, "at": "2026-01-05T10:00:00+00:00",
         "source": "call"}  # fmt: skip


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({}, "body", "send a consent"),
    ({"consent": {k: v for k, v in VALID.items() if k != "purpose"}}, "consent.purpose",
     "Field required"),
    ({"consent": {**VALID, "purpose": "newsletter"}}, "consent.purpose", "Input should be"),
    ({"consent": {**VALID, "at": "2150-01-01T00:00:00+00:00"}}, "consent.at", "in the future"),
    ({"consent": {**VALID, "at": "2999-01-01T00:00:00+00:00"}}, "consent.at", "between 1900"),
    ({"consent": {**VALID, "at": "2026-01-05T10:00:00"}}, "consent.at", "timezone"),
    ({"consent": {**VALID, "at": "yesterday"}}, "consent.at", "datetime"),
    ({"consent": {**VALID, "source": "s" * 101}}, "consent.source", "at most 100"),
    ({"consent": {**VALID, "source": "   "}}, "consent.source", "at least 1"),
    ({"consent": {**VALID, "source": "call\x00"}}, "consent.source", "NUL"),
    ({"consent": {**VALID, "source": "call\x07"}}, "consent.source", "control characters"),
    ({"consent": {**VALID, "wording_version": "v\x00"}}, "consent.wording_version", "NUL"),
    ({"consent": {**VALID, "wording_version": "v" * 61}}, "consent.wording_version", "at most"),
    ({"consent": {**VALID, "granted": "yes"}}, "consent.granted", "boolean"),
    ({"consent": {**VALID, "granted": 1}}, "consent.granted", "boolean"),
    ({"consent": {**VALID, "source": 5}}, "consent.source", "string"),
    ({"consent": "profiling"}, "consent", "object"),
    ({"consent": [VALID]}, "consent", "object"),
    ({"consent": {**VALID, "lead_id": 3}}, "consent.lead_id", "unknown field"),
    ({"do_not_email": "true"}, "do_not_email", "boolean"),
    ({"do_not_call": None}, "body", "send a consent"),
    ({"dnc": True}, "dnc", "unknown field"),
])  # fmt: skip
def test_bad_input_is_refused_with_field_and_reason(client: TestClient, db: Database,
                                                    body: dict[str, Any], field: str,
                                                    reason: str) -> None:  # fmt: skip
    lead_id = new_lead(client)
    answer = client.post(f"{API}/leads/{lead_id}/consents", json=body)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors
    assert consents_stored(db) == 0


def test_malformed_and_non_object_bodies(client: TestClient, db: Database) -> None:
    lead_id = new_lead(client)
    url = f"{API}/leads/{lead_id}/consents"
    broken = client.post(
        url, content=b'{"consent": {', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["errors"][0]["reason"] == "malformed JSON"
    assert client.post(url, json=[VALID]).status_code == 422
    assert client.post(url, content=b"\x00\xff", headers={"Content-Type": "application/json"}
                       ).status_code == 400  # fmt: skip
    assert consents_stored(db) == 0


def test_unknown_and_malformed_lead_ids(client: TestClient) -> None:
    assert client.get(f"{API}/leads/999999/consents").status_code == 404
    missing = client.post(f"{API}/leads/999999/consents", json={"do_not_call": True})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "lead_id"
    for bad in ("0", "abc", "99999999999999999999"):
        assert client.get(f"{API}/leads/{bad}/consents").status_code == 422


def test_a_rep_sees_and_records_only_their_own_and_unassigned_leads(
    client: TestClient, db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        token = create_key(session, "rita", now, "rep")[0]
    theirs = new_lead(client, "mine@acme.example", owner="rita")
    open_one = new_lead(client, "open@acme.example")
    others = new_lead(client, "olek@acme.example", owner="olek")
    rep = {"Authorization": f"Bearer {token}"}
    change = {"consent": record("sales_contact", False, now)}
    for lead_id in (theirs, open_one):
        assert client.get(f"{API}/leads/{lead_id}/consents", headers=rep).status_code == 200
        done = client.post(f"{API}/leads/{lead_id}/consents", json=change, headers=rep)
        assert done.status_code == 200, done.text
        assert done.json()["history"][0]["actor"] == "api:rita"
    assert client.get(f"{API}/leads/{others}/consents", headers=rep).status_code == 404
    refused = client.post(f"{API}/leads/{others}/consents", json=change, headers=rep)
    assert refused.status_code == 404
    assert client.get(f"{API}/leads/{others}/consents").json()["history"] == []
    assert consents_stored(db) == 2


def test_consents_need_a_key(anonymous: TestClient) -> None:
    assert anonymous.get(f"{API}/leads/1/consents").status_code == 401
    assert anonymous.post(f"{API}/leads/1/consents", json={"do_not_call": True}).status_code == 401
