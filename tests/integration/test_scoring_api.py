"""Rules scoring through the API on a real database: vectors, activation, real time, history."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.services.scoring.bulk import rescore_everyone
from leadq.services.scoring.rescoring import model_of
from leadq.store.db import Database
from leadq.store.tables import DomainEvent, Event, Lead, ScoreChange, ScoringModelVersion

API = "/api/v1"


def shipped(name: str) -> str:
    return (resources.files("leadq.models") / f"{name}.yaml").read_text("utf-8")


def use_model(client: TestClient, name: str) -> dict[str, Any]:
    added = client.post(f"{API}/models", content=shipped(name),
                        headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert added.status_code == 201, added.text
    activated = client.post(f"{API}/models/{name}@{added.json()['version']}/activate")
    assert activated.status_code == 200, activated.text
    result: dict[str, Any] = activated.json()
    return result


def lead_with(client: TestClient, email: str, when: datetime, whitepapers: int = 0,
              webinars: int = 0, pricing: int = 0, **profile: Any) -> int:  # fmt: skip
    lead_id: int = client.post(f"{API}/leads", json={"email": email, **profile}).json()["id"]
    events = [
        {"type": "content_download", "properties": {"asset_type": "whitepaper"}}
    ] * whitepapers
    events += [{"type": "webinar_attended"}] * webinars
    events += [{"type": "page_view", "properties": {"path": "/pricing"}}] * pricing
    if events:
        batch = [{"lead_id": lead_id, "occurred_at": when.isoformat(), **e} for e in events]
        posted = client.post(f"{API}/events/batch?wait=true", json={"events": batch})
        assert posted.status_code == 200
    return lead_id


def score_of(client: TestClient, lead_id: int) -> dict[str, Any]:
    response = client.get(f"{API}/leads/{lead_id}/score")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_classic_vectors_through_the_api(client: TestClient, db: Database, now: datetime) -> None:
    use_model(client, "classic")
    hour_ago = now - timedelta(hours=1)
    vectors = [
        (lead_with(client, "a@acme.com", hour_ago, 3, 3, 3, job_title="CEO", company_size=300),
         33, "hot"),
        (lead_with(client, "b@acme.com", hour_ago, job_title="CEO", company_size=300), 15, "warm"),
        (lead_with(client, "c@acme.com", hour_ago, 0, 1, 2, seniority="director",
                   company_size=60), 18, "warm"),
        (lead_with(client, "d@acme.com", hour_ago, 1, job_title="Analyst", company_size=5),
         1, "cold"),
    ]  # fmt: skip
    for lead_id, score, grade in vectors:
        card = score_of(client, lead_id)
        assert (card["score"], card["grade"], card["model"]) == (score, grade, "classic@1")
        assert sum(line["points"] for line in card["breakdown"]) == score
    listed = client.get(f"{API}/leads", params={"sort": "-score"}).json()["items"]
    assert [x["score"] for x in listed] == [33, 18, 15, 1]
    assert [
        x["email"] for x in client.get(f"{API}/leads", params={"grade": "warm"}).json()["items"]
    ] == ["c@acme.com", "b@acme.com"]
    assert_stored_equals_fresh(db)


def assert_stored_equals_fresh(db: Database) -> None:
    """The score on every lead equals a fresh evaluation as of its own time (an erased
    shell's score is cleared by the erasure and never computed again)."""
    with db.reading() as session:
        row = session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).one()
        model = model_of(row)
        for lead in session.scalars(select(Lead).where(Lead.erased_at.is_(None))):
            events = session.scalars(select(Event).where(Event.lead_id == lead.id)).all()
            facts = [EventFact(e.type, e.occurred_at, e.properties, e.channel) for e in events]
            assert lead.scored_at is not None
            card = evaluate(model, {**lead.profile(), "attributes": lead.attributes}, facts,
                            lead.scored_at)  # fmt: skip
            assert (lead.score, lead.grade) == (card.score, card.grade), lead.id


def test_activation_rescores_existing_leads_and_history_keeps_the_version(
    client: TestClient, db: Database, now: datetime
) -> None:
    lead_id = lead_with(client, "h@acme.com", now - timedelta(hours=1), 0, 1, 2,
                        seniority="director", company_size=60)  # fmt: skip
    assert score_of(client, lead_id)["score"] is None  # no model yet: no made-up score
    assert use_model(client, "classic") == {"model": "classic@1", "leads": 1, "changed": 1}
    assert score_of(client, lead_id)["score"] == 18
    assert use_model(client, "dynamic")["model"] == "dynamic@1"
    assert score_of(client, lead_id)["score"] == 10  # one webinar: +10
    with db.reading() as session:
        history = session.scalars(select(ScoreChange).order_by(ScoreChange.id)).all()
    assert [(h.model, h.score, h.grade) for h in history] == [
        ("classic@1", 18, "warm"),
        ("dynamic@1", 10, "cold"),
    ]
    models = client.get(f"{API}/models").json()
    assert [(m["name"], m["version"], m["active"]) for m in models] == [
        ("classic", 1, False),
        ("dynamic", 1, True),
    ]


