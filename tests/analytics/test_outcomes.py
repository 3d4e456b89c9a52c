"""The facts analytics reads from each lead (first event, conversion, revenue, furthest stage,
engagement points) stay equal to what its history gives, whatever changed it — events,
stage moves, a merge and its undoing, an erasure — and an upgrade fills them for a workspace
that had none. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import select, update

from leadq.domain.leads import LeadInput
from leadq.services.intake import duplicates
from leadq.services.intake.leads import upsert_lead
from leadq.services.privacy.subjects import erase_lead
from leadq.services.qualification import outcomes
from leadq.store.db import Database, alembic_config
from leadq.store.tables import Lead, PossibleDuplicate
from tests.analytics.dataset import POLICY, at, build, happen

STORED = (*outcomes.FACTS, "engagement_points")


def _stored(db: Database) -> dict[int, tuple[Any, ...]]:
    with db.reading() as session:
        rows = session.execute(select(Lead.id, *(getattr(Lead, c) for c in STORED)))
        return {lead_id: tuple(values) for lead_id, *values in rows}


def _recomputed(db: Database) -> dict[int, tuple[Any, ...]]:
    """What a fresh computation from history gives, in a transaction that is rolled back."""
    with db.unit_of_work() as session:
        session.execute(update(Lead).values(first_event_at=None, converted_at=None,
                                            revenue=None, furthest_stage=None))  # fmt: skip
        outcomes.refresh(session, None)
        rows = session.execute(select(Lead.id, *(getattr(Lead, c) for c in STORED)))
        found = {lead_id: tuple(values) for lead_id, *values in rows}
        session.rollback()
    return found


def _busy_history(db: Database) -> dict[str, int]:
    """The analytics workspace, then two leads sharing a phone merged with their purchases
    and unmerged, merged again, and one converted lead erased."""
    ids = build(db).ids
    moment = datetime(2026, 4, 2, tzinfo=UTC)
    with db.unit_of_work() as session:
        for name, amount in (("P", 70), ("Q", 30.5)):
            data = LeadInput(email=f"{name.lower()}@shared.example", phone="+48 601 234 567")
            lead = upsert_lead(session, data, "test", moment, POLICY).lead
            happen(session, lead, "purchase", at(4, 1, 12 if name == "P" else 9), amount=amount)
            ids[name] = lead.id
    with db.unit_of_work() as session:
        pair = session.scalars(select(PossibleDuplicate.id)).one()
        duplicates.merge(session, pair, "test", moment)
    with db.unit_of_work() as session:
        duplicates.unmerge(session, pair, "test", moment)
    with db.unit_of_work() as session:
        duplicates.merge(session, pair, "test", moment)
    with db.unit_of_work() as session:
        erase_lead(session, ids["C"], "test", moment)
    return ids


def test_the_facts_follow_every_change_of_history(db: Database) -> None:
    ids = _busy_history(db)
    stored = _stored(db)
    assert stored == _recomputed(db)
    assert stored[ids["A"]][:4] == (at(3, 3, 10), at(3, 12, 10), 990.0, "customer")
    assert stored[ids["E"]][3] == "mql"  # moved on to nurture: the furthest stage stays
    kept, absorbed = sorted((ids["P"], ids["Q"]))
    assert stored[kept][:3] == (at(4, 1, 9), at(4, 1, 9), 100.5)  # both purchases, merged
    assert stored[absorbed][:3] == (None, None, None)
    assert stored[ids["A"]][4] == 8.0  # two webinars: 8 engagement points
    assert stored[ids["U"]][4] is None  # never scored


def test_an_upgrade_fills_the_facts_of_an_existing_workspace(db: Database) -> None:
    ids = _busy_history(db)
    before = _stored(db)
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    db.upgrade()
    assert _stored(db) == before
    assert before[ids["D"]][4] == -5.0  # from the breakdown: unsubscribed
