"""Possible duplicates: leads that share a phone but not an e-mail stay two leads, and the pair
waits for a person to decide. A number on many leads is a shared line (a company switchboard,
a household), a known pattern rather than a sign of one person: it pairs no more leads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.store.sql import insert_ignoring_conflicts
from leadq.store.tables import Lead, PossibleDuplicate

OPEN, DISMISSED = "open", "dismissed"
SAME_PHONE = "same phone"
SHARED_LINE = 3
"""Leads on one number from which it counts as a shared line and pairs no more leads."""


def suggest(session: Session, lead: Lead, now: datetime) -> int:
    """Pair ``lead`` with the other leads on its phone; returns how many pairs were new."""
    if not lead.phone:
        return 0
    query = select(Lead.id).where(Lead.phone == lead.phone, Lead.id != lead.id,
                                  Lead.erased_at.is_(None)).limit(SHARED_LINE)  # fmt: skip
    others = list(session.scalars(query))
    if not others or len(others) >= SHARED_LINE:
        return 0
    insert = insert_ignoring_conflicts(session, PossibleDuplicate, ("lead_id", "other_id"))
    rows = [{"lead_id": min(lead.id, other), "other_id": max(lead.id, other),
             "reason": SAME_PHONE, "status": OPEN, "created_at": now}
            for other in others]  # fmt: skip
    stored = session.execute(insert.returning(PossibleDuplicate.id), rows)
    return len(stored.all())


def of_lead(session: Session, lead_id: int) -> list[int]:
    """The leads an open pair links to this one."""
    query = select(PossibleDuplicate).where(
        PossibleDuplicate.status == OPEN,
        or_(PossibleDuplicate.lead_id == lead_id, PossibleDuplicate.other_id == lead_id),
    )
    pairs = session.scalars(query)
    return sorted(p.other_id if p.lead_id == lead_id else p.lead_id for p in pairs)


def open_pairs(session: Session, limit: int = 100) -> list[PossibleDuplicate]:
    query = (select(PossibleDuplicate).where(PossibleDuplicate.status == OPEN)
             .order_by(PossibleDuplicate.id).limit(limit))  # fmt: skip
    return list(session.scalars(query))


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).where(PossibleDuplicate.status == OPEN)) or 0


def dismiss(session: Session, pair_id: int, actor: str, now: datetime) -> PossibleDuplicate:
    """Two people after all: the pair is closed and not suggested again."""
    pair = session.get(PossibleDuplicate, pair_id, with_for_update=True)
    if pair is None:
        raise NotFound("possible duplicate", pair_id)
    if pair.status != OPEN:
        raise Conflict("status", f"pair {pair_id} is {pair.status}")
    pair.status, pair.decided_at, pair.decided_by = DISMISSED, now, actor
    audit.record(session, actor, "duplicate.dismissed", "lead", pair.lead_id,
                 {"other": pair.other_id}, now)  # fmt: skip
    return pair
