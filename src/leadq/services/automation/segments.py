"""Segments: saved live filters over leads, plus members added by automation rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from leadq.domain.automation import NAME_PATTERN, SegmentFilter
from leadq.services.automation.reactions import segment_named
from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.store.tables import Lead, SavedSegment, SegmentMember

NAME = re.compile(NAME_PATTERN)


def save(session: Session, name: str, spec: SegmentFilter, actor: str,
         now: datetime) -> SavedSegment:  # fmt: skip
    """Create the segment, or replace its filter (members added by rules stay)."""
    segment = segment_named(session, name, now)
    segment.filter = spec.model_dump(exclude_none=True)
    audit.record(session, actor, "segment.saved", "segment", name, segment.filter, now)
    return segment


def find(session: Session, name: str) -> SavedSegment:
    segment = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).first()
    if segment is None:
        raise NotFound("segment", name)
    return segment


def remove(session: Session, name: str, actor: str, now: datetime) -> None:
    segment = find(session, name)
    if session.scalar(select(SegmentMember.lead_id).where(SegmentMember.segment_id == segment.id)
                      .limit(1)) is not None:  # fmt: skip
        raise Conflict("segment", f"{name} has members added by rules; it stays")
    session.delete(segment)
    audit.record(session, actor, "segment.removed", "segment", name, {}, now)


def conditions(spec: SegmentFilter, now: datetime) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for field in ("grade", "stage", "fit_grade", "source", "industry", "owner", "nurture_track"):
        values = getattr(spec, field)
        if values is not None:
            found.append(getattr(Lead, field).in_(values))
    if spec.inactive_days is not None:
        since = now - timedelta(days=spec.inactive_days)
        found.append(or_(Lead.last_activity_at.is_(None), Lead.last_activity_at < since))
    return found


def members(session: Session, name: str, now: datetime, limit: int = 500,
            visible: ColumnElement[bool] | None = None) -> list[Lead]:  # fmt: skip
    """Live membership: leads matching the filter now, and those rules added (of those
    ``visible`` to the caller)."""
    query = select(Lead).where(membership(session, name, now)).order_by(Lead.id).limit(limit)
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))


def membership(session: Session, name: str, now: datetime) -> ColumnElement[bool]:
    """A condition on ``leads`` true for the segment's live members."""
    segment = find(session, name)
    added = select(SegmentMember.lead_id).where(SegmentMember.segment_id == segment.id)
    spec = SegmentFilter.model_validate(segment.filter or {})
    matching: list[ColumnElement[bool]] = []
    if segment.filter:
        matching.append(and_(*conditions(spec, now)))
    return or_(Lead.id.in_(added), *matching)


def listing(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(SavedSegment).order_by(SavedSegment.name))
    return [{"name": s.name, "filter": s.filter, "created_at": s.created_at} for s in rows]
