"""The demo workspace: leads from many channels, merged arrivals, every standard event type."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from leadq.domain.events import STANDARD_EVENT_TYPES
from leadq.services.demo import build_demo
from leadq.store.db import Database
from leadq.store.tables import Event, Lead


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
