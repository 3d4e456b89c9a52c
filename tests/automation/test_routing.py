"""Routing and speed-to-lead with a controlled clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.automation import tasks
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask, Lead, OutboxMessage
from tests.automation.documents import TEAMS, put_in_force

ROUTING = (
    TEAMS
    + """
rules:
  - id: route_new
    trigger: lead_created
    do:
      - assign: {company_owner: true, territory: true, round_robin: emea}
      - task: {kind: first_touch, due_minutes: 15}
  - id: sla
    trigger: sla_breached
    when: {task: first_touch}
    do: [{notify: {email: manager}}]
"""
)
MONDAY_LATE = datetime(2026, 11, 23, 15, 50, tzinfo=UTC)  # 16:50 in Warsaw


def arrive(db: Database, at: datetime, **profile: object) -> Lead:
    with db.unit_of_work() as session:
        lead_id = upsert_lead(session, LeadInput.model_validate(profile), "tests", at,
                              IntakePolicy()).lead.id  # fmt: skip
    with db.reading() as session:  # as committed, automation included
        lead = session.get(Lead, lead_id)
        assert lead is not None
        session.expunge(lead)
    return lead


@pytest.fixture(autouse=True)
def routing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    put_in_force(monkeypatch, tmp_path, ROUTING)


def test_round_robin_is_fair_and_in_order(db: Database) -> None:
    owners = [arrive(db, MONDAY_LATE, email=f"p{i}@firm{i}.example", country="PL").owner
              for i in range(30)]  # fmt: skip
    assert owners[:4] == ["anna", "piotr", "jan", "anna"]
    assert Counter(owners) == {"anna": 10, "piotr": 10, "jan": 10}


def test_territory_and_company_owner_come_before_round_robin(db: Database) -> None:
    assert arrive(db, MONDAY_LATE, email="a@us.example", country="US").owner == "bob"
    assert arrive(db, MONDAY_LATE, email="b@de.example", country="DE").owner == "anna"
    assert arrive(db, MONDAY_LATE, email="c@nowhere.example", country="JP").owner == "piotr"
    first = arrive(db, MONDAY_LATE, email="x@acme.example", company="Acme", country="US")
    colleague = arrive(db, MONDAY_LATE, email="y@acme.example", company="Acme", country="PL")
    assert first.owner == "bob" and colleague.owner == "bob"  # the account's owner, not PL's team


def test_sla_counts_working_hours_and_breaches_once(db: Database) -> None:
    lead = arrive(db, MONDAY_LATE, email="late@firm.example", country="PL")
    with db.reading() as session:
        task = session.scalars(select(FollowUpTask)).one()
    assert task.due_at == datetime(2026, 11, 24, 8, 5, tzinfo=UTC)  # Tuesday 09:05 in Warsaw
    with db.unit_of_work() as session:
        assert tasks.breach_overdue(session, task.due_at - timedelta(minutes=1)) == 0
    with db.unit_of_work() as session:
        assert tasks.breach_overdue(session, task.due_at + timedelta(minutes=1)) == 1
    with db.unit_of_work() as session:
        assert tasks.breach_overdue(session, task.due_at + timedelta(hours=5)) == 0  # once
    with db.reading() as session:
        (mail,) = session.scalars(select(OutboxMessage)).all()
        assert mail.target == "eva@example.com" and "sla" in mail.payload["subject"]
        assert f"lead {lead.id}" in mail.payload["subject"]


def test_first_touch_by_the_owner_completes_the_task(db: Database) -> None:
    lead = arrive(db, MONDAY_LATE, email="quick@firm.example", country="PL")
    touch_at = MONDAY_LATE + timedelta(minutes=5)
    with db.unit_of_work() as session:
        other = EventInput(lead_id=lead.id, type="call_logged", occurred_at=touch_at,
                           properties={"by": "somebody-else"})  # fmt: skip
        record_events(session, [other], touch_at, timedelta(minutes=5))
    with db.reading() as session:
        assert session.scalars(select(FollowUpTask)).one().done_at is None
    with db.unit_of_work() as session:
        mine = EventInput(lead_id=lead.id, type="call_logged", occurred_at=touch_at,
                          properties={"by": lead.owner})  # fmt: skip
        record_events(session, [mine], touch_at, timedelta(minutes=5))
    with db.reading() as session:
        task = session.scalars(select(FollowUpTask)).one()
        assert task.done_at == touch_at and task.done_how == "call_logged"
    with db.unit_of_work() as session:
        assert tasks.breach_overdue(session, MONDAY_LATE + timedelta(days=3)) == 0
