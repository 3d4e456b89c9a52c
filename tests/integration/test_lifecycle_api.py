"""The funnel on a real database: leads moved by events alone and by people, with every stage
change, answer and override on record (actor, time, reason)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.domain.events import EventInput
from leadq.services.intake.events import record_events
from leadq.services.scoring.bulk import rescore_everyone
from leadq.store.db import Database
from leadq.store.tables import SalesFeedback
from tests.integration.test_scoring_api import API, lead_with, score_of, use_model

SKEW = timedelta(minutes=5)


def lead(client: TestClient, lead_id: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{API}/leads/{lead_id}").json()
    return body


def history(client: TestClient, lead_id: int) -> list[tuple[str | None, str, str]]:
    rows = client.get(f"{API}/leads/{lead_id}/stages").json()
    for row in rows:
        assert row["at"] and row["actor"] and row["reason"], row
    return [(r["from_stage"], r["to_stage"], r["actor"]) for r in rows]


def actions(client: TestClient, lead_id: int) -> list[tuple[str, str]]:
    return [(a["action"], a["actor"]) for a in client.get(f"{API}/leads/{lead_id}/audit").json()]


def post_events(client: TestClient, lead_id: int, *events: dict[str, Any]) -> None:
    batch = [{"lead_id": lead_id, **e} for e in events]
    response = client.post(f"{API}/events/batch?wait=true", json={"events": batch})
    assert response.status_code == 200, response.text


def record_at(db: Database, now: datetime, lead_id: int, kind: str, when: datetime) -> None:
    """An event recorded with a controlled clock (the API refuses times in its future)."""
    item = EventInput(lead_id=lead_id, type=kind, occurred_at=when)
    db.run(lambda s: record_events(s, [item], now, SKEW))


def test_a_lead_walks_the_funnel_by_events_and_then_by_people(
    client: TestClient, now: datetime
) -> None:
    use_model(client, "classic")
    lead_id = lead_with(client, "m@acme.com", now - timedelta(hours=3), seniority="manager")
    assert (lead(client, lead_id)["stage"], score_of(client, lead_id)["score"]) == ("iql", 3)
    hour_ago = (now - timedelta(hours=1)).isoformat()
    pricing = {"type": "page_view", "properties": {"path": "/pricing"}, "occurred_at": hour_ago}
    post_events(client, lead_id, pricing, pricing)
    assert lead(client, lead_id)["stage"] == "iql"  # 9 points: still cold
    post_events(client, lead_id, {"type": "webinar_attended", "occurred_at": hour_ago})
    card = lead(client, lead_id)
    assert (card["stage"], card["grade"], card["pql"]) == ("mql", "warm", False)
    # two and five days back: never the calendar day of "an hour ago", whatever the hour
    usage = [{"type": "product_used", "occurred_at": (now - timedelta(days=d)).isoformat()}
             for d in (2, 5)]  # fmt: skip
    post_events(client, lead_id, *usage, usage[0])
    assert lead(client, lead_id)["pql"] is False  # two days of use, not three
    post_events(client, lead_id, {"type": "product_used", "occurred_at": hour_ago})
    assert lead(client, lead_id)["pql"] is True

    accepted = client.post(
        f"{API}/leads/{lead_id}/accept",
        json={"by": "jan", "owner": "jan", "comment": "calling today"},
    )
    assert (accepted.json()["stage"], accepted.json()["owner"]) == ("sal", "jan")
    partial = client.post(
        f"{API}/leads/{lead_id}/frameworks/bant/answers",
        json={"answers": {"budget": 25000, "need": True}, "by": "jan"},
    )
    assert (partial.json()["verdict"], partial.json()["missing"]) == (
        "incomplete", ["authority", "timing"])  # fmt: skip
    assert lead(client, lead_id)["stage"] == "sal"
    done = client.post(f"{API}/leads/{lead_id}/frameworks/bant/answers",
                       json={"answers": {"authority": "decision_maker", "timing": 2}})  # fmt: skip
    assert (done.json()["verdict"], done.json()["completeness"]) == ("qualified", 100.0)
    assert lead(client, lead_id)["stage"] == "sql"
    refused = client.post(f"{API}/leads/{lead_id}/stage", json={"stage": "customer"})
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "stage"
    assert "sql → customer is not allowed" in refused.json()["errors"][0]["reason"]
    for stage in ("opportunity", "customer"):
        moved = client.post(f"{API}/leads/{lead_id}/stage",
                            json={"stage": stage, "by": "eva", "reason": "deal"})  # fmt: skip
        assert moved.json()["stage"] == stage
    assert client.post(f"{API}/leads/{lead_id}/stage", json={"stage": "mql"}).status_code == 409
    assert history(client, lead_id) == [
        (None, "iql", "api:tests"),
        ("iql", "mql", "rule:mql_by_grade"),
        ("mql", "sal", "jan via api:tests"),
        ("sal", "sql", "rule:sql_when_qualified"),
        ("sql", "opportunity", "eva via api:tests"),
        ("opportunity", "customer", "eva via api:tests"),
    ]
    assert ("lead.pql_flagged", "rule:pql") in actions(client, lead_id)
    assert actions(client, lead_id).count(("framework.answered", "jan via api:tests")) == 1
    stages = client.get(f"{API}/leads/{lead_id}/stages").json()
    assert stages[1]["reason"] == "grade warm ≥ warm"
    assert stages[3]["reason"] == "bant: qualified and accepted by sales"


def test_a_mql_that_decays_to_cold_goes_back_to_nurture_and_returns_on_new_activity(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "dynamic")  # −5 for every 30 days without activity
    lead_id = lead_with(client, "d@acme.com", now - timedelta(days=40), 1, 2)
    assert (score_of(client, lead_id)["score"], lead(client, lead_id)["stage"]) == (20, "mql")
    rescore_everyone(db, now + timedelta(days=25), "rescore")
    assert lead(client, lead_id)["stage"] == "mql"  # 15: still warm
    later = now + timedelta(days=55)
    rescore_everyone(db, later, "rescore")
    assert (score_of(client, lead_id)["grade"], lead(client, lead_id)["stage"]) == (
        "cold",
        "nurture",
    )
    record_at(db, later + timedelta(days=1), lead_id, "webinar_attended", later + timedelta(days=1))
    assert (score_of(client, lead_id)["score"], lead(client, lead_id)["stage"]) == (35, "mql")
    assert history(client, lead_id)[1:] == [
        ("iql", "mql", "rule:mql_by_grade"),
        ("mql", "nurture", "rule:nurture_when_cold"),
        ("nurture", "mql", "rule:mql_again_on_new_activity"),
    ]


def test_rejection_keeps_the_feedback_and_unqualified_leads_come_back(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    first = lead_with(client, "r1@acme.com", now - timedelta(hours=1), job_title="CEO",
                      company_size=300)  # fmt: skip
    second = lead_with(client, "r2@acme.com", now - timedelta(hours=1), job_title="CEO",
                       company_size=300)  # fmt: skip
    for lead_id in (first, second):
        rejected = client.post(f"{API}/leads/{lead_id}/reject",
                               json={"reason": "no_budget", "comment": "frozen until Q3",
                                     "by": "jan"})  # fmt: skip
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["stage"] == "unqualified"
    with db.reading() as session:
        feedback = session.scalars(select(SalesFeedback).order_by(SalesFeedback.id)).all()
    assert [(f.lead_id, f.decision, f.reason, f.comment, f.stage, f.score, f.grade, f.model)
            for f in feedback] == [
        (lead_id, "rejected", "no_budget", "frozen until Q3", "mql", 15, "warm", "classic@1")
        for lead_id in (first, second)
    ]  # fmt: skip
    assert ("lead.rejected", "jan via api:tests") in actions(client, first)
    assert client.get(f"{API}/leads/{first}").status_code == 200  # kept, never deleted

    soon = now + timedelta(days=2)
    record_at(db, soon, first, "page_view", soon - timedelta(minutes=1))
    assert lead(client, first)["stage"] == "nurture"  # new activity reactivates
    assert lead(client, second)["stage"] == "unqualified"
    rescore_everyone(db, now + timedelta(days=179), "rescore")
    assert lead(client, second)["stage"] == "unqualified"
    rescore_everyone(db, now + timedelta(days=181), "rescore")
    assert lead(client, second)["stage"] == "nurture"  # half a year later
    assert [h[2] for h in history(client, first)][-2:] == [
        "jan via api:tests", "rule:reactivate_on_activity"]  # fmt: skip
    assert history(client, second)[-1] == (
        "unqualified", "nurture", "rule:reactivate_after_half_a_year")  # fmt: skip


def override(client: TestClient, lead_id: int, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/leads/{lead_id}/overrides", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_overrides_show_in_the_breakdown_hold_until_they_expire_or_are_removed(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    lead_id = lead_with(client, "o@acme.com", now - timedelta(hours=1), seniority="manager")
    tomorrow = (now + timedelta(days=1)).isoformat()
    adjustment = override(client, lead_id, kind="points", points=10, reason="met at the fair",
                          expires_at=tomorrow, by="eva")  # fmt: skip
    card = score_of(client, lead_id)
    assert (card["score"], card["grade"]) == (13, "warm")
    assert card["breakdown"][-1] == {"criterion": f"override:{adjustment['id']}",
                                     "label": "manual adjustment: met at the fair",
                                     "value": "eva via api:tests", "points": 10}  # fmt: skip
    assert sum(line["points"] for line in card["breakdown"]) == card["score"]
    assert lead(client, lead_id)["stage"] == "mql"
    pin = override(client, lead_id, kind="grade", grade="hot", reason="strategic account")
    assert (score_of(client, lead_id)["score"], score_of(client, lead_id)["grade"]) == (13, "hot")

    post_events(client, lead_id, {"type": "webinar_attended", "occurred_at": now.isoformat()})
    assert score_of(client, lead_id)["score"] == 15  # the next automatic update keeps both
    rescore_everyone(db, now + timedelta(days=2), "rescore")
    card = score_of(client, lead_id)
    assert (card["score"], card["grade"]) == (5, "hot")  # adjustment expired, pin holds
    assert [line["criterion"] for line in card["breakdown"][-2:]] == [
        "pricing_page", f"grade_pin:{pin['id']}"]  # fmt: skip

    removed = client.delete(f"{API}/leads/{lead_id}/overrides/{pin['id']}",
                            params={"reason": "deal lost", "by": "eva"})  # fmt: skip
    assert removed.json()["removed_by"] == "eva via api:tests"
    assert score_of(client, lead_id)["grade"] == "cold"
    assert lead(client, lead_id)["stage"] == "nurture"  # a cold MQL goes back to nurture
    assert [a for a in actions(client, lead_id) if a[0].startswith("override")] == [
        ("override.added", "eva via api:tests"),
        ("override.added", "api:tests"),
        ("override.removed", "eva via api:tests"),
    ]


def test_a_pinned_stage_holds_against_rules_and_people_until_it_expires(
    client: TestClient, db: Database, now: datetime
) -> None:
    use_model(client, "classic")
    lead_id = lead_with(client, "p@acme.com", now - timedelta(hours=1), seniority="director")
    override(client, lead_id, kind="stage", stage="nurture", reason="wait for the budget round",
             expires_at=(now + timedelta(days=1)).isoformat())  # fmt: skip
    assert lead(client, lead_id)["stage"] == "nurture"
    post_events(client, lead_id, *[{"type": "webinar_attended",
                                    "occurred_at": (now - timedelta(minutes=i)).isoformat()}
                                   for i in range(3)])  # fmt: skip
    assert (score_of(client, lead_id)["grade"], lead(client, lead_id)["stage"]) == (
        "warm",
        "nurture",
    )
    moved = client.post(f"{API}/leads/{lead_id}/stage", json={"stage": "mql"})
    assert moved.status_code == 409 and "pinned" in moved.json()["errors"][0]["reason"]
    rescore_everyone(db, now + timedelta(days=2), "rescore")
    assert lead(client, lead_id)["stage"] == "nurture"  # no activity since the pin
    record_at(db, now + timedelta(days=3), lead_id, "page_view", now + timedelta(days=3))
    assert lead(client, lead_id)["stage"] == "mql"


def test_a_scoring_model_may_award_points_for_framework_answers(
    client: TestClient, now: datetime
) -> None:
    document = """
