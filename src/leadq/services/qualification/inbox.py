"""The sales inbox: leads in priority order with the filters a rep works through a day with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from leadq.services.automation.segments import membership
from leadq.services.intake.leads import LeadFilter, ordering
from leadq.services.scoring.rescoring import active_model
from leadq.store.tables import FollowUpTask, Lead

PER_PAGE = 50
CLOSED = ("customer", "unqualified", "disqualified")
"""Stages with nothing left for sales to do; the inbox leaves them out unless asked."""


class Priority(StrEnum):
    """What puts a lead first: the rules score, the predictive probability, or both (the
    rules grade first, then the probability within a grade)."""

    score = "score"
    probability = "probability"
    both = "both"


@dataclass(frozen=True)
class InboxQuery:
    where: LeadFilter = field(default_factory=LeadFilter)
    segment: str | None = None
    overdue: bool = False
    order: Priority = Priority.score
    page: int = 1
    closed: bool = False


COUNT_CAP = 10_000
"""Leads counted exactly; past this the inbox says "10,000+" (counting a million open leads
costs more than the page itself)."""


@dataclass(frozen=True)
class InboxPage:
    leads: list[Lead]
    total: int
    page: int
    pages: int
    open_tasks: dict[int, int]
    overdue: set[int]
    capped: bool = False
    """More than ``total`` leads match: the count and the page count are lower bounds."""

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or (self.capped and len(self.leads) == PER_PAGE)


def _overdue(now: datetime) -> ColumnElement[bool]:
    late = select(FollowUpTask.lead_id).where(FollowUpTask.done_at.is_(None),
                                              FollowUpTask.due_at < now)  # fmt: skip
    return Lead.id.in_(late)


def _grade_buckets(session: Session) -> list[ColumnElement[bool]] | None:
    """The active model's grades, best first, then every other lead (no grade, or one of
    another model): the "both" order reads them one after another, each by probability. None
    without a model, when that order is the score's."""
    model = active_model(session)
    if model is None:
        return None
    best_first = list(reversed(model.grades))
    return [*(Lead.grade == g for g in best_first),
            or_(Lead.grade.is_(None), Lead.grade.not_in(best_first))]  # fmt: skip


def _page(session: Session, conditions: list[Any], order: Priority, page: int) -> list[Lead]:
    skip = (page - 1) * PER_PAGE
    buckets = _grade_buckets(session) if order is Priority.both else None
    if buckets is None:  # "both" without a model in force: by score
        sort = "-probability" if order is Priority.probability else "-score"
        listing = select(Lead).where(*conditions).order_by(*ordering(sort))
        return list(session.scalars(listing.offset(skip).limit(PER_PAGE)))
    found: list[Lead] = []
    for bucket in buckets:  # each bucket read by the probability index, not a sort of all
        where = [*conditions, bucket]
        if skip:  # counted only as far as the page: does the page start in this bucket?
            reach = select(Lead.id).where(*where).limit(skip + 1).subquery()
            in_bucket = session.scalar(select(func.count()).select_from(reach)) or 0
            if in_bucket <= skip:
                skip -= in_bucket
                continue
        listing = select(Lead).where(*where).order_by(*ordering("-probability"))
        found += session.scalars(listing.offset(skip).limit(PER_PAGE - len(found)))
        skip = 0
        if len(found) == PER_PAGE:
            break
    return found


def inbox(session: Session, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of the inbox, with each lead's open tasks and whether one is overdue."""
    conditions = query.where.conditions()
    if query.segment:
        conditions.append(membership(session, query.segment, now))
    if query.overdue:
        conditions.append(_overdue(now))
    if not query.closed and query.where.stage is None:
        conditions.append(Lead.stage.not_in(CLOSED))
    matching = select(Lead.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    capped, total = total > COUNT_CAP, min(total, COUNT_CAP)
    pages = max(1, -(-total // PER_PAGE))
    page = max(1, query.page) if capped else min(max(1, query.page), pages)
    leads = _page(session, conditions, query.order, page)
    tasks = _tasks(session, [lead.id for lead in leads], now)
    return InboxPage(leads, total, page, max(pages, page), *tasks, capped=capped)


def _tasks(session: Session, ids: list[int], now: datetime) -> tuple[dict[int, int], set[int]]:
    rows = session.execute(select(FollowUpTask.lead_id, FollowUpTask.due_at).where(
        FollowUpTask.lead_id.in_(ids), FollowUpTask.done_at.is_(None)))  # fmt: skip
    counts: dict[int, int] = {}
    late: set[int] = set()
    for lead_id, due_at in rows:
        counts[lead_id] = counts.get(lead_id, 0) + 1
        if due_at < now:
            late.add(lead_id)
    return counts, late
