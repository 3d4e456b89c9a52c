"""The sales inbox: leads in the order a rep works through them, with the filters and views
they work through a day with, read by keyset so every page costs the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from leadq.domain.worklist import BY_GRADE
from leadq.services.automation.segments import membership
from leadq.services.automation.tasks import overdue
from leadq.services.intake.listing import LeadFilter, after, before, decode_place, encode, ordering
from leadq.services.scoring.rescoring import active_model
from leadq.store.tables import FollowUpTask, Lead

PER_PAGE = 50
CLOSED = ("customer", "unqualified", "disqualified")
"""Stages with nothing left for sales to do; the inbox leaves them out unless asked."""
COUNT_CAP = 10_000
"""Leads counted exactly; past this the inbox says "10,000+" (counting a million open leads
costs more than the page itself)."""


@dataclass(frozen=True)
class InboxQuery:
    where: LeadFilter = field(default_factory=LeadFilter)
    segment: str | None = None
    overdue: bool = False
    sort: str = "-score"
    """A ``domain.worklist`` sort: a column's, or ``grade`` (grades best first, each by
    probability)."""
    cursor: str | None = None
    backwards: bool = False
    """The page that ends just before ``cursor`` (a "previous" link), not the one after it."""
    closed: bool = False
    only: tuple[int, ...] = ()
    """These leads alone (a selection), when given."""


@dataclass(frozen=True)
class InboxPage:
    leads: list[Lead]
    total: int
    open_tasks: dict[int, int]
    overdue: set[int]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    """Where the page before this one ends; None on the first page."""
    capped: bool = False
    """More than ``total`` leads match: the count is a lower bound."""


@dataclass(frozen=True)
class _Order:
    """A sort cut in parts read one after another: one part for a column's sort; for the
    grade order, the active model's grades best first, then every other lead (no grade, or
    one of another model), each part by probability from its index rather than a sort of
    all."""

    sort: str
    grades: tuple[str, ...] = ()

    @property
    def parts(self) -> int:
        return len(self.grades) + 1 if self.grades else 1

    def condition(self, part: int) -> list[ColumnElement[bool]]:
        if not self.grades:
            return []
        if part < len(self.grades):
            return [Lead.grade == self.grades[part]]
        return [or_(Lead.grade.is_(None), Lead.grade.not_in(self.grades))]

    def part_of(self, lead: Lead) -> int:
        if not self.grades:
            return 0
        return self.grades.index(lead.grade) if lead.grade in self.grades else len(self.grades)


def _order(session: Session, sort: str) -> _Order:
    if sort != BY_GRADE:
        return _Order(sort)
    model = active_model(session)
    if model is None:  # the grade order without a model in force: by score
        return _Order("-score")
    return _Order("-probability", tuple(reversed(model.grades)))


def _read(session: Session, conditions: list[Any], order: _Order, place: tuple[Any, ...] | None,
          limit: int, backwards: bool) -> list[Lead]:  # fmt: skip
    """Up to ``limit`` leads after (or before) ``place``, part after part, in reading order
    (nearest first when ``backwards``)."""
    start = place[0] if place else (order.parts - 1 if backwards else 0)
    parts = range(start, -1, -1) if backwards else range(start, order.parts)
    found: list[Lead] = []
    for part in parts:
        where = [*conditions, *order.condition(part)]
        if place and part == start:
            beyond = before if backwards else after
            where.append(beyond(order.sort, place[1], place[2]))
        query = select(Lead).where(*where).order_by(*ordering(order.sort, backwards))
        found += session.scalars(query.limit(limit - len(found)))
        if len(found) == limit:
            break
    return found


def inbox(session: Session, query: InboxQuery, now: datetime, per_page: int | None = None,
          ) -> InboxPage:  # fmt: skip
    """One page of the inbox, with each lead's open tasks and whether one is overdue."""
    per_page = per_page or PER_PAGE
    conditions = _conditions(session, query, now)
    matching = select(Lead.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    order = _order(session, query.sort)
    place = decode_place(query.cursor, order.sort, 1) if query.cursor else None
    if place and place[0] >= order.parts:
        place = None  # a cursor from before the model's grades changed: from the top
    earlier: list[Lead] = []
    if place and query.backwards:
        earlier = _read(session, conditions, order, place, per_page + 1, backwards=True)
        if len(earlier) <= per_page:  # the first page: read it as the first page
            place, earlier = None, []
    if earlier:
        leads = list(reversed(earlier[:per_page]))
        more = True
    else:
        leads = _read(session, conditions, order, place, per_page + 1, backwards=False)
        more = len(leads) > per_page
        leads = leads[:per_page]

    def cursor(lead: Lead) -> str:
        return encode(order.sort, lead, order.part_of(lead))

    return InboxPage(leads, min(total, COUNT_CAP), *_tasks(session, [x.id for x in leads], now),
                     next_cursor=cursor(leads[-1]) if more and leads else None,
                     previous_cursor=cursor(leads[0]) if place and leads else None,
                     capped=total > COUNT_CAP)  # fmt: skip


def _conditions(session: Session, query: InboxQuery, now: datetime) -> list[Any]:
    conditions: list[Any] = query.where.conditions()
    if query.segment:
        conditions.append(membership(session, query.segment, now))
    if query.overdue:
        conditions.append(overdue(now))
    if not query.closed and query.where.stage is None:
        conditions.append(Lead.stage.not_in(CLOSED))
    if query.only:
        conditions.append(Lead.id.in_(query.only))
    return conditions


def every_lead(session: Session, query: InboxQuery, now: datetime,
               chunk: int = 500) -> Any:  # fmt: skip
    """Every lead of the view in its order, read a chunk at a time (an export of all pages)."""
    conditions = _conditions(session, query, now)
    order = _order(session, query.sort)
    place: tuple[Any, ...] | None = None
    while True:
        leads = _read(session, conditions, order, place, chunk, backwards=False)
        yield from leads
        if len(leads) < chunk:
            return
        last = leads[-1]
        place = (order.part_of(last), getattr(last, _column(order.sort)), last.id)


def _column(sort: str) -> str:
    return sort.lstrip("-")


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
