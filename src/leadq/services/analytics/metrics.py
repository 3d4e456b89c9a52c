"""Analytics: conversion, qualification, time to convert, cost per lead, lifetime value and
engagement of the leads that arrived in a period, by source, campaign, segment or ISO week.

Each lead carries the facts its history gives (``outcomes``: first event, conversion, revenue,
furthest stage, engagement points), so a dimension is one grouped pass over the period's
leads in SQL, and a segment one more; a lead may count in several segments. Every formula is
spelled out in ``FORMULAS`` and in docs/analytics.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Float, case, func, null, select
from sqlalchemy.orm import Session

from leadq.domain.boundary import within_calendar
from leadq.i18n import N_
from leadq.services.automation import segments
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.qualification.outcomes import QUALIFIED_STAGES, earliest
from leadq.services.scoring.rescoring import active_model
from leadq.store.sql import on_postgres
from leadq.store.tables import CampaignCost, Lead, SavedSegment

Dimension = Literal["total", "source", "campaign", "segment", "week", "account_grade"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
TOTAL = "all"
NONE = "(none)"
DAY = timedelta(days=1)

FORMULAS: tuple[tuple[str, str], ...] = (
    ("leads", N_("leads created in [since, until) in the group")),
    ("qualified", N_("leads that ever reached mql, sal, sql, opportunity or customer "
                  "(stage history or current stage)")),
    ("qualification_rate", N_("qualified / leads")),
    ("converted", N_("leads with a purchase event or a move to the customer stage, at any time")),
    ("conversion_rate", N_("converted / leads")),
    ("avg_days_to_conversion", N_("mean over converted leads of (conversion − arrival) in days; "
                               "conversion = earliest purchase or move to customer, "
                               "arrival = min(created_at, first event)")),
    ("cost", N_("sum of campaign costs whose day starts in [since, until) and match the group "
             "(campaign; source; ISO week of the day; all for total); none for segments and "
             "account grades; "
             "empty when no cost line matches")),
    ("cost_per_lead", N_("cost / leads")),
    ("revenue", N_("sum of the numeric amount (else value) property of the leads' purchase "
                   "events")),
    ("lifetime_value", N_("revenue / converted")),
    ("engagement_score", N_("mean over the group's scored leads of the engagement points of their "
                         "current score (engagement criteria and inactivity decay; none "
                         "without an active model)")),
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


def day_of(value: Any) -> date:
    """A day as the database returns it: a date or moment (PostgreSQL), text (SQLite)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# -- per-group sums ----------------------------------------------------------------------------