name: qualified
fit:
  - {id: bant_qualified, points: 20, when: {framework.bant.verdict: qualified}}
  - {id: big_budget, points: 5, when: {framework.bant.budget: {gte: 100000}}}
  - {id: champ_started, points: 1, when: {framework.champ.completeness: {gt: 0}}}
grades: {cold: 0, warm: 11, hot: 21}
"""
    added = client.post(f"{API}/models", content=document,
                        headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert added.status_code == 201, added.text
    client.post(f"{API}/models/qualified@1/activate")
    lead_id = lead_with(client, "f@acme.com", now)
    assert score_of(client, lead_id)["score"] == 0
    answers = {"budget": 150000, "authority": "decision_maker", "need": True, "timing": 12}
    client.post(f"{API}/leads/{lead_id}/frameworks/bant/answers", json={"answers": answers})
    assert score_of(client, lead_id)["score"] == 5  # big budget, but timing fails
    client.post(f"{API}/leads/{lead_id}/frameworks/bant/answers", json={"answers": {"timing": 3}})
    card = score_of(client, lead_id)
    assert card["score"] == 25 and card["breakdown"][0]["value"] == "qualified"
    client.post(f"{API}/leads/{lead_id}/frameworks/champ/answers",
                json={"answers": {"challenges": True}})  # fmt: skip
    assert score_of(client, lead_id)["score"] == 26


def test_people_send_a_lead_to_nurture_only_with_a_listed_reason(
    client: TestClient, now: datetime
) -> None:
    lead_id = lead_with(client, "n@acme.com", now)
    refused = client.post(f"{API}/leads/{lead_id}/stage", json={"stage": "nurture"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    assert "one of: not_ready" in refused.json()["errors"][0]["reason"]
    moved = client.post(
        f"{API}/leads/{lead_id}/stage",
        json={"stage": "nurture", "reason": "early_research", "by": "jan"},
    )
    assert moved.json()["stage"] == "nurture"
    last = client.get(f"{API}/leads/{lead_id}/stages").json()[-1]
    assert (last["to_stage"], last["actor"], last["reason"]) == (
        "nurture", "jan via api:tests", "early_research")  # fmt: skip
