"""A realistic person with data in every corner of the workspace, and a few other leads.

Every personal value is distinctive, so a search of the whole database for it finds it only
where it was really stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.services.analytics.costs import CostLine, record_costs
from leadq.services.qualification import decisions as qualification
from leadq.services.qualification import notes
from leadq.services.qualification.decisions import OverrideRequest
from leadq.services.qualification.rules import current_rules
from leadq.store.db import Database
from leadq.store.tables import Base, Lead
from tests.automation.documents import put_in_force
from tests.integration.test_scoring_api import API, use_model

EMAIL = "zuzanna.wk@wisniewska-kowal.example"
PRIVATE_EMAIL = "zuzia.private@poczta.example"
CONSENT_SOURCE = "phone call with Zuzanna, confirmed by Ksawery"
CONSENT_WORDING = "zuzanna-wk-special-terms"
REFERRAL_CAMPAIGN = f"referral {EMAIL}"

PROFILE: dict[str, Any] = {
    "email": EMAIL, "phone": "+48 601 234 567", "first_name": "Zuzanna",
    "last_name": "Wiśniewska-Kowal", "company": "Atelier Zuzanny",
    "job_title": "Chief Executive Officer",
    "department": "Zarząd Główny", "city": "Sandomierz", "region": "Świętokrzyskie", "age": 41,
    "gender": "kobieta", "education": "doktorat z fizyki", "industry": "software",
    "company_size": 300, "country": "PL", "source": "website", "campaign": "spring-webinar",
    "utm_campaign": REFERRAL_CAMPAIGN,
    "attributes": {"linkedin": "linkedin.com/in/zuzanna-wk", "favourite_colour": "vermilion"},
}  # fmt: skip

EVENT_PROPERTIES: list[tuple[str, dict[str, Any]]] = [
    ("form_submitted", {"email": PRIVATE_EMAIL, "name": "Zuzanna Maria", "form": "contact",
                        "message": "Please call me about the Zielona Street office"}),
    ("page_view", {"path": f"/pricing?email={PRIVATE_EMAIL.replace('@', '%40')}#top",
                   "seconds": 120}),
    ("content_download", {"asset_type": "whitepaper", "file": "zuzanna-notes.pdf"}),
    ("webinar_attended", {PRIVATE_EMAIL: 1}),  # a property named after the person
    ("purchase", {"amount": 12000, "currency": "EUR", "plan": "enterprise",
                  "invoice_to": "ul. Zielona 5, Sandomierz",
                  "product": "Gift box for Ksawery Wiśniewski"}),  # catalogue name, own value
]  # fmt: skip

NOTE = "Her daughter Ksenia starts school in Kielce"
ACCEPT_COMMENT = "Wants a call after five, mobile only"
REJECT_COMMENT = "Budget frozen until her maternity leave ends"
CHAMP_TEXT = "Her board meets on Thursdays in Opatów"
OVERRIDE_REASON = "Met her at the Tarnobrzeg trade fair"
REMOVAL_REASON = "She asked us not to favour her, ticket ZX-991"
PREDICTIVE_REASON = "Chief Executive Officer at a 300-person company raises the chance"

PERSONAL_VALUES = (
    EMAIL, "wisniewska-kowal", "601234567", "Zuzanna", "Wiśniewska", "Atelier", "Chief Executive",
    "Zarząd", "Sandomierz", "Świętokrzyskie", "kobieta", "doktorat", "zuzanna-wk", "vermilion",
    "zuzia.private", "Zuzanna Maria", "Zielona", "zuzanna-notes", NOTE, ACCEPT_COMMENT,
    REJECT_COMMENT, CHAMP_TEXT, OVERRIDE_REASON, REMOVAL_REASON, "raises the chance",
    "Ksawery", "special-terms",
)  # fmt: skip
"""What must be nowhere in the database once the person is erased."""

AUTOMATION = f"""
endpoints:
  crm: {{url: "http://127.0.0.1:9/hook"}}
segments: [newcomers]
rules:
  - id: welcome
    trigger: lead_created
    do:
      - task: {{kind: first_touch, due_minutes: 60, working_hours: false}}
      - notify: {{webhook: crm}}
      - notify: {{email: sales@example.com}}
      - segment: {{add: newcomers}}
  - id: thank_you
    trigger: lead_created
    where: {{email: "{EMAIL}"}}
    do:
      - notify: {{email: "{EMAIL}"}}
  - id: hot
    trigger: grade_changed
    when: {{to: [hot]}}
    do:
      - notify: {{webhook: crm}}
