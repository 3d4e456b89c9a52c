"""Export and erasure of a person on SQLite and PostgreSQL: the export holds every kind of
data; after erasure no personal value is left in any column of any table, while every KPI
stays exactly what it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.config import get_settings
from leadq.domain.privacy import digested
from leadq.services.analytics import dashboard
from leadq.services.analytics.metrics import DIMENSIONS, metrics_by
from leadq.services.errors import NotFound
from leadq.services.privacy import subjects as privacy
from leadq.services.scoring.bulk import rescore_everyone
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Company, Event, Lead, OutboxMessage
from tests.privacy.person import (
    EMAIL,
    PERSONAL_VALUES,
    PRIVATE_EMAIL,
    PROFILE,
    REFERRAL_CAMPAIGN,
    Workspace,
    build,
    found_anywhere,
    post,
)

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def workspace(client: TestClient, db: Database, now: datetime, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Workspace:  # fmt: skip
    return build(client, db, now, tmp_path, monkeypatch)


def kpis(db: Database, now: datetime) -> dict[str, Any]:
    """Every figure the analytics and the dashboard show (the low-score sample by id)."""
    with db.reading() as session:
        board = dashboard.dashboard(session, now, seed=7)
        tables = metrics_by(session, list(DIMENSIONS), now=now)
    shown = {name: getattr(board, name) for name in board.__dataclass_fields__}
    shown["low_score_sample"] = [lead.id for lead in board.low_score_sample]
    return {"dashboard": shown, "metrics": tables}


def erase(db: Database, lead_id: int, now: datetime, reason: str | None = None) -> Any:
    return db.run(lambda s: privacy.erase_lead(s, lead_id, "admin:tests", now, reason))


def test_erasure_leaves_no_personal_value_and_every_kpi_unchanged(
    workspace: Workspace, db: Database, now: datetime
) -> None:
    before = kpis(db, now)
    assert before["dashboard"]["total"].leads == 4 and before["dashboard"]["total"].revenue > 0
    assert len(found_anywhere(db, PERSONAL_VALUES)) > 20  # the search finds what is there
    with db.reading() as session:
        scores = {lead.id: (lead.score, lead.grade) for lead in session.scalars(select(Lead))}

    report = erase(db, workspace.person, now, "ticket DSR-17 from Zuzanna")

    assert report.erased and report.events == 5 and report.outbox >= 4 and report.company
    assert report.notes == 1 and report.feedback == 2 and report.answers == 1
    assert found_anywhere(db, (*PERSONAL_VALUES, "DSR-17")) == []
    # every figure is the same; the campaign named after the person is shown by its digest
    expected = repr(before).replace(repr(REFERRAL_CAMPAIGN), repr(digested(REFERRAL_CAMPAIGN)))
    assert repr(kpis(db, now)) == expected
    with db.reading() as session:
        after = {lead.id: (lead.score, lead.grade) for lead in session.scalars(select(Lead))}
        lead = session.get(Lead, workspace.person)
        assert lead is not None and lead.erased_at == now
        assert (lead.age, lead.attributes, lead.source, lead.campaign, lead.country) == (
            None, {}, "website", "spring-webinar", "PL")  # fmt: skip
        assert lead.score_breakdown and all(x["value"] is None for x in lead.score_breakdown)
        assert lead.probability == 0.7 and lead.predictive_reasons[0]["reason"] == ""  # type: ignore[index]
        events = {e.type: e for e in session.scalars(select(Event).where(Event.lead_id == lead.id))}
        messages = list(session.scalars(select(OutboxMessage)
                                        .where(OutboxMessage.lead_id == lead.id)))  # fmt: skip
        company = session.get(Company, lead.company_id)
    assert after == scores
    assert events["page_view"].properties == {"path": "/pricing", "seconds": 120}
    assert events["purchase"].properties == {"amount": 12000, "currency": "EUR",
                                             "plan": "enterprise"}  # fmt: skip
    assert events["form_submitted"].properties == {"form": "contact"}
    assert all(e.idempotency_key and e.idempotency_key.startswith("sha256:")
               for e in events.values())  # fmt: skip
    for message in messages:
        assert message.payload == {"lead_id": workspace.person, "erased": True}
        assert message.status == "dead" and message.last_error == "lead erased"
    assert company is not None and company.name is None


def test_export_holds_every_kind_of_data_and_is_audited_without_personal_values(
    workspace: Workspace, client: TestClient, db: Database
) -> None:
    response = client.get(f"{API}/leads/{workspace.person}/export")
    assert response.status_code == 200, response.text
    data = response.json()
    profile = data["profile"]
    for name in ("email", "first_name", "last_name", "job_title", "city", "age", "attributes"):
        assert profile[name] == PROFILE[name], name
    assert profile["phone"] == "+48601234567" and profile["stage"] == "nurture"
    assert profile["score"] is not None and profile["predictive_reasons"]
    assert profile["consents"]["marketing_email"]["granted"] is True
    assert data["company"]["domain"] == "wisniewska-kowal.example"
    assert data["events"][0]["type"] == "form_submitted"
    assert data["events"][0]["properties"]["email"] == PRIVATE_EMAIL
    for kind in ("score_history", "stage_history", "overrides", "framework_answers",
                 "sales_feedback", "consents", "notes", "tasks", "segments", "outbox"):  # fmt: skip
        assert data[kind], f"the export has no {kind}"
    assert {m["channel"] for m in data["outbox"]} == {"webhook", "email"}
    assert EMAIL in {m["target"] for m in data["outbox"]}  # the message to the person
    assert None in {m["target"] for m in data["outbox"]}  # a rep's address is not theirs
    assert data["segments"][0]["segment"] == "newcomers"
    with db.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.exported"))
        assert [(e.entity_id, e.details, e.actor) for e in entries] == [
            (str(workspace.person), {}, "api:tests")]  # fmt: skip


def test_erasing_twice_is_a_noop_that_says_so_and_is_audited_once(
    workspace: Workspace, client: TestClient, db: Database
) -> None:
    first = client.post(f"{API}/leads/{workspace.person}/erase",
                        json={"reason": "request by e-mail from Zuzanna"})  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json()["erased"] is True and first.json()["counts"]["events"] == 5
    again = client.post(f"{API}/leads/{workspace.person}/erase")
    assert again.status_code == 200 and again.json()["erased"] is False
    assert "already erased" in again.json()["message"]
    with db.reading() as session:
        entries = list(session.scalars(select(AuditEntry)
                                       .where(AuditEntry.action == "lead.erased")))  # fmt: skip
    assert len(entries) == 1
    assert entries[0].details["reason_given"] is True and entries[0].details["by"] == "request"
    assert "Zuzanna" not in str(entries[0].details)


def test_unknown_lead_is_not_found(db: Database, now: datetime) -> None:
    with pytest.raises(NotFound):
        erase(db, 424242, now)
    with pytest.raises(NotFound), db.unit_of_work() as session:
        privacy.export_lead(session, 424242, "tests", now)


def test_erased_lead_keeps_its_score_and_takes_no_events(
    workspace: Workspace, client: TestClient, db: Database, now: datetime
) -> None:
    erase(db, workspace.person, now)
    with db.reading() as session:
        lead = session.get(Lead, workspace.person)
        assert lead is not None
        stored = (lead.score, lead.grade, lead.scored_at, lead.probability, lead.stage)
    total, _ = rescore_everyone(db, now, "nightly")
    assert total == 3  # the others only
    with db.reading() as session:
        lead = session.get(Lead, workspace.person)
        assert lead is not None
        assert (lead.score, lead.grade, lead.scored_at, lead.probability, lead.stage) == stored
    event = {"lead_id": workspace.person, "type": "page_view", "occurred_at": now.isoformat()}
    single = client.post(f"{API}/events", json=event)
    assert single.status_code == 422
    reason = f"lead {workspace.person} was erased: it takes no events"
    assert single.json()["errors"] == [{"field": "lead_id", "reason": reason}]
    batch = client.post(f"{API}/events/batch", json={"events": [event]})
    assert batch.status_code == 422 and "was erased" in batch.text
    with db.reading() as session:
        count = len(session.scalars(select(Event.id).where(Event.lead_id == lead.id)).all())
    assert count == 5


def test_an_erased_lead_takes_no_edits_that_could_bring_personal_data_back(
    workspace: Workspace, client: TestClient, db: Database, now: datetime
) -> None:
    erase(db, workspace.person, now)
    lead = f"{API}/leads/{workspace.person}"
    attempts = [
        client.patch(lead, json={"first_name": "Zuzanna"}),
        client.post(f"{lead}/stage", json={"stage": "nurture", "reason": "later"}),
        client.post(
            f"{lead}/overrides", json={"kind": "points", "points": 5, "reason": "called Zuzanna"}
        ),
        client.post(f"{lead}/frameworks/bant/answers", json={"answers": {"need": True}}),
    ]
    for response in attempts:
        assert response.status_code == 409, response.text
        assert "was erased" in response.text
    with db.reading() as session:
        shell = session.get(Lead, workspace.person)
        assert shell is not None and shell.first_name is None


def test_the_same_person_arriving_again_is_a_new_lead(
    workspace: Workspace, client: TestClient, db: Database, now: datetime
) -> None:
    erase(db, workspace.person, now)
    again = post(client, "/leads", {"email": EMAIL, "phone": PROFILE["phone"],
                                    "first_name": "Zuzanna", "source": "event"}, 201)  # fmt: skip
    assert again["id"] != workspace.person and again["outcome"] == "created"
    assert again["company_id"] is not None  # a fresh account for the domain
    with db.reading() as session:
        shell = session.get(Lead, workspace.person)
        assert shell is not None and shell.email is None and shell.company_id != again["company_id"]


def test_an_account_is_anonymised_with_its_last_live_lead(client: TestClient, db: Database,
                                                          now: datetime) -> None:  # fmt: skip
    first = post(client, "/leads", {"email": "a@solo-firm.example", "company": "Solo Firm"}, 201)
    second = post(client, "/leads", {"email": "b@solo-firm.example"}, 201)
    assert first["company_id"] == second["company_id"]
    erase(db, first["id"], now)
    with db.reading() as session:
        company = session.get(Company, first["company_id"])
        assert company is not None and company.domain == "solo-firm.example"  # still shared
    assert erase(db, second["id"], now).company
    assert found_anywhere(db, ("solo-firm", "Solo Firm")) == []
    third = post(client, "/leads", {"email": "c@solo-firm.example"}, 201)
    assert third["company_id"] not in (None, first["company_id"])
