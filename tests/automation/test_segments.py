"""Segments with live membership, nurture tracks by grade, framework verdicts and score lines as
triggers, and the automation endpoints' refusals — over the API on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.store.db import Database
from leadq.store.tables import OutboxMessage
from tests.automation.documents import TEAMS, put_in_force
from tests.integration.test_scoring_api import API, lead_with, use_model

NURTURE = (
    TEAMS
    + """
endpoints:
  mailer: {url: "http://127.0.0.1:9/nurture"}
segments: [qualified-by-bant, above-20]
tracks:
  cold: {content: [guide, ebook]}
  warm: {content: [case study, comparison], webhook: mailer}
  hot: {content: [demo offer]}
rules:
  - id: nurture_warm
    trigger: grade_changed
    when: {to: [warm]}
    do: [{nurture: warm}]
  - id: nurture_hot
    trigger: grade_changed
    when: {to: [hot]}
    do: [{nurture: hot}]
  - id: bant_done
    trigger: framework_verdict
    when: {framework: bant, verdict: qualified}
    do: [{segment: {add: qualified-by-bant}}]
  - id: crossed_20
    trigger: score_crossed
    when: {score: 20}
    do: [{segment: {add: above-20}}]
"""
)


def opted_in(now: datetime) -> list[dict[str, object]]:
    """Nurture tracks are e-mail marketing: only for leads who opted in (tests/consent)."""
    return [{"purpose": "marketing_email", "granted": True, "at": now.isoformat(),
             "source": "tests"}]  # fmt: skip


@pytest.fixture(autouse=True)
def nurture(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    put_in_force(monkeypatch, tmp_path, NURTURE)


def names(client: TestClient, segment: str) -> list[str]:
    answer = client.get(f"{API}/segments/{segment}/leads")
    assert answer.status_code == 200, answer.text
    return [lead["email"] for lead in answer.json()]


def test_nurture_tracks_follow_the_grade_and_tell_the_mailer(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    warm = lead_with(client, "warm@firm.example", now, job_title="CEO", company_size=300,
                     consents=opted_in(now))  # fmt: skip
    assert names(client, "nurture-warm") == ["warm@firm.example"]
    lead_with(client, "hot@firm.example", now, webinars=2, pricing=1, job_title="CEO",
              company_size=300, consents=opted_in(now))  # fmt: skip
    assert names(client, "nurture-hot") == ["hot@firm.example"]
    assert names(client, "nurture-warm") == ["warm@firm.example"]  # the hot one moved on
    assert names(client, "above-20") == ["hot@firm.example"]  # crossed 20 on its way up
    with db.reading() as session:
        told = [m.payload for m in session.scalars(select(OutboxMessage))]
    warm_told = [p for p in told if p["lead"]["id"] == warm]
    assert warm_told[0]["track"] == "warm" and warm_told[0]["content"] == [
        "case study",
        "comparison",
    ]
    assert warm_told[0]["trigger"]["event"] == "nurture.started"


def test_live_segments_and_framework_verdicts(client: TestClient, now: datetime) -> None:
    use_model(client, "classic")
    lead_with(client, "a@firm.example", now, job_title="CEO", company_size=300, industry="software",
              consents=opted_in(now))  # fmt: skip
    b = lead_with(client, "b@firm.example", now, job_title="Analyst", industry="software")
    saved = client.post(f"{API}/segments", json={"name": "warm-software",
                                                 "filter": {"grade": ["warm"],
                                                            "industry": ["software"]}})  # fmt: skip
    assert saved.status_code == 201, saved.text
    assert names(client, "warm-software") == ["a@firm.example"]
    client.patch(f"{API}/leads/{b}", json={"job_title": "CEO", "company_size": 300})
    assert names(client, "warm-software") == ["a@firm.example", "b@firm.example"]  # live
    listed = client.get(f"{API}/segments").json()
    assert {s["name"] for s in listed} >= {"warm-software", "nurture-warm"}

    client.post(f"{API}/leads/{b}/stage", json={"stage": "mql"})
    client.post(f"{API}/leads/{b}/accept", json={})
    answers = {"budget": 50000, "authority": "decision_maker", "need": True, "timing": 3}
    answered = client.post(f"{API}/leads/{b}/frameworks/bant/answers", json={"answers": answers})
    assert answered.status_code == 200, answered.text
    assert answered.json()["verdict"] == "qualified"
    assert names(client, "qualified-by-bant") == ["b@firm.example"]
    assert client.delete(f"{API}/segments/qualified-by-bant").status_code == 409  # has members
    assert client.delete(f"{API}/segments/warm-software").status_code == 204
    assert client.get(f"{API}/segments/warm-software/leads").status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("post", "/segments", {"name": "Bad Name", "filter": {}}, 422),
    ("post", "/segments", {"name": "x", "filter": {"shoe_size": [44]}}, 422),
    ("post", "/segments", {"name": "x", "filter": {"inactive_days": 0}}, 422),
    ("post", "/segments", {"name": "x" * 64, "filter": {}}, 422),
    ("post", "/segments", {"filter": {}}, 422),
    ("post", "/segments", "not json", 400),
    ("get", "/segments/%00drop/leads", None, 422),
    ("get", "/segments/ghost/leads", None, 404),
    ("post", "/tasks/0/complete", None, 422),
    ("post", "/tasks/99999/complete", None, 404),
    ("get", "/tasks?state=someday", None, 422),
    ("get", "/tasks?limit=100000", None, 422),
    ("get", "/outbox?status=lost", None, 422),
    ("post", "/outbox/abc/retry", None, 422),
    ("post", "/outbox/99999/retry", None, 404),
])  # fmt: skip
def test_bad_requests_are_refused(client: TestClient, method: str, path: str, body: object,
                                  status: int) -> None:  # fmt: skip
    if isinstance(body, str):
        answer = client.request(method, API + path, content=body,
                                headers={"Content-Type": "application/json"})  # fmt: skip
    else:
        answer = client.request(method, API + path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["field"]
    assert client.get(f"{API}/segments").json() == []  # nothing stored


def test_automation_endpoints_need_a_key(anonymous: TestClient) -> None:
    for path in ("/tasks", "/segments", "/outbox", "/automation"):
        assert anonymous.get(API + path).status_code == 401
