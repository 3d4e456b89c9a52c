"""Predictive scoring in the workspace: train on its own history as of each decision moment,
register, score in real time beside the rules score, split champion and challenger, backtest."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadq.predictive.history import Past as LeadPast
from leadq.predictive.history import decision_moments
from leadq.services.errors import Conflict
from leadq.services.predictive import files as predictive
from leadq.services.predictive import registry
from leadq.services.predictive.history import history
from leadq.services.scoring import backtest
from leadq.store.db import Database
from tests.integration.test_scoring_api import API, use_model
from tests.predictive.workspace import build_history

WEEK = timedelta(days=7)


def test_decision_moments_skip_young_and_already_converted_leads() -> None:
    now = datetime(2026, 6, 1)
    pasts = [LeadPast(1, now - timedelta(days=30), None),
             LeadPast(2, now - timedelta(days=30), now - timedelta(days=10)),
             LeadPast(3, now - timedelta(days=30), now - timedelta(days=27)),  # before day 7
             LeadPast(4, now - timedelta(days=3), None)]  # fmt: skip
    chosen = decision_moments(pasts, WEEK, now)
    assert chosen == {1: (now - timedelta(days=23), 0), 2: (now - timedelta(days=23), 1)}


def test_history_sees_each_lead_as_of_its_decision_moment(db: Database, now: datetime) -> None:
    past = build_history(db, now, leads=160)
    with db.reading() as session:
        seen = history(session, WEEK, now)
    assert len(seen.frame) == 160 - past.converted_early - past.young
    assert sum(seen.outcomes.values()) == past.converted
    # converters asked for a quote on day 9: after the moment, so never counted
    assert set(seen.frame["events: quote_requested"].to_list()) == {"0"}
    assert set(seen.frame["events: purchase"].to_list()) == {"0"}
    assert "email" not in seen.frame.columns and "first_name" not in seen.frame.columns


@pytest.fixture
def workspace_model(db: Database, now: datetime, tmp_path: Path) -> Path:
    build_history(db, now)
    predictive.train_workspace(db, WEEK, tmp_path / "model", now)
    return tmp_path / "model"


def test_train_backtest_activate_and_score_in_real_time(
    client: TestClient, db: Database, now: datetime, workspace_model: Path
) -> None:
    report = json.loads((workspace_model / "report.json").read_text())
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert why["events: quote_requested"] == "the same value on every row"  # no leak
    assert report["metrics"]["roc_auc"] > 0.7
    assert "industry" in [i["column"] for i in report["importance"][:2]]

    use_model(client, "classic")
    result = backtest.run(db, ["classic", str(workspace_model)], WEEK,
                          backtest.Capacity.parse("20%"), now)  # fmt: skip
    classic, learnt = result.results
    assert (classic.kind, learnt.kind) == ("rules", "predictive")
    assert classic.calls == learnt.calls == round(result.leads * 0.2)
    assert {g["grade"] for g in classic.by_grade} == {"cold", "warm", "hot"}
    assert sum(g["leads"] for g in classic.by_grade) == result.leads
    assert learnt.roc_auc > classic.roc_auc  # industry drives buying; classic ignores it
    assert learnt.captured > classic.captured

    model = predictive.load(workspace_model)
    with db.unit_of_work() as session:
        first = registry.add(session, model, "buyers", "tests", now)
        second = registry.add(session, model, "buyers", "tests", now)
    assert (first.version, second.version) == (1, 2)
    answer = client.post(f"{API}/predictive/models/buyers@1/activate")
    assert answer.status_code == 200 and answer.json()["role"] == "champion"

    lead = client.post(f"{API}/leads", json={"email": "new@bank.example", "industry": "software",
                                             "company_size": 300}).json()  # fmt: skip

    def event(kind: str, days_ago: int) -> None:
        sent = {"lead_id": lead["id"], "type": kind,
                "occurred_at": (now - timedelta(days=days_ago)).isoformat()}  # fmt: skip
        assert client.post(f"{API}/events?wait=true", json=sent).status_code == 201

    event("form_submitted", 3)
    before = client.get(f"{API}/leads/{lead['id']}/score").json()
    assert before["predictive_model"] == "buyers@1" and 1 <= before["predictive_score"] <= 100
    assert before["score"] is not None and before["model"].startswith("classic")  # both scores
    top = before["reasons"][0]
    assert top["reason"].startswith(top["column"]) and top["contribution"] != 0
    event("webinar_attended", 0)
    after = client.get(f"{API}/leads/{lead['id']}/score").json()
    assert after["probability"] > before["probability"]  # real time: the webinar counted
    listed = client.get(f"{API}/leads", params={"sort": "-probability", "limit": 5}).json()
    probabilities = [item["probability"] for item in listed["items"]]
    assert probabilities == sorted(probabilities, reverse=True)

    answer = client.post(f"{API}/predictive/models/buyers@2/activate",
                         params={"challenger_share": 30})  # fmt: skip
    assert answer.json()["role"] == "challenger"
    arms = {a["model"]: a for a in client.get(f"{API}/predictive/arms").json()}
    assert arms["buyers@1"]["arm"] == "champion" and arms["buyers@2"]["arm"] == "challenger"
    total = arms["buyers@1"]["leads"] + arms["buyers@2"]["leads"]
    assert 0.15 < arms["buyers@2"]["leads"] / total < 0.45
    for item in client.get(f"{API}/leads", params={"limit": 200}).json()["items"]:
        expected = "buyers@2" if registry.arm(item["id"], 30) == "challenger" else "buyers@1"
        assert item["predictive_model"] == expected

    assert client.post(f"{API}/predictive/models/buyers@1/activate",
                       params={"challenger_share": 10}).status_code == 409  # fmt: skip
    assert client.post(f"{API}/predictive/models/buyers@9/activate").status_code == 404
    assert client.post(f"{API}/predictive/models/buyers@2/activate").json()["role"] == "champion"
    rolled = client.post(f"{API}/predictive/rollback").json()
    assert rolled["model"] == "buyers@1" and rolled["role"] == "champion"


def test_rollback_without_an_earlier_champion_is_refused(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session, pytest.raises(Conflict, match="no earlier champion"):
        registry.rollback(session, "tests", now)


def test_too_little_history_is_a_clear_error(db: Database, now: datetime, tmp_path: Path) -> None:
    with pytest.raises(predictive.PredictiveError, match="nothing to learn from yet"):
        predictive.train_workspace(db, WEEK, tmp_path / "m", now)
    with pytest.raises(backtest.BacktestError, match="needs converted and unconverted"):
        backtest.run(db, ["classic"], WEEK, backtest.Capacity.parse("40"), now)


@pytest.mark.parametrize("text", ["0", "-5", "0%", "150%", "many", "", "1e400"])
def test_bad_capacities_are_refused(text: str) -> None:
    with pytest.raises(backtest.BacktestError, match="--capacity"):
        backtest.Capacity.parse(text)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("post", "/predictive/models/" + "x" * 200 + "/activate", 422),
    ("post", "/predictive/models/a@1/activate?challenger_share=0", 422),
    ("post", "/predictive/models/a@1/activate?challenger_share=51", 422),
    ("post", "/predictive/models/a@1/activate?challenger_share=lots", 422),
    ("post", "/predictive/models/a@one/activate", 422),
    ("post", "/predictive/models/%00%27;drop/activate", 422),
    ("post", "/predictive/models/ghost@3/activate", 404),
    ("post", "/predictive/rollback", 409),
])  # fmt: skip
def test_bad_predictive_requests_are_refused(client: TestClient, method: str, path: str,
                                             status: int) -> None:  # fmt: skip
    answer = client.request(method, API + path)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert client.get(f"{API}/predictive/models").json() == []


def test_predictive_endpoints_need_a_key(anonymous: TestClient) -> None:
    assert anonymous.get(f"{API}/predictive/models").status_code == 401
    assert anonymous.post(f"{API}/predictive/rollback").status_code == 401
