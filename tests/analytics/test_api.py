"""The analytics endpoints on SQLite and PostgreSQL: metrics, the dashboard series, cost
uploads, and their refusals (no key, bad parameters, bad or oversized files)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.services.analytics import costs
from leadq.store.db import Database
from leadq.store.tables import CampaignCost
from tests.analytics.dataset import Workspace, build

API = "/api/v1"
PERIOD = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-23T00:00:00Z"}


@pytest.fixture
def workspace(db: Database) -> Workspace:
    return build(db)


def ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def refused(answer: Any, status: int) -> list[str]:
    assert answer.status_code == status, answer.text
    return [e["field"] for e in answer.json()["errors"]]


@pytest.mark.usefixtures("workspace")
def test_metrics_by_campaign_over_a_period(client: TestClient) -> None:
    body = ok(client.get(f"{API}/analytics", params={"by": "campaign", **PERIOD}))
    assert body["by"] == "campaign" and body["since"].startswith("2026-03-02T00:00:00")
    spring = body["rows"][0]
    # A, B, C: 2 of 3 qualified and converted; cost 300 + 200; revenue 990 + 2400
    assert spring == {
        "group": "spring", "leads": 3, "qualified": 2, "converted": 2,
        "qualification_rate": pytest.approx(2 / 3), "conversion_rate": pytest.approx(2 / 3),
        "avg_days_to_conversion": 7.5, "cost": 500.0, "cost_per_lead": pytest.approx(500 / 3),
        "revenue": 3390.0, "lifetime_value": 1695.0,
        "engagement_score": pytest.approx((8 + 3 + 12) / 3),
    }  # fmt: skip
    assert [r["group"] for r in body["rows"]] == ["spring", "(none)", "summer", "winter"]


@pytest.mark.usefixtures("workspace")
def test_metrics_total_and_segments(client: TestClient) -> None:
    (total,) = ok(client.get(f"{API}/analytics"))["rows"]
    assert (total["group"], total["leads"], total["converted"]) == ("all", 9, 4)
    segments = ok(client.get(f"{API}/analytics", params={"by": "segment", **PERIOD}))["rows"]
    assert [(s["group"], s["leads"]) for s in segments] == [
        ("engaged", 3), ("paid", 2), ("nobody", 0)
    ]  # fmt: skip


@pytest.mark.usefixtures("workspace")
def test_dashboard_series_without_personal_data(client: TestClient) -> None:
    body = ok(client.get(f"{API}/analytics/dashboard", params={"seed": 4, "sample": 3}))
    assert [(b["label"], b["value"]) for b in body["funnel"]] == [
        ("iql", 9), ("mql", 3), ("sal", 2), ("sql", 2), ("opportunity", 2), ("customer", 2)
    ]  # fmt: skip
    assert [g["label"] for g in body["conversion_by_grade"]] == ["cold", "warm", "hot", "unscored"]
    assert len(body["conversion_by_decile"]) == 8
    assert [r["owner"] for r in body["speed_to_lead"]] == ["alice", "bob", "(unassigned)"]
    assert len(body["score_trend"]) == 12
    assert {c["group"] for c in body["channels"]} == {"website", "paid_search", "(none)",
                                                      "referral"}  # fmt: skip
    sample = body["low_score_sample"]
    assert len(sample) == 3 and all(set(x) == {"id", "score", "grade"} for x in sample)
    again = ok(client.get(f"{API}/analytics/dashboard", params={"seed": 4, "sample": 3}))
    assert again["low_score_sample"] == sample


def test_costs_as_a_csv_upload_and_as_json(client: TestClient) -> None:
    csv = "campaign;spent_on;amount;source\nspring;2026-03-02;300,50;\nspring;2026-03-09;200;ads\n"
    files = {"file": ("costs.csv", csv.encode(), "text/csv")}
    assert ok(client.post(f"{API}/analytics/costs", files=files)) == {"stored": 2}
    lines = [{"campaign": "spring", "spent_on": "2026-03-09", "amount": 250, "source": "ads"},
             {"campaign": "summer", "spent_on": "2026-03-16", "amount": 150.25,
              "currency": "pln"}]  # fmt: skip
    assert ok(client.post(f"{API}/analytics/costs", json=lines)) == {"stored": 2}
    (total,) = ok(client.get(f"{API}/analytics"))["rows"]
    assert total["cost"] == 300.5 + 250 + 150.25  # the JSON line replaced the uploaded 200


def test_bad_costs_are_refused_naming_the_line_or_field(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{API}/analytics/costs"
    bad_csv = b"campaign,spent_on,amount\nspring,2026-03-02,1\nspring,yesterday,-1\n"
    answer = client.post(url, files={"file": ("c.csv", bad_csv, "text/csv")})
    assert refused(answer, 422) == ["line 3", "line 3"]
    assert "spent_on" in answer.text and "negative" in answer.text
    no_file = client.post(url, files={"other": ("c.csv", b"x", "text/csv")})
    assert refused(no_file, 422) == ["file"]
    bad_json = [{"campaign": "a", "spent_on": "2026-03-02", "amount": -1},
                {"campaign": "a", "spent_on": "2026-03-02", "amount": 1, "extra": 1}]  # fmt: skip
    assert refused(client.post(url, json=bad_json), 422) == ["[0].amount", "[1].extra"]
    twice = [{"campaign": "a", "spent_on": "2026-03-02", "amount": 1}] * 2
    assert refused(client.post(url, json=twice), 422) == ["[1]"]
    assert refused(client.post(url, json=[]), 422) == ["body"]
    malformed = client.post(url, content=b"[{", headers={"content-type": "application/json"})
    assert refused(malformed, 422) == ["body"]
    as_text = client.post(url, content=b"x", headers={"content-type": "text/csv"})
    assert refused(as_text, 415) == ["content-type"]
    monkeypatch.setattr(costs, "MAX_FILE_BYTES", 2**20)
    big = b"campaign,spent_on,amount\n" + b"spring,2026-03-02,1\n" * 60_000  # 1.2 MB
    answer = client.post(url, files={"file": ("c.csv", big, "text/csv")})
    assert refused(answer, 413) == ["file"] and answer.json()["error"] == "too_large"
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CampaignCost)) == 0


def test_an_upload_over_the_body_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    huge = b"campaign,spent_on,amount\n" + b"x" * (costs.MAX_FILE_BYTES + 2**20)
    answer = client.post(f"{API}/analytics/costs", files={"file": ("c.csv", huge, "text/csv")})
    assert refused(answer, 413) == ["body"]


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "channel"}, "by"),
    ({"since": "2026-03-23T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "since"),
    ({"since": "last tuesday"}, "since"),
])  # fmt: skip
def test_bad_parameters(client: TestClient, params: dict[str, str], field: str) -> None:
    assert refused(client.get(f"{API}/analytics", params=params), 422) == [field]


def test_dashboard_parameters_are_bounded(client: TestClient) -> None:
    url = f"{API}/analytics/dashboard"
    assert refused(client.get(url, params={"weeks": 0}), 422) == ["weeks"]
    assert refused(client.get(url, params={"sample": 1000}), 422) == ["sample"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/analytics"), ("GET", "/analytics/dashboard"), ("POST", "/analytics/costs"),
])  # fmt: skip
def test_every_endpoint_needs_a_key(anonymous: TestClient, method: str, path: str) -> None:
    answer = anonymous.request(method, f"{API}{path}", json=[])
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
