"""A workspace whose model scores accounts: people of one company arrive with their visits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring import rescoring as scoring
from leadq.store.db import Database
from leadq.store.tables import Company

MODEL = """\
name: accounts
fit:
  - id: title
    levels:
      - {level: 3, when: {seniority: {in: [c_level, vp]}}}
      - {level: 1, when: {seniority: manager}}
  - {id: hot_account, points: 10, when: {account_grade: hot}}
engagement:
  - {id: visits, weight: 2, event: page_view, level: count, cap: 20}
grades: {cold: 0, warm: 10, hot: 25}
account:
  fit:
    - {id: sized, points: 5, when: {company_size: {gte: 100}}}
  engagement: {cap_per_person: 10}
  committee: {engaged_from: 4, points: {c_level: 10, manager: 5}}
  grades: {cold: 0, warm: 20, hot: 35}
"""
RULES = """\
segments: [hot-accounts]
rules:
  - id: account_heats_up
    trigger: account_grade_changed
    when: {to: [hot]}
    do: [{segment: {add: hot-accounts}}]
"""


def person(db: Database, now: datetime, email: str, title: str, visits: int) -> int:
    with db.unit_of_work() as session:
        lead = upsert_lead(session, LeadInput.model_validate({
            "email": email, "first_name": "P", "job_title": title, "company_size": 400,
        }), "api", now, IntakePolicy()).lead  # fmt: skip
        events = [EventInput(lead_id=lead.id, type="page_view", properties={"path": "/x"},
                             occurred_at=now - timedelta(minutes=i), idempotency_key=f"{email}{i}")
                  for i in range(visits)]  # fmt: skip
        record_events(session, events, now, timedelta(minutes=5))
        return lead.id


def account(db: Database, domain: str) -> Company:
    with db.reading() as session:
        company = session.scalars(select(Company).where(Company.domain == domain)).one()
        session.expunge(company)
        return company


def activate(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        row = scoring.add_model(session, MODEL, "tests", now)
        scoring.activate(session, f"{row.name}@{row.version}", now)
