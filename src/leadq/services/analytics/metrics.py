"""Analytics: conversion, qualification, time to convert, cost per lead, lifetime value and
engagement of the leads that arrived in a period, by source, campaign, segment or ISO week.

SQL does the per-lead work (one grouped pass over events, one over stage history, one over
score lines); Python only adds the per-lead facts into groups, so a lead may count in several
segments and a period of 100,000 leads stays well under a second. Every formula is spelled
out in ``FORMULAS`` and in docs/analytics.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    Subquery,
    case,
    exists,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import Function

from leadq.domain.boundary import MAX_MAGNITUDE, within_calendar
from leadq.domain.scoring.evaluate import DECAY_ID
from leadq.domain.scoring.model import EngagementCriterion, ScoringModel
from leadq.services.automation import segments
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.predictive.history import CONVERTED_STAGE, CONVERTING_EVENT
from leadq.services.scoring.rescoring import active_model
from leadq.store.tables import CampaignCost, Event, Lead, SavedSegment, StageChange

Dimension = Literal["total", "source", "campaign", "segment", "week"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
QUALIFIED_STAGES = ("mql", "sal", "sql", "opportunity", "customer")
TOTAL = "all"
NONE = "(none)"
DAY = timedelta(days=1)

FORMULAS: tuple[tuple[str, str], ...] = (
    ("leads", "leads created in [since, until) in the group"),
    ("qualified", "leads that ever reached mql, sal, sql, opportunity or customer "
                  "(stage history or current stage)"),
    ("qualification_rate", "qualified / leads"),
    ("converted", "leads with a purchase event or a move to the customer stage, at any time"),
    ("conversion_rate", "converted / leads"),
    ("avg_days_to_conversion", "mean over converted leads of (conversion − arrival) in days; "
                               "conversion = earliest purchase or move to customer, "
                               "arrival = min(created_at, first event)"),
    ("cost", "sum of campaign costs whose day starts in [since, until) and match the group "
             "(campaign; source; ISO week of the day; all for total); none for segments; "
             "empty when no cost line matches"),
    ("cost_per_lead", "cost / leads"),
    ("revenue", "sum of the numeric amount (else value) property of the leads' purchase events"),
    ("lifetime_value", "revenue / converted"),
    ("engagement_score", "mean over the group's scored leads of the points of their current "
                         "breakdown lines that are engagement criteria of the active model "
                         "(inactivity decay included)"),
)  # fmt: skip


@dataclass(frozen=True)
class Metrics:
    group: str
    leads: int
    qualified: int
    converted: int
    qualification_rate: float | None
    conversion_rate: float | None
    avg_days_to_conversion: float | None
    cost: float | None
    cost_per_lead: float | None
    revenue: float
    lifetime_value: float | None
    engagement_score: float | None


@dataclass(frozen=True)
class Period:
    """Leads created in ``[since, until)``; a cost counts when its day starts in it."""

    since: datetime | None = None
    until: datetime | None = None

    def leads(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(Lead.created_at >= self.since)
        if self.until is not None:
            found.append(Lead.created_at < self.until)
        return found

    def costs(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(CampaignCost.spent_on >= _first_day_from(self.since))
        if self.until is not None:
            found.append(CampaignCost.spent_on < _first_day_from(self.until))
        return found


def _first_day_from(moment: datetime) -> date:
    """The first day starting at or after ``moment`` (UTC)."""
    day = moment.date()
    return day if moment == datetime(day.year, day.month, day.day, tzinfo=UTC) else day + DAY


def _utc(moment: datetime | None) -> datetime | None:
    """Times without a zone are read as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period(since: datetime | None = None, until: datetime | None = None) -> Period:
    for name, moment in (("since", since), ("until", until)):
        if moment is None:
            continue
        try:
            within_calendar(moment)
        except ValueError as exc:
            raise InvalidInput([FieldError(name, str(exc))]) from None
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and since >= until:
        raise InvalidInput([FieldError("since", "must be before until")])
    return Period(since, until)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def converted_condition() -> ColumnElement[bool]:
    """True for a lead that converted: a purchase event or a move to the customer stage."""
    bought = exists().where(Event.lead_id == Lead.id, Event.type == CONVERTING_EVENT)
    won = exists().where(StageChange.lead_id == Lead.id, StageChange.to_stage == CONVERTED_STAGE)
    return or_(bought, won)


def engagement_criteria(model: ScoringModel) -> frozenset[str]:
    """Criterion ids whose points are engagement points, as the evaluator adds them up."""
    return frozenset(
        [c.id for c in model.criteria() if isinstance(c, EngagementCriterion)] + [DECAY_ID]
    )


# -- JSON inside SQL ---------------------------------------------------------------------------