"""

OTHERS: list[dict[str, Any]] = [
    {"email": "jan@northwind.example", "first_name": "Jan", "job_title": "CTO",
     "company_size": 120, "source": "referral", "campaign": "partners", "country": "DE"},
    {"email": "li@acme.example", "first_name": "Li", "job_title": "Analyst",
     "company_size": 20, "source": "website", "campaign": "spring-webinar", "country": "US"},
    {"email": "ola@acme.example", "first_name": "Ola", "job_title": "VP Sales",
     "company_size": 800, "source": "paid_search", "country": "PL"},
]  # fmt: skip


@dataclass(frozen=True)
class Workspace:
    person: int
    others: list[int]


def post(client: TestClient, path: str, body: Any, status: int = 200) -> Any:
    response = client.post(f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def events_of(lead_id: int, when: datetime, items: list[tuple[str, dict[str, Any]]],
              prefix: str) -> list[dict[str, Any]]:  # fmt: skip
    return [{"lead_id": lead_id, "type": kind, "occurred_at": (when + timedelta(minutes=i))
             .isoformat(), "properties": props, "idempotency_key": f"{prefix}-{i}"}
            for i, (kind, props) in enumerate(items)]  # fmt: skip


def build(client: TestClient, db: Database, now: datetime, folder: Path,
          monkeypatch: pytest.MonkeyPatch) -> Workspace:  # fmt: skip
    """The person (through the API and the services, as people and systems would) and three
    other leads with events and a purchase, under an active model and automation rules."""
    put_in_force(monkeypatch, folder, AUTOMATION)
    use_model(client, "classic")
    started = now - timedelta(hours=3)
    consent = {"purpose": "marketing_email", "granted": True, "source": CONSENT_SOURCE,
               "at": started.isoformat(), "wording_version": CONSENT_WORDING}  # fmt: skip
    person = post(client, "/leads", {**PROFILE, "consents": [consent]}, 201)["id"]
    post(client, "/events/batch",
         {"events": events_of(person, started, EVENT_PROPERTIES, f"form-{EMAIL}")})  # fmt: skip
    others = []
    for index, profile in enumerate(OTHERS):
        lead_id = post(client, "/leads", profile, 201)["id"]
        items: list[tuple[str, dict[str, Any]]] = [
            ("page_view", {"path": "/pricing", "seconds": 30 * index}),
            ("form_submitted", {"form": "contact"}),
        ]
        purchase = {"amount": 990 * (index + 1), "currency": "EUR", "plan": "enterprise"}
        items += [("purchase", purchase)] * (index % 2 + (index == 0))
        post(client, "/events/batch",
             {"events": events_of(lead_id, started, items, f"other{index}")})  # fmt: skip
        others.append(lead_id)
    _work_on(db, person, now)
    with db.unit_of_work() as session:  # spend on campaigns, one named after the person
        record_costs(session, [CostLine(REFERRAL_CAMPAIGN, now.date(), 150.0),
                               CostLine("spring-webinar", now.date(), 800.0)], now)  # fmt: skip
    return Workspace(person, others)


def _work_on(db: Database, person: int, now: datetime) -> None:
    """What reps do on the lead card: accept, reject, answer, override, note."""
    rules = current_rules()
    with db.unit_of_work() as session:
        lead = session.get(Lead, person)
        assert lead is not None and lead.stage == "mql", "a hot lead becomes a MQL"
        qualification.accept(session, rules, person, "rep:ewa", now, ACCEPT_COMMENT)
        qualification.reject(session, rules, person, "not_ready", REJECT_COMMENT, "rep:ewa", now)
        qualification.answer(session, rules, person, "bant",
                             {"budget": 50000, "authority": "decision_maker", "need": True},
                             "rep:ewa", now)  # fmt: skip
        qualification.answer(session, rules, person, "champ", {"challenge_notes": CHAMP_TEXT},
                             "rep:ewa", now)  # fmt: skip
        removed = qualification.add_override(
            session, rules, person, OverrideRequest("points", "temporary bump", points=5),
            "rep:ewa", now)  # fmt: skip
        qualification.remove_override(session, person, removed.id, REMOVAL_REASON, "rep:ewa", now)
        qualification.add_override(session, rules, person,
                                   OverrideRequest("points", OVERRIDE_REASON, points=3),
                                   "rep:ewa", now)  # fmt: skip
        notes.add_note(session, person, NOTE, "rep:ewa", now)
        lead = session.get(Lead, person)
        assert lead is not None
        lead.probability, lead.predictive_score, lead.predictive_model = 0.7, 70, "fit@1"
        lead.predictive_reasons = [{"column": "job_title", "reason": PREDICTIVE_REASON,
                                    "contribution": 0.3}]  # fmt: skip


def found_anywhere(db: Database, values: tuple[str, ...]) -> list[str]:
    """Every ``table.column`` (with the value) of the whole database holding one of
    ``values``, case-insensitively; JSON documents and binary columns are searched as text."""
    wanted = [v.lower() for v in values]
    hits = []
    with db.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    elif isinstance(value, str):
                        text = value
                    elif isinstance(value, bytes):  # stored model artifacts
                        text = value.decode("utf-8", errors="replace")
                    else:
                        continue
                    hits += [f"{table.name}.{column}: {v}" for v in wanted if v in text.lower()]
    return hits
