"""Predictive scoring respects the profiling consent: a lead who withdrew it gets no
probability, in real time or in a full rescore, while everyone else does."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.domain.consent import ConsentInput
from leadq.services.predictive.history import history
from leadq.services.privacy.consents import record_consent
from leadq.services.scoring.bulk import rescore_everyone
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.consent.conftest import record
from tests.predictive.workspace import activate_trained, build_history

API = "/api/v1"


def predicted(client: TestClient, lead_id: int) -> int | None:
    score: int | None = client.get(f"{API}/leads/{lead_id}/score").json()["predictive_score"]
    return score


def test_profiling_withdrawn_means_no_predictive_score(
    client: TestClient, db: Database, now: datetime, tmp_path: Path
) -> None:
    activate_trained(db, now, tmp_path / "model", leads=200)

    def arrive(email: str, **more: object) -> int:
        created = client.post(f"{API}/leads", json={"email": email, "industry": "software",
                                                    "company_size": 300, **more})  # fmt: skip
        assert created.status_code == 201, created.text
        lead_id: int = created.json()["id"]
        event = {"lead_id": lead_id, "type": "webinar_attended", "occurred_at": now.isoformat()}
        assert client.post(f"{API}/events", json=event).status_code == 201
        return lead_id

    agreed = arrive("agreed@bank.example")
    objected = arrive(
        "objected@bank.example", consents=[record("profiling", False, now - timedelta(minutes=1))]
    )
    assert predicted(client, agreed) is not None
    assert predicted(client, objected) is None
    assert client.get(f"{API}/leads/{objected}").json()["probability"] is None

    withdrawn = client.post(f"{API}/leads/{agreed}/consents",
                            json={"consent": record("profiling", False, now)})  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    body = client.get(f"{API}/leads/{agreed}/score").json()
    assert (body["probability"], body["predictive_score"], body["predictive_model"],
            body["reasons"]) == (None, None, None, [])  # emptied at once  # fmt: skip

    rescore_everyone(db, now + timedelta(seconds=1), "rescore")
    with db.reading() as session:
        rows = session.execute(select(Lead.id, Lead.predictive_score))
        scored = {lead_id: score for lead_id, score in rows}
    assert scored[agreed] is None and scored[objected] is None
    others = [score for lead_id, score in scored.items() if lead_id not in (agreed, objected)]
    assert len(others) == 200 and all(score is not None for score in others)

    later = now + timedelta(seconds=2)
    given = client.post(f"{API}/leads/{agreed}/consents",
                        json={"consent": record("profiling", True, later)})  # fmt: skip
    assert given.status_code == 200, given.text
    rescore_everyone(db, later, "rescore")
    assert predicted(client, agreed) is not None  # given again: scored at the next rescore
    assert predicted(client, objected) is None


def test_who_objected_to_profiling_is_neither_learnt_from_nor_replayed(
    db: Database, now: datetime
) -> None:
    build_history(db, now, leads=60)
    with db.reading() as session:
        everyone = set(history(session, timedelta(days=7), now).moments)
    objecting = sorted(everyone)[:5]
    withdrawal = ConsentInput.model_validate(record("profiling", False, now - timedelta(hours=1)))
    with db.unit_of_work() as session:
        for lead_id in objecting:
            record_consent(session, lead_id, withdrawal, "tests", now)
    with db.reading() as session:
        left = set(history(session, timedelta(days=7), now).moments)
    assert left == everyone - set(objecting) and len(everyone) > len(objecting)
