"""The demo workspace: leads from many channels, merged arrivals, every standard event type,
and ten weeks of history — owners, follow-up tasks, outcomes, notes and campaign costs — for
the inbox and the dashboards, all dated between each lead's arrival and now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.domain.events import STANDARD_EVENT_TYPES
from leadq.services.demo import CAMPAIGNS, REPS, build_demo
from leadq.store.db import Database
from leadq.store.tables import (
    AuditEntry,
    CampaignCost,
    Event,
    FollowUpTask,
    Lead,
    Note,
    SalesFeedback,
    StageChange,
)  # fmt: skip

STORED = (Lead, Event, StageChange, FollowUpTask, Note, CampaignCost, SalesFeedback, AuditEntry)


def _counts(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return {t.__name__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in STORED}  # fmt: skip


def _latest(session: Session, *columns: Any) -> list[datetime]:
    found = (session.scalar(select(func.max(column))) for column in columns)
    return [at for at in found if at is not None]


def _before_arrival(session: Session, lead_id: Any, at: Any) -> int:
    query = select(func.count()).select_from(Lead).join_from(Lead, at.class_, lead_id == Lead.id)
    return session.scalar(query.where(at < Lead.created_at)) or 0


def test_demo_covers_channels_merges_and_every_event_type(db: Database) -> None:
    now = datetime.now(UTC)
    summary = build_demo(db, now, leads=60)
    with db.reading() as session:
        leads = session.scalars(select(Lead)).all()
        types = set(session.scalars(select(Event.type).distinct()))
        events = session.scalar(select(func.count()).select_from(Event))
        latest = session.scalar(select(func.max(Event.occurred_at)))
    assert len(leads) == 60 and summary.merged_arrivals > 0
    assert any(len(lead.channels) > 1 for lead in leads)  # merged arrivals grew their channels
    assert len({lead.source for lead in leads}) >= 5
    assert types == STANDARD_EVENT_TYPES
    assert events == summary.events and latest is not None and latest <= now
    assert {lead.seniority for lead in leads} >= {"c_level", "director", "manager", "individual"}
    again = build_demo(db, now, leads=60)
    assert again.events == 0  # deterministic keys: a re-run stores nothing twice


def test_demo_history_is_spread_over_weeks_and_never_in_the_future(db: Database) -> None:
    now = datetime.now(UTC)
    build_demo(db, now, leads=60)
    with db.reading() as session:
        arrivals = list(session.scalars(select(Lead.created_at)))
        moments = _latest(session, Event.occurred_at, Event.received_at, StageChange.at,
                          FollowUpTask.created_at, FollowUpTask.done_at, FollowUpTask.breached_at,
                          Note.at, SalesFeedback.at, AuditEntry.at, Lead.scored_at)  # fmt: skip
        early = [_before_arrival(session, Event.lead_id, Event.occurred_at),
                 _before_arrival(session, StageChange.lead_id, StageChange.at),
                 _before_arrival(session, FollowUpTask.lead_id, FollowUpTask.done_at),
                 _before_arrival(session, Note.lead_id, Note.at)]  # fmt: skip
        spent = session.scalar(select(func.max(CampaignCost.spent_on)))
    assert max(arrivals) - min(arrivals) >= timedelta(weeks=8)
    assert len(moments) == 10 and max(moments) <= now
    assert early == [0, 0, 0, 0]  # what happens to a lead happens after it arrived
    assert spent is not None and spent <= now.date()


def test_demo_gives_outcomes_that_follow_the_score(db: Database) -> None:
    summary = build_demo(db, datetime.now(UTC), leads=60)
    with db.reading() as session:
        leads = session.scalars(select(Lead)).all()
        purchases = session.scalars(select(Event).where(Event.type == "purchase")).all()
        rejected = session.scalar(select(func.count()).where(SalesFeedback.decision == "rejected"))
        reached = set(session.scalars(select(StageChange.to_stage).distinct()))
    customers = {lead.id for lead in leads if lead.stage == "customer"}
    assert customers and len(customers) == summary.customers
    assert {p.lead_id for p in purchases} == customers
    assert all(p.properties["amount"] in (990, 2400, 12000) for p in purchases)
    assert all(p.properties["currency"] == "EUR" for p in purchases)
    rate = {g: _conversion([lead.stage for lead in leads if lead.grade == g])
            for g in ("hot", "warm", "cold")}  # fmt: skip
    assert rate["hot"] > max(rate["warm"], rate["cold"])
    assert rejected and rejected == summary.rejected
    assert {"mql", "sal", "sql", "opportunity", "customer", "unqualified"} <= reached
    assert {lead.owner for lead in leads} == {*REPS, None}


def _conversion(stages: list[str]) -> float:
    return stages.count("customer") / len(stages) if stages else 0.0


def test_demo_gives_reps_tasks_notes_and_campaigns_costs(db: Database) -> None:
    summary = build_demo(db, datetime.now(UTC), leads=60)
    with db.reading() as session:
        tasks = session.scalars(select(FollowUpTask)).all()
        notes = session.scalar(select(func.count()).select_from(Note))
        campaigns = set(session.scalars(select(CampaignCost.campaign).distinct()))
        currencies = set(session.scalars(select(CampaignCost.currency).distinct()))
    assert len(tasks) == summary.tasks and {t.owner for t in tasks} == set(REPS)
    done = [t for t in tasks if t.done_at is not None]
    assert done and all(t.done_by == t.owner and t.done_how == "call_logged" for t in done)
    assert any(t.breached_at is not None and t.done_at is not None for t in tasks)  # late
    assert any(t.breached_at is not None and t.done_at is None for t in tasks)  # never reached
    assert any(t.done_at is not None and t.done_at <= t.due_at for t in tasks)  # on time
    assert notes and notes == summary.notes
    assert campaigns == {c for c in CAMPAIGNS if c} and currencies == {"EUR"}


def test_demo_rerun_duplicates_nothing(db: Database) -> None:
    now = datetime.now(UTC)
    build_demo(db, now, leads=40)
    before = _counts(db)
    again = build_demo(db, now + timedelta(days=3), leads=40)  # even on another day
    assert _counts(db) == before
    assert (again.merged_arrivals, again.events, again.customers, again.rejected,
            again.tasks, again.notes, again.costs) == (0, 0, 0, 0, 0, 0, 0)  # fmt: skip
