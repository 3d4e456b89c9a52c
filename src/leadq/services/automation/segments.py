"""Segments: saved live filters over leads, plus members added by automation rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from leadq.domain.automation import NAME_PATTERN, SegmentFilter
from leadq.domain.worklist import ViewLayout
from leadq.services.automation.reactions import join, leave, segment_named
from leadq.services.automation.tasks import overdue
from leadq.services.errors import Conflict, FieldError, InvalidInput, NotFound
from leadq.services.intake.listing import text_matches
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
    for field in (
        "grade",
        "stage",
        "fit_grade",
        "source",
        "industry",
        "owner",
        "nurture_track",
        "account_grade",
    ):
        values = getattr(spec, field)
        if values is not None:
            found.append(getattr(Lead, field).in_(values))
    if spec.inactive_days is not None:
        since = now - timedelta(days=spec.inactive_days)
        found.append(or_(Lead.last_activity_at.is_(None), Lead.last_activity_at < since))
    if spec.text:
        found.append(text_matches(spec.text))
    if spec.overdue:
        found.append(overdue(now))
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
    if segment.filter or segment.view is not None:  # a view of no filter lists every lead
        matching.append(and_(true(), *conditions(spec, now)))
    return or_(Lead.id.in_(added), *matching)


def listing(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(SavedSegment).order_by(SavedSegment.name))
    return [{"name": s.name, "filter": s.filter, "created_at": s.created_at, "owner": s.owner,
             "view": s.view} for s in rows]  # fmt: skip


# -- saved views: segments the inbox shows -------------------------------------------------------


def views_of(session: Session, username: str) -> list[SavedSegment]:
    """The views a person's sidebar lists: the shared ones and their own, by name."""
    query = select(SavedSegment).where(SavedSegment.view.is_not(None),
                                       or_(SavedSegment.owner.is_(None),
                                           SavedSegment.owner == username))  # fmt: skip
    return list(session.scalars(query.order_by(SavedSegment.name)))


def save_view(session: Session, name: str, spec: SegmentFilter, layout: ViewLayout,
              owner: str | None, actor: str, now: datetime) -> SavedSegment:  # fmt: skip
    """Save the inbox as it is shown as a segment: personal (``owner``) or shared. A name
    that is someone else's view, or shared when saving a personal one, is refused rather
    than taken over."""
    if not NAME.fullmatch(name):
        raise InvalidInput([FieldError("name", "lowercase letters, digits, - and _; at most "
                                               "63, starting with a letter")])  # fmt: skip
    existing = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).first()
    if existing is not None and existing.owner != owner:
        whose = "a shared segment" if existing.owner is None else "someone's personal view"
        raise Conflict("segment", f"{name} is {whose}; choose another name")
    segment = segment_named(session, name, now)
    segment.filter = spec.model_dump(exclude_none=True)
    segment.view = layout.model_dump()
    segment.owner = owner
    audit.record(session, actor, "segment.saved", "segment", name,
                 {**segment.filter, "view": segment.view, "personal": owner is not None},
                 now)  # fmt: skip
    return segment


def usable(session: Session, name: str, username: str) -> SavedSegment:
    """The segment if this person may use it: shared, or their own view; another person's
    personal view is "not found"."""
    segment = find(session, name)
    if segment.owner is not None and segment.owner != username:
        raise NotFound("segment", name)
    return segment


def add_member(session: Session, name: str, lead_id: int, actor: str, now: datetime) -> None:
    """A person puts a lead in a segment by hand (kept like a rule's addition)."""
    join(session, name, lead_id, f"by {actor}"[:63], now)
    audit.record(session, actor, "segment.member_added", "lead", lead_id, {"segment": name},
                 now)  # fmt: skip


def remove_member(session: Session, name: str, lead_id: int, actor: str, now: datetime) -> None:
    """A person takes a lead out of a segment; one that matches the segment's filter is still
    a member, and saying so beats pretending it left."""
    segment = find(session, name)
    if segment.view is not None and not segment.filter:
        raise Conflict("segment", f"{name} lists every lead; the lead stays a member")
    if segment.filter:
        spec = SegmentFilter.model_validate(segment.filter)
        matching = select(Lead.id).where(Lead.id == lead_id, *conditions(spec, now))
        if session.scalar(matching) is not None:
            raise Conflict("segment", f"the lead matches the filter of {name}; it stays a member")
    if session.get(SegmentMember, (segment.id, lead_id)) is None:
        raise Conflict("segment", f"the lead is not in {name}")
    leave(session, name, lead_id)
    audit.record(session, actor, "segment.member_removed", "lead", lead_id, {"segment": name},
                 now)  # fmt: skip
