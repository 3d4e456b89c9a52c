"""The e-mail is the identity, on SQLite and PostgreSQL: a shared phone never merges two
people, it pairs them for review; a phone still finds a lead that has no e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadq.services.people.apikeys import create_key
from leadq.services.people.users import Role
from leadq.store.db import Database

SWITCHBOARD = "+1 512 757 6000"


def _post(client: TestClient, status: int, **lead: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/leads", json=lead)
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_colleagues_on_one_switchboard_stay_two_leads_flagged_for_review(
    client: TestClient,
) -> None:
    rose = _post(client, 201, email="rose@acme.example", phone=SWITCHBOARD, first_name="Rose")
    sean = _post(client, 201, email="sean@acme.example", phone=SWITCHBOARD, first_name="Sean")
    assert rose["id"] != sean["id"] and sean["first_name"] == "Sean"
    assert client.get(f"/api/v1/leads/{rose['id']}").json()["first_name"] == "Rose"
    assert client.get(f"/api/v1/leads/{rose['id']}").json()["possible_duplicates"] == [sean["id"]]
    assert client.get(f"/api/v1/leads/{sean['id']}").json()["possible_duplicates"] == [rose["id"]]
    pairs = client.get("/api/v1/duplicates").json()
    assert [(p["lead_id"], p["other_id"], p["reason"]) for p in pairs] == [
        (rose["id"], sean["id"], "same phone")
    ]
    dismissed = client.post(f"/api/v1/duplicates/{pairs[0]['id']}/dismiss")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert client.get("/api/v1/duplicates").json() == []
    assert client.get(f"/api/v1/leads/{rose['id']}").json()["possible_duplicates"] == []
    again = client.post(f"/api/v1/duplicates/{pairs[0]['id']}/dismiss")
    assert again.status_code == 409
    assert client.post("/api/v1/duplicates/999/dismiss").status_code == 404
    assert client.post("/api/v1/duplicates/abc/dismiss").status_code == 422


def test_a_shared_line_pairs_no_more_leads(client: TestClient) -> None:
    ids = [_post(client, 201, email=f"p{i}@acme.example", phone=SWITCHBOARD)["id"]
           for i in range(6)]  # fmt: skip
    assert len(set(ids)) == 6
    pairs = {(p["lead_id"], p["other_id"]) for p in client.get("/api/v1/duplicates").json()}
    assert pairs == {(ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2])}


def test_a_phone_finds_a_lead_without_an_email(client: TestClient) -> None:
    first = _post(client, 201, phone="+48 601 234 567", first_name="Ola")
    again = _post(client, 200, phone="+48601234567", job_title="CTO")
    assert again["id"] == first["id"] and again["job_title"] == "CTO"
    named = _post(client, 200, email="ola@firma.example", phone="+48 601 234 567")
    assert named["id"] == first["id"] and named["email"] == "ola@firma.example"  # who called
    other = _post(client, 201, email="jan@firma.example", phone="+48 601 234 567")
    assert other["id"] != first["id"]  # another e-mail is another person: paired, not merged
    lookup = client.get(f"/api/v1/leads/{first['id']}").json()
    assert lookup["possible_duplicates"] == [other["id"]]
    caller = _post(client, 201, phone="+48 601 234 567", first_name="?")
    assert caller["id"] not in (first["id"], other["id"])  # no e-mail-less lead left to find


def test_a_merge_without_source_keeps_the_first_and_a_real_source_replaces_a_placeholder(
    client: TestClient, db: Database
) -> None:
    _post(client, 201, email="x@y.io", source="webinar")
    merged = _post(client, 200, email="x@y.io", job_title="CTO")
    assert merged["source"] == "webinar" and merged["job_title"] == "CTO"
    _post(client, 201, email="file@y.io", source="import")
    replaced = _post(client, 200, email="file@y.io", source="Trade Show")
    assert replaced["source"] == "trade_show"


FIELDS = {
    "phone": st.sampled_from(["+48 601 234 567", "+1 512 757 6000", "(512) 757-6000", ""]),
    "first_name": st.text(max_size=20),
    "job_title": st.sampled_from(["CTO", "Head of Sales", "", "Intern"]),
    "source": st.sampled_from(["webinar", "import", "Paid Search", ""]),
    "company_size": st.integers(min_value=0, max_value=10**6),
    "country": st.sampled_from(["PL", "US", ""]),
    "attributes": st.dictionaries(st.sampled_from(["plan", "seats"]), st.integers(0, 9)),
}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(arrivals=st.lists(st.fixed_dictionaries({}, optional=FIELDS), min_size=1, max_size=4))
def test_resending_any_subset_of_a_leads_fields_never_errors(
    client: TestClient, arrivals: list[dict[str, Any]]
) -> None:
    for fields in arrivals:
        reply = client.post("/api/v1/leads", json={"email": "same@person.example", **fields})
        assert reply.status_code in (200, 201, 422), reply.text
        if reply.status_code == 422:  # refused for a field, never for the merge
            fields_named = {e["field"].split(".")[0] for e in reply.json()["errors"]}
            assert fields_named <= set(FIELDS), reply.text
    lead = client.get("/api/v1/leads", params={"q": "same@person.example"}).json()["items"]
    assert len(lead) == 1


def _state(client: TestClient, lead_id: int) -> dict[str, Any]:
    lead = client.get(f"/api/v1/leads/{lead_id}").json()
    fields = ("email", "phone", "first_name", "last_name", "job_title", "company", "city",
              "stage", "attributes", "score", "grade")  # fmt: skip
    kept = {k: lead[k] for k in fields}
    events = client.get(f"/api/v1/leads/{lead_id}/events").json()
    return {**kept, "events": sorted(e["id"] for e in events)}


def _events(client: TestClient, lead_id: int, count: int) -> None:
    for i in range(count):
        at = f"2026-11-0{i + 1}T10:00:00+00:00"
        event = {"lead_id": lead_id, "type": "page_view", "occurred_at": at,
                 "properties": {"path": f"/p{i}"}}  # fmt: skip
        assert client.post("/api/v1/events", json=event).status_code == 201


def test_a_merge_by_hand_is_undone_exactly(client: TestClient) -> None:
    rose = _post(client, 201, email="rose@acme.example", phone=SWITCHBOARD, first_name="Rose")
    sean = _post(client, 201, email="sean@acme.example", phone=SWITCHBOARD, first_name="Sean",
                 job_title="CTO", city="Austin", attributes={"plan": "pro"})  # fmt: skip
    _events(client, rose["id"], 2)
    _events(client, sean["id"], 3)
    before = {rose["id"]: _state(client, rose["id"]), sean["id"]: _state(client, sean["id"])}
    pair = client.get("/api/v1/duplicates").json()[0]["id"]
    merged = client.post(f"/api/v1/duplicates/{pair}/merge", json={"keep": rose["id"]})
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    kept, absorbed = _state(client, rose["id"]), _state(client, sean["id"])
    assert kept["events"] == sorted(before[rose["id"]]["events"] + before[sean["id"]]["events"])
    assert (kept["first_name"], kept["job_title"], kept["city"]) == ("Rose", "CTO", "Austin")
    assert kept["attributes"] == {"plan": "pro"} and kept["email"] == "rose@acme.example"
    assert absorbed["events"] == [] and absorbed["stage"] == "disqualified"
    refused = client.post(
        "/api/v1/events",
        json={
            "lead_id": sean["id"],
            "type": "page_view",
            "occurred_at": "2026-11-20T10:00:00+00:00",
        },
    )
    assert refused.status_code == 422 and f"merged into lead {rose['id']}" in refused.text
    assert client.post(f"/api/v1/duplicates/{pair}/merge").status_code == 409  # not open
    undone = client.post(f"/api/v1/duplicates/{pair}/unmerge")
    assert undone.status_code == 200 and undone.json()["status"] == "open"
    assert _state(client, rose["id"]) == before[rose["id"]]
    assert _state(client, sean["id"]) == before[sean["id"]]
    assert client.post(f"/api/v1/duplicates/{pair}/unmerge").status_code == 409
    stages = client.get(f"/api/v1/leads/{sean['id']}/stages").json()
    assert [s["to_stage"] for s in stages][-2:] == ["disqualified", before[sean["id"]]["stage"]]


def test_the_merged_leads_email_finds_the_kept_lead(client: TestClient) -> None:
    rose = _post(client, 201, email="rose@acme.example", phone=SWITCHBOARD)
    sean = _post(client, 201, email="sean@acme.example", phone=SWITCHBOARD)
    pair = client.get("/api/v1/duplicates").json()[0]["id"]
    assert client.post(f"/api/v1/duplicates/{pair}/merge", json={"keep": sean["id"]}).json()
    again = _post(client, 200, email="rose@acme.example", job_title="CFO")
    assert again["id"] == sean["id"] and again["job_title"] == "CFO"
    wrong = client.post(f"/api/v1/duplicates/{pair}/unmerge")
    assert wrong.status_code == 200
    bad_keep = client.post(f"/api/v1/duplicates/{pair}/merge", json={"keep": 999})
    assert bad_keep.status_code == 409 and "not in pair" in bad_keep.text
    assert rose["id"] != sean["id"]


def test_an_edit_that_shares_a_phone_pairs_and_a_rep_sees_only_their_own(
    client: TestClient, anonymous: TestClient, db: Database
) -> None:
    rose = _post(client, 201, email="rose@acme.example", phone=SWITCHBOARD, owner="rita")
    sean = _post(client, 201, email="sean@acme.example", owner="someone-else")
    edited = client.patch(f"/api/v1/leads/{sean['id']}", json={"phone": SWITCHBOARD})
    assert edited.status_code == 200 and edited.json()["phone"] == "+15127576000"
    assert client.get(f"/api/v1/leads/{rose['id']}").json()["possible_duplicates"] == [sean["id"]]
    taken = client.patch(f"/api/v1/leads/{sean['id']}", json={"email": "rose@acme.example"})
    assert taken.status_code == 409  # an e-mail is still one person's
    with db.unit_of_work() as session:
        token, _ = create_key(session, "rita", datetime.now(UTC), Role.rep)
    rep = anonymous.get(f"/api/v1/leads/{rose['id']}", headers={"Authorization": f"Bearer {token}"})
    assert rep.status_code == 200 and rep.json()["possible_duplicates"] == []  # not hers to see