def _days(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if on_postgres(session):
        return func.extract("epoch", later - earlier) / 86_400.0
    return func.julianday(later) - func.julianday(earlier)


def _sums(session: Session, scored: bool) -> list[ColumnElement[Any]]:
    """One row's worth of ``_Tally`` over the leads of a group, from the facts each lead
    carries (see ``outcomes``): arrival is the earlier of creation and first event."""
    qualified = case((func.coalesce(Lead.furthest_stage, "iql").in_(QUALIFIED_STAGES), 1),
                     else_=0)  # fmt: skip
    arrived = earliest(session, Lead.created_at, Lead.first_event_at)
    days = _days(session, Lead.converted_at, arrived)
    engagement = case((Lead.score.is_not(None), func.coalesce(Lead.engagement_points, 0.0)))
    engaged = engagement if scored else null().cast(Float)
    return [func.count(), func.sum(qualified), func.count(Lead.converted_at), func.sum(days),
            func.sum(Lead.revenue), func.count(engaged), func.sum(engaged)]  # fmt: skip


@dataclass
class _Tally:
    leads: int = 0
    qualified: int = 0
    converted: int = 0
    days: float = 0.0
    revenue: float = 0.0
    scored: int = 0
    engagement: float = 0.0

    def add(self, sums: Sequence[Any]) -> None:
        """Add a row of ``_sums``."""
        leads, qualified, converted, days, revenue, scored, engagement = sums
        self.leads += int(leads)
        self.qualified += int(qualified or 0)
        self.converted += int(converted)
        self.days += float(days or 0.0)
        self.revenue += float(revenue or 0.0)
        self.scored += int(scored)
        self.engagement += float(engagement or 0.0)

    def merge(self, other: _Tally) -> None:
        self.add(astuple(other))

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


@dataclass(frozen=True)
class Cell:
    """The leads of a period that share a source, campaign, furthest stage and grade, added
    up: every dimension but weeks and segments, the funnel and conversion by grade are sums
    of cells, so one pass over the leads serves them all."""

    source: str | None
    campaign: str | None
    furthest_stage: str
    grade: str | None
    account_grade: str | None
    tally: _Tally


def cells(session: Session, window: Period, scored: bool) -> list[Cell]:
    keys = (Lead.source, Lead.campaign, func.coalesce(Lead.furthest_stage, "iql"), Lead.grade,
            Lead.account_grade)  # fmt: skip
    query = select(*keys, *_sums(session, scored)).where(*window.leads()).group_by(*keys)
    found = []
    for source, campaign, furthest, grade, account_grade, *sums in session.execute(query):
        tally = _Tally()
        tally.add(sums)
        found.append(Cell(source, campaign, furthest, grade, account_grade, tally))
    return found


def _grouped(session: Session, by: Dimension, window: Period, scored: bool,
             cube: Sequence[Cell]) -> dict[str, _Tally]:  # fmt: skip
    """The leads of the period added up per group (days are added into their ISO weeks)."""
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    if by != "week":
        if by == "total":
            tallies[TOTAL] = _Tally()
        for cell in cube:
            key = TOTAL if by == "total" else getattr(cell, by)
            tallies[key or NONE].merge(cell.tally)
        return tallies
    day = func.date(Lead.created_at)
    query = select(day, *_sums(session, scored)).where(*window.leads()).group_by(day)
    for value, *sums in session.execute(query):
        tallies[iso_week(day_of(value))].add(sums)
    return tallies


def _costs(session: Session, by: Dimension, window: Period) -> dict[str, float]:
    """Cost per group; a group no cost line matches is absent (cost unknown, not zero)."""
    amount = func.sum(CampaignCost.amount)
    where = window.costs()
    if by == "total":
        count, total = session.execute(select(func.count(), amount).where(*where)).one()
        return {TOTAL: float(total)} if count else {}
    if by == "account_grade":
        return {}  # money is spent on campaigns, not on accounts
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


def _segment_rows(session: Session, window: Period, now: datetime,
                  scored: bool) -> list[Metrics]:  # fmt: skip
    rows = []
    for name in session.scalars(select(SavedSegment.name).order_by(SavedSegment.name)):
        members = [*window.leads(), segments.membership(session, name, now)]
        tally = _Tally()
        tally.add(session.execute(select(*_sums(session, scored)).where(*members)).one())
        rows.append(tally.metrics(name, None))
    return rows


def _rows(session: Session, by: Dimension, window: Period, now: datetime, scored: bool,
          cube: Sequence[Cell]) -> list[Metrics]:  # fmt: skip
    if by == "segment":
        rows = _segment_rows(session, window, now, scored)
    else:
        tallies = _grouped(session, by, window, scored, cube)
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
               now: datetime | None = None,
               cube: Sequence[Cell] | None = None) -> dict[Dimension, list[Metrics]]:  # fmt: skip
    """``metrics`` for several dimensions, reading the leads once for all but weeks and
    segments (or not at all, given the period's ``cells``)."""
    unknown = [by for by in dimensions if by not in DIMENSIONS]
    if unknown:
        options = ", ".join(DIMENSIONS)
        raise InvalidInput([FieldError("by", f"unknown dimension; one of: {options}")])
    window = period(since, until)
    scored = active_model(session) is not None
    moment = now or datetime.now(UTC)
    if cube is None:
        summed = {"total", "source", "campaign", "account_grade"} & set(dimensions)
        cube = cells(session, window, scored) if summed else []
    return {by: _rows(session, by, window, moment, scored, cube) for by in dimensions}
