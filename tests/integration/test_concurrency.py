"""Concurrent arrivals of the same person and retries of the same event: one lead, one event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.events import record_event, record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Event, Lead

POLICY = IntakePolicy()
SOURCES = ["website", "chat", "phone", "event", "referral", "partner", "email", "social"]


def test_racing_arrivals_of_one_person_make_one_lead_with_every_channel(db: Database) -> None:
    now = datetime.now(UTC)

    def arrive(source: str) -> int:
        lead = LeadInput(email="race@acme.com", source=source, city=source)
        return db.run(lambda s: upsert_lead(s, lead, "test", now, POLICY).lead.id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(arrive, SOURCES * 3))
    assert len(ids) == 1
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
    assert sorted(lead.channels) == sorted(SOURCES)


def test_racing_retries_of_one_event_store_it_once(db: Database) -> None:
    now = datetime.now(UTC)
    lead_id = db.run(
        lambda s: upsert_lead(s, LeadInput(email="e@acme.com"), "t", now, POLICY).lead.id
    )
    item = EventInput(lead_id=lead_id, type="demo_requested", occurred_at=now, idempotency_key="k1")
    batch = [
        EventInput(lead_id=lead_id, type="page_view", occurred_at=now - timedelta(seconds=i),
                   idempotency_key=f"b{i}")
        for i in range(50)
    ]  # fmt: skip

    def retry(i: int) -> None:
        if i % 2:
            db.run(lambda s: record_event(s, item, now, POLICY.clock_skew))
        else:
            db.run(lambda s: record_events(s, batch, now, POLICY.clock_skew))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(retry, range(24)))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 51


def test_concurrent_batches_over_the_same_leads_rescore_without_deadlock(db: Database) -> None:
    """Batches touching the same leads in different orders, each rescoring them in real time."""
    import random

    from leadq.services.scoring.documents import read_model
    from leadq.services.scoring.rescoring import activate, add_model

    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        activate(session, add_model(session, read_model("classic")[1], "classic", now).name, now)

    def new_lead(i: int) -> int:
        lead = LeadInput(email=f"c{i}@acme.com")
        return db.run(lambda s: upsert_lead(s, lead, "t", now, POLICY).lead.id)

    ids = [new_lead(i) for i in range(30)]

    def batch(seed: int) -> None:
        order = random.Random(seed).sample(ids, len(ids))
        events = [EventInput(lead_id=lead_id, type="page_view", properties={"path": "/pricing"},
                             occurred_at=now - timedelta(seconds=seed))
                  for lead_id in order]  # fmt: skip
        db.run(lambda s: record_events(s, events, now, POLICY.clock_skew))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(batch, range(16)))
    with db.reading() as session:
        scores = set(session.scalars(select(Lead.score)))
        assert session.scalar(select(func.count()).select_from(Event)) == 16 * 30
    assert scores == {9.0}  # three pricing views count, capped: 3 × 3