class _Json:
    """The JSON reads analytics needs, spelled for the session's database."""

    def __init__(self, session: Session) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def number(self, document: Any, key: str) -> ColumnElement[float]:
        """``document[key]`` when it is a JSON number within ``MAX_MAGNITUDE``, else NULL: an
        event stored before the intake bounded numbers cannot overflow a sum (read exactly as
        NUMERIC first, turned into a double only once it is known to fit)."""
        if self.postgres:
            value = func.jsonb_extract_path(document, key)
            exact = func.jsonb_extract_path_text(document, key).cast(Numeric)
            fits = case((func.abs(exact) <= MAX_MAGNITUDE, exact.cast(Float)))
            return case((func.jsonb_typeof(value) == "number", fits))
        path = f"$.{key}"
        kind = func.json_type(document, path)
        number = func.json_extract(document, path, type_=Float)
        return case((kind.in_(("integer", "real")),
                     case((func.abs(number) <= MAX_MAGNITUDE, number))))  # fmt: skip

    def text(self, document: Any, key: str) -> ColumnElement[str]:
        if self.postgres:
            return func.jsonb_extract_path_text(document, key)
        return func.json_extract(document, f"$.{key}")

    def elements(self, document: Any) -> Function[Any]:
        if self.postgres:
            array = case((func.jsonb_typeof(document) == "array", document))
            return func.jsonb_array_elements(array)
        return func.json_each(document)


# -- per-lead facts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fact:
    source: str | None
    campaign: str | None
    created_at: datetime
    qualified: bool
    days_to_conversion: float | None
    revenue: float
    engagement: float | None


def _events(session: Session, leads: Select[int]) -> Subquery:
    """Per lead, in one pass over its events: first touch, first purchase, revenue."""
    json = _Json(session)
    purchase = Event.type == CONVERTING_EVENT
    amount = func.coalesce(json.number(Event.properties, "amount"),
                           json.number(Event.properties, "value"))  # fmt: skip
    return (
        select(Event.lead_id.label("lead_id"), func.min(Event.occurred_at).label("first"),
               func.min(case((purchase, Event.occurred_at))).label("bought"),
               func.sum(case((purchase, amount))).label("revenue"))
        .where(Event.lead_id.in_(leads)).group_by(Event.lead_id).subquery()
    )  # fmt: skip


def _stages(leads: Select[int]) -> Subquery:
    """Per lead: whether it ever reached a qualified stage, and when it first became a customer."""
    qualified = case((StageChange.to_stage.in_(QUALIFIED_STAGES), 1), else_=0)
    won = case((StageChange.to_stage == CONVERTED_STAGE, StageChange.at))
    return (
        select(StageChange.lead_id.label("lead_id"), func.max(qualified).label("qualified"),
               func.min(won).label("won"))
        .where(StageChange.lead_id.in_(leads),
               StageChange.to_stage.in_((*QUALIFIED_STAGES, CONVERTED_STAGE)))
        .group_by(StageChange.lead_id).subquery()
    )  # fmt: skip


def _engagement(session: Session, where: list[ColumnElement[bool]],
                criteria: frozenset[str]) -> Subquery:  # fmt: skip
    """Per scored lead: the engagement points of its current breakdown."""
    json = _Json(session)
    lines = json.elements(Lead.score_breakdown).table_valued("value", name="line")
    points = func.coalesce(json.number(lines.c.value, "points"), 0.0)
    return (
        select(Lead.id.label("lead_id"), func.sum(points).label("points"))
        .select_from(Lead).join(lines, true())
        .where(*where, Lead.score.is_not(None),
               json.text(lines.c.value, "criterion").in_(sorted(criteria)))
        .group_by(Lead.id).subquery()
    )  # fmt: skip


def _facts(session: Session, window: Period, model: ScoringModel | None) -> dict[int, _Fact]:
    where = window.leads()
    ids = select(Lead.id).where(*where)
    events, stages = _events(session, ids), _stages(ids)
    columns: list[Any] = [Lead.id, Lead.source, Lead.campaign, Lead.created_at, Lead.stage,
                          Lead.score, events.c.first, events.c.bought, events.c.revenue,
                          stages.c.qualified, stages.c.won]  # fmt: skip
    query = select(*columns).outerjoin(events, events.c.lead_id == Lead.id)
    query = query.outerjoin(stages, stages.c.lead_id == Lead.id)
    if model is not None:
        engaged = _engagement(session, where, engagement_criteria(model))
        query = query.add_columns(engaged.c.points)
        query = query.outerjoin(engaged, engaged.c.lead_id == Lead.id)
    else:
        query = query.add_columns(null())
    facts = {}
    for (lead_id, source, campaign, created, stage, score, first, bought, revenue, qualified,
         won, points) in session.execute(query.where(*where)):  # fmt: skip
        arrived = min(created, first) if first is not None else created
        moments = [m for m in (bought, won) if m is not None]
        facts[lead_id] = _Fact(
            source=source,
            campaign=campaign,
            created_at=created,
            qualified=bool(qualified) or stage in QUALIFIED_STAGES,
            days_to_conversion=(min(moments) - arrived) / DAY if moments else None,
            revenue=float(revenue or 0.0),
            engagement=float(points or 0.0) if model and score is not None else None,
        )
    return facts