def test_events_and_profile_changes_rescore_in_real_time_and_grade_crossings_are_recorded(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    lead_id = lead_with(client, "r@acme.com", now - timedelta(hours=2), job_title="CEO",
                        company_size=300)  # fmt: skip
    assert score_of(client, lead_id)["grade"] == "warm"
    for i in range(2):
        body = {"lead_id": lead_id, "type": "page_view", "properties": {"path": "/pricing/pro"},
                "occurred_at": (now - timedelta(minutes=i)).isoformat()}  # fmt: skip
        assert client.post(f"{API}/events?wait=true", json=body).status_code == 201
    card = score_of(client, lead_id)
    assert (card["score"], card["grade"]) == (21, "hot")
    client.patch(f"{API}/leads/{lead_id}", json={"company_size": 20})
    assert score_of(client, lead_id)["score"] == 17
    with db.reading() as session:
        grade_events = select(DomainEvent).where(DomainEvent.type == "lead.grade_changed")
        crossings = session.scalars(grade_events.order_by(DomainEvent.id)).all()
    assert [(e.type, e.payload["from"], e.payload["to"]) for e in crossings] == [
        ("lead.grade_changed", None, "warm"),
        ("lead.grade_changed", "warm", "hot"),
        ("lead.grade_changed", "hot", "warm"),
    ]
    assert_stored_equals_fresh(db)


def test_rescore_applies_decay_when_nothing_happens(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "dynamic")
    lead_id = lead_with(client, "d@acme.com", now - timedelta(days=65), 1, 1)
    assert score_of(client, lead_id)["score"] == 5  # 15 − 2 × 5 for two full months idle
    total, changed = rescore_everyone(db, now + timedelta(days=60), "rescore")
    assert (total, changed) == (1, 1)
    card = score_of(client, lead_id)
    assert card["score"] == 0 and card["breakdown"][-1]["criterion"] == "floor"


@pytest.mark.parametrize(
    ("document", "path", "reason"),
    [
        ("name: m\ngrades: {cold: 0, hot: 5}\nfit: [{id: a, points: 1, when: {colour: red}}]",
         "fit[0:a].when", "unknown field 'colour'"),
        ("name: m\ngrades: {cold: 0, hot: 5}\nfit: [{id: a, points: 1, when: {age: {about: 3}}}]",
         "fit[0:a].when.age.about", "unknown key"),
        ("name: m\ngrades: {cold: 0, warm: 5, hot: 5}\nfit: [{id: a, points: 1, when: {age: 3}}]",
         "grades", "rise strictly"),
        ("name: m\nfit: [{id: a, points: 1, when: {age: 3}}]", "grades", "Field required"),
        ("name: m\ngrades: {cold: 0, hot: 5}\nfit: [{id: a, weight: -1, levels: "
         "[{level: 1, when: {age: 3}}]}]", "fit", "weight must not be negative"),
        ("name: m\ngrades: {cold: 0, hot: 5\n", "line 3", "not valid YAML"),
    ],
)  # fmt: skip
def test_bad_model_documents_name_the_path(
    client: TestClient, document: str, path: str, reason: str
) -> None:
    for url in (f"{API}/models/validate", f"{API}/models"):
        response = client.post(url, content=document, headers={"Content-Type": "application/yaml"})
        assert response.status_code == 400, response.text
        message = response.json()["errors"][0]["reason"]
        assert message.startswith(f"request: {path}: ") and reason in message, message
    assert client.get(f"{API}/models").json() == []


def test_activating_an_unknown_model_is_404_a_malformed_reference_422(client: TestClient) -> None:
    assert client.post(f"{API}/models/nope@3/activate").status_code == 404
    for malformed in ("%00%27;drop", "classic@one", "x" * 81):  # refused before the database
        assert client.post(f"{API}/models/{malformed}/activate").status_code == 422


def test_settled_criteria_keep_stored_scores_equal_to_fresh_ones(
    client: TestClient, db: Database, now: datetime
) -> None:
    """Real-time rescoring reuses capped criteria that cannot change; the result must still
    equal a full recomputation after many events, for both shipped models."""
    for name in ("classic", "dynamic"):
        use_model(client, name)
        lead_id = lead_with(client, f"{name}@acme.com", now - timedelta(days=40), 2, 1, 2,
                            job_title="CEO")  # fmt: skip
        for i in range(6):
            when = (now - timedelta(days=10 - i)).isoformat()
            for body in ({"type": "page_view", "properties": {"path": "/pricing"}},
                         {"type": "content_download", "properties": {"asset_type": "whitepaper"}},
                         {"type": "webinar_attended"}):  # fmt: skip
                event = {"lead_id": lead_id, "occurred_at": when, **body}
                posted = client.post(f"{API}/events?wait=true", json=event)
                assert posted.status_code == 201
        assert_stored_equals_fresh(db)
    card = score_of(client, 2)
    assert card["score"] == 5 * 8 + 10 * 7  # dynamic: uncapped points per occurrence
