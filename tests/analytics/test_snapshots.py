"""The kept dashboard, on SQLite and PostgreSQL: served as computed while it is young, the same
series as a fresh computation, computed again when old or asked for, dropped by an erasure,
refreshed by the worker before anybody waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.analytics import snapshots
from leadq.services.analytics.dashboard import dashboard
from leadq.store.db import Database
from leadq.store.tables import ReportSnapshot
from tests.analytics.dataset import Workspace, build

API = "/api/v1"
SAMPLE = {"seed": 4, "sample": 3}


@pytest.fixture
def workspace(db: Database) -> Workspace:
    return build(db)


def _get(client: TestClient, **params: Any) -> Any:
    answer = client.get(f"{API}/analytics/dashboard", params={**SAMPLE, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _leads(body: dict[str, Any]) -> int:
    return sum(channel["leads"] for channel in body["channels"])


def _kept(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ReportSnapshot)) or 0


@pytest.mark.usefixtures("workspace")
def test_a_kept_dashboard_is_served_until_asked_for_a_fresh_one(
    client: TestClient, db: Database
) -> None:
    first = _get(client)
    assert _leads(first) == 9 and _kept(db) == 1
    assert client.post(f"{API}/leads", json={"email": "late@acme.com"}).status_code == 201
    kept = _get(client)
    assert kept == first  # the same series, the same moment: nothing recomputed
    fresh = _get(client, fresh="true")
    assert _leads(fresh) == 10 and fresh["as_of"] > first["as_of"]
    assert _get(client) == fresh  # the fresh one is kept in its place
    assert _kept(db) == 1
    other = _get(client, sample=2)  # other parameters are another dashboard
    assert len(other["low_score_sample"]) == 2 and _kept(db) == 2


@pytest.mark.usefixtures("workspace")
def test_kept_series_equal_a_computation_at_the_same_moment(db: Database) -> None:
    now = datetime.now(UTC)
    computed = snapshots.compute(db, now, 12, 3, 4)
    with db.reading() as session:
        live = dashboard(session, now, 12, 3, 4)
    served = snapshots.current(db, now + timedelta(seconds=10), 12, 3, 4, max_age=60)
    assert served.as_of == now and served.seconds == computed.seconds
    assert [lead.id for lead in served.dashboard.low_score_sample] == [
        lead.id for lead in live.low_score_sample]  # fmt: skip
    for name in ("funnel", "conversion_by_grade", "conversion_by_decile", "channels",
                 "campaigns", "score_trend", "speed_to_lead", "total"):  # fmt: skip
        assert getattr(served.dashboard, name) == getattr(live, name), name
    too_old = snapshots.current(db, now + timedelta(seconds=61), 12, 3, 4, max_age=60)
    assert too_old.as_of == now + timedelta(seconds=61)


@pytest.mark.usefixtures("workspace")
def test_max_age_zero_computes_every_time(db: Database, api_key: str) -> None:
    settings = Settings(database_url=db.url, dashboard_max_age_seconds=0)
    with TestClient(create_app(settings, db)) as client:
        client.headers["Authorization"] = f"Bearer {api_key}"
        first = _get(client)
        client.post(f"{API}/leads", json={"email": "late@acme.com"})
        assert _leads(_get(client)) == _leads(first) + 1


@pytest.mark.usefixtures("workspace")
def test_an_erasure_drops_every_kept_report(client: TestClient, db: Database) -> None:
    _get(client)
    _get(client, sample=2)
    assert _kept(db) == 2
    lead = client.post(f"{API}/leads", json={"email": "gone@acme.com"}).json()["id"]
    assert client.post(f"{API}/leads/{lead}/erase").status_code == 200
    assert _kept(db) == 0


@pytest.mark.usefixtures("workspace")
def test_the_worker_refreshes_the_default_dashboard_at_half_its_age(db: Database) -> None:
    now = datetime.now(UTC)
    assert snapshots.refresh_due(db, now, 300)  # none kept yet
    assert not snapshots.refresh_due(db, now + timedelta(seconds=149), 300)
    assert snapshots.refresh_due(db, now + timedelta(seconds=151), 300)
    assert not snapshots.refresh_due(db, now + timedelta(seconds=999), 0)  # switched off
    assert snapshots.current(db, now + timedelta(seconds=160)).as_of == now + timedelta(
        seconds=151
    )  # a reader gets the worker's one


@pytest.mark.parametrize("bad", ["maybe", "", "2"])
def test_fresh_must_be_a_yes_or_no(client: TestClient, bad: str) -> None:
    answer = client.get(f"{API}/analytics/dashboard", params={"fresh": bad})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "fresh"