# -- groups ------------------------------------------------------------------------------------


@dataclass
class _Tally:
    leads: int = 0
    qualified: int = 0
    converted: int = 0
    days: float = 0.0
    revenue: float = 0.0
    scored: int = 0
    engagement: float = 0.0

    def add(self, fact: _Fact) -> None:
        self.leads += 1
        self.qualified += fact.qualified
        if fact.days_to_conversion is not None:
            self.converted += 1
            self.days += fact.days_to_conversion
        self.revenue += fact.revenue
        if fact.engagement is not None:
            self.scored += 1
            self.engagement += fact.engagement

    def metrics(self, group: str, cost: float | None) -> Metrics:
        return Metrics(
            group=group,
            leads=self.leads,
            qualified=self.qualified,
            converted=self.converted,
            qualification_rate=_ratio(self.qualified, self.leads),
            conversion_rate=_ratio(self.converted, self.leads),
            avg_days_to_conversion=_ratio(self.days, self.converted),
            cost=cost,
            cost_per_lead=None if cost is None else _ratio(cost, self.leads),
            revenue=self.revenue,
            lifetime_value=_ratio(self.revenue, self.converted),
            engagement_score=_ratio(self.engagement, self.scored),
        )


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _group_of(by: Dimension, fact: _Fact) -> str:
    if by == "source":
        return fact.source or NONE
    if by == "campaign":
        return fact.campaign or NONE
    if by == "week":
        return iso_week(fact.created_at.date())
    return TOTAL


def _costs(session: Session, by: Dimension, window: Period) -> dict[str, float]:
    """Cost per group; a group no cost line matches is absent (cost unknown, not zero)."""
    amount = func.sum(CampaignCost.amount)
    where = window.costs()
    if by == "total":
        count, total = session.execute(select(func.count(), amount).where(*where)).one()
        return {TOTAL: float(total)} if count else {}
    if by == "campaign":
        key: Any = CampaignCost.campaign
    elif by == "source":
        key, where = CampaignCost.source, [*where, CampaignCost.source != ""]
    else:
        key = CampaignCost.spent_on
    found: dict[str, float] = defaultdict(float)
    for value, total in session.execute(select(key, amount).where(*where).group_by(key)):
        found[iso_week(value) if by == "week" else value] += float(total)
    return dict(found)


def _segment_rows(session: Session, facts: dict[int, _Fact], window: Period,
                  now: datetime) -> list[Metrics]:  # fmt: skip
    rows = []
    for name in session.scalars(select(SavedSegment.name).order_by(SavedSegment.name)):
        members = select(Lead.id).where(*window.leads(), segments.membership(session, name, now))
        tally = _Tally()
        for lead_id in session.scalars(members):
            tally.add(facts[lead_id])
        rows.append(tally.metrics(name, None))
    return rows


def _rows(session: Session, by: Dimension, facts: dict[int, _Fact], window: Period,
          now: datetime) -> list[Metrics]:  # fmt: skip
    if by == "segment":
        rows = _segment_rows(session, facts, window, now)
    else:
        tallies: dict[str, _Tally] = defaultdict(_Tally)
        if by == "total":
            tallies[TOTAL] = _Tally()
        for fact in facts.values():
            tallies[_group_of(by, fact)].add(fact)
        costs = _costs(session, by, window)
        for group in costs:
            tallies.setdefault(group, _Tally())
        rows = [tally.metrics(group, costs.get(group)) for group, tally in tallies.items()]
    if by == "week":
        return sorted(rows, key=lambda m: m.group)
    return sorted(rows, key=lambda m: (-m.leads, m.group))


def metrics(session: Session, by: Dimension, since: datetime | None = None,
            until: datetime | None = None, *,
            now: datetime | None = None) -> list[Metrics]:  # fmt: skip
    """One row per group of the leads created in ``[since, until)`` (see ``FORMULAS``).

    Outcomes count whenever they happened (a cohort view). Groups with costs but no leads
    are listed too (money spent, nothing came). Rows by leads, most first, then name; weeks
    in time order. ``now`` decides segment filters on inactivity (default: the clock)."""
    return metrics_by(session, [by], since, until, now=now)[by]


def metrics_by(session: Session, dimensions: Sequence[Dimension],
               since: datetime | None = None, until: datetime | None = None, *,
               now: datetime | None = None) -> dict[Dimension, list[Metrics]]:  # fmt: skip
    """``metrics`` for several dimensions, reading the leads once."""
    unknown = [by for by in dimensions if by not in DIMENSIONS]
    if unknown:
        options = ", ".join(DIMENSIONS)
        raise InvalidInput([FieldError("by", f"unknown dimension; one of: {options}")])
    window = period(since, until)
    facts = _facts(session, window, active_model(session))
    moment = now or datetime.now(UTC)
    return {by: _rows(session, by, facts, window, moment) for by in dimensions}
