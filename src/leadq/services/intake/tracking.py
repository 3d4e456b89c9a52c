"""Hits from the website tracking script: counted without consent, kept for a consenting
visitor until they are known, then moved to their lead at their original times; a known
visitor's hits go to the lead at once. One batch is one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.tracking import (
    MAX_HELD,
    Collected,
    Download,
    Engaged,
    Identify,
    PageView,
    event_of,
    recent,
)
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.lookup import surviving
from leadq.services.intake.policy import IntakePolicy
from leadq.store.sql import dialect_insert, insert_ignoring_conflicts
from leadq.store.tables import PageCount, Visitor, VisitorHit

ACTOR = "tracking"
SOURCE = "web"


@dataclass(frozen=True)
class Taken:
    """What a batch did: hits counted without consent, kept for an unknown visitor, stored on
    a lead (moved ones included), and the lead the visitor is, if known."""

    counted: int = 0
    kept: int = 0
    stored: int = 0
    lead_id: int | None = None


def collect(session: Session, batch: Collected, network: str | None, now: datetime,
            policy: IntakePolicy) -> Taken:  # fmt: skip
    """Take one batch: the hits that read well (``InvalidInput`` only when none does); hits
    older than a week or from the future are dropped quietly."""
    good, bad = batch.hits(now)
    if not good:
        raise InvalidInput([FieldError(f"events[{place}].{why}".split(":")[0], why)
                            for place, why in bad[:20]])  # fmt: skip
    hits = [h for h in good if recent(h.at, now) and h.at <= now + policy.clock_skew]
    if not batch.consent or batch.visitor is None:
        return Taken(counted=_count(session, [h for h in hits if isinstance(h, PageView)]))
    visitor = _visitor(session, batch.visitor, network, now)
    for hit in hits:
        if isinstance(hit, Identify):
            _identify(session, visitor, hit, now, policy)
    behaviour = [h for h in hits if isinstance(h, PageView | Engaged | Download)]
    if visitor.lead_id is not None:
        visitor.lead_id = surviving(session, visitor.lead_id)  # merged since, or erased
    if visitor.lead_id is None:
        return Taken(kept=_keep(session, visitor, behaviour))
    events = [_event(visitor, h.id, *event_of(h), h.at) for h in behaviour]
    stored = record_events(session, events, now, policy.clock_skew, queued=True).accepted
    return Taken(stored=stored, lead_id=visitor.lead_id)


def _count(session: Session, views: Sequence[PageView]) -> int:
    """Cookieless page counts: a number per day and path, nothing about who."""
    for view in views:
        row = {"day": view.at.date(), "path": view.path, "views": 1}
        session.execute(dialect_insert(session, PageCount).values(row).on_conflict_do_update(
            index_elements=["day", "path"], set_={"views": PageCount.views + 1}))  # fmt: skip
    return len(views)


def _visitor(session: Session, visitor_id: str, network: str | None, now: datetime) -> Visitor:
    new = {"id": visitor_id, "first_seen_at": now, "last_seen_at": now, "network": network}
    session.execute(insert_ignoring_conflicts(session, Visitor, "id").values(new))
    visitor = session.get(Visitor, visitor_id, with_for_update=True)
    assert visitor is not None
    visitor.last_seen_at, visitor.network = now, network or visitor.network
    return visitor


def _keep(session: Session, visitor: Visitor,
          hits: Sequence[PageView | Engaged | Download]) -> int:  # fmt: skip
    """The hits of a visitor not known yet, once each (a retried batch adds nothing), up to
    ``MAX_HELD`` for one browser."""
    held = session.scalar(select(func.count()).where(VisitorHit.visitor_id == visitor.id)) or 0
    hits = hits[: max(0, MAX_HELD - held)]
    for hit in hits:
        kind, properties = event_of(hit)
        row = {"visitor_id": visitor.id, "hit": hit.id, "type": kind, "occurred_at": hit.at,
               "properties": properties}  # fmt: skip
        session.execute(insert_ignoring_conflicts(session, VisitorHit, ("visitor_id", "hit"))
                        .values(row))  # fmt: skip
    return len(hits)


def _identify(session: Session, visitor: Visitor, hit: Identify, now: datetime,
              policy: IntakePolicy) -> None:  # fmt: skip
    """The visitor is this person: their lead (created or merged by e-mail, as any channel),
    with every hit they made before, at its own time."""
    try:
        data = LeadInput.model_validate({"email": hit.email, "first_name": hit.first_name,
                                         "last_name": hit.last_name, "source": SOURCE})  # fmt: skip
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]) for e in exc.errors()[:3])
        raise InvalidInput([FieldError("events.identify", reasons)]) from None
    lead = upsert_lead(session, policy.normalised(data), ACTOR, now, policy, anonymous=True).lead
    if visitor.lead_id == lead.id:
        return
    visitor.lead_id = lead.id
    kept = session.scalars(select(VisitorHit).where(VisitorHit.visitor_id == visitor.id)
                           .order_by(VisitorHit.occurred_at, VisitorHit.id)).all()  # fmt: skip
    events = [_event(visitor, h.hit, h.type, h.properties, h.occurred_at) for h in kept]
    if events:
        # hits up to a week old: their own times, checked against a week's window
        record_events(session, events, now, policy.clock_skew, queued=True)
        session.execute(delete(VisitorHit).where(VisitorHit.visitor_id == visitor.id))


def _event(visitor: Visitor, hit: str, kind: str, properties: dict[str, object],
           at: datetime) -> EventInput:  # fmt: skip
    assert visitor.lead_id is not None
    return EventInput(lead_id=visitor.lead_id, type=kind, occurred_at=at,
                      properties=dict(properties), channel=SOURCE,
                      idempotency_key=f"visit:{visitor.id}:{hit}")  # fmt: skip


@dataclass(frozen=True)
class Seen:
    """A tracked browser as the settings page shows it: when, whose (if known), how many
    hits still wait for it."""

    first_seen_at: datetime
    last_seen_at: datetime
    lead_id: int | None
    waiting: int


def latest_visitors(session: Session, limit: int = 20) -> list[Seen]:
    """The browsers seen last, newest first (the settings page's live view)."""
    waiting = (select(func.count()).where(VisitorHit.visitor_id == Visitor.id)
               .correlate(Visitor).scalar_subquery())  # fmt: skip
    columns = (Visitor.first_seen_at, Visitor.last_seen_at, Visitor.lead_id, waiting)
    newest = select(*columns).order_by(Visitor.last_seen_at.desc()).limit(limit)
    rows = session.execute(newest)
    return [Seen(*row) for row in rows]


def pages_counted(session: Session, day: date, limit: int = 10) -> list[tuple[str, int]]:
    """The day's most viewed paths without consent."""
    most = (select(PageCount.path, PageCount.views).where(PageCount.day == day)
            .order_by(PageCount.views.desc(), PageCount.path).limit(limit))  # fmt: skip
    rows = session.execute(most)
    return [(path, views) for path, views in rows]
