"""The manager's dashboard: funnel, conversion by grade and by score decile, channels,
campaigns, score trend, speed-to-lead per rep and a sample of low-scored leads to review.

Each series is a list of small frozen rows, ready for a chart or JSON."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from leadq.services.analytics.metrics import (
    Metrics,
    converted_condition,
    iso_week,
    metrics_by,
)
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.scoring.rescoring import active_model
from leadq.store.tables import FollowUpTask, Lead, StageChange

FUNNEL = ("iql", "mql", "sal", "sql", "opportunity", "customer")
UNSCORED = "unscored"
UNASSIGNED = "(unassigned)"
BOTTOM_SHARE = 0.3
MAX_WEEKS = 520
MAX_SAMPLE = 500


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    detail: str = ""


@dataclass(frozen=True)
class Rate:
    label: str
    leads: int
    converted: int
    rate: float | None


@dataclass(frozen=True)
class WeekScores:
    week: str
    leads: int
    mean: float | None
    p25: float | None
    median: float | None
    p75: float | None
    grades: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RepSpeed:
    owner: str
    tasks: int
    done: int
    median_minutes: float | None
    breaches: int
    open_overdue: int


def _rate(label: str, leads: int, converted: int) -> Rate:
    return Rate(label, leads, converted, converted / leads if leads else None)


def _converted() -> ColumnElement[int]:
    return case((converted_condition(), 1), else_=0)


def funnel(session: Session) -> list[Bar]:
    """Leads that reached each stage, or a later one, by stage history or current stage:
    the bars never grow, and every lead starts as an IQL."""
    rank = {stage: index for index, stage in enumerate(FUNNEL)}
    history = (
        select(StageChange.lead_id.label("lead_id"),
               func.max(case(rank, value=StageChange.to_stage, else_=0)).label("rank"))
        .group_by(StageChange.lead_id).subquery()
    )  # fmt: skip
    current = case(rank, value=Lead.stage, else_=0)
    reached = case((history.c.rank > current, history.c.rank), else_=current).label("reached")
    per_lead = select(reached).outerjoin(history, history.c.lead_id == Lead.id).subquery()
    query = select(per_lead.c.reached, func.count()).group_by(per_lead.c.reached)
    counts: dict[int, int] = {int(r): int(n) for r, n in session.execute(query)}
    bars: list[Bar] = []
    for index, stage in enumerate(FUNNEL):
        value = sum(n for r, n in counts.items() if r >= index)
        before = bars[-1] if bars else None
        detail = f"{value / before.value:.0%} of {before.label}" if before and before.value else ""
        bars.append(Bar(stage, value, detail))
    return bars


def conversion_by_grade(session: Session) -> list[Rate]:
    """Conversion per grade, lowest grade first by the active model's thresholds; grades of
    older models follow by name, then leads without a score."""
    query = select(Lead.grade, func.count(), func.sum(_converted())).group_by(Lead.grade)
    found = {grade: (int(n), int(c or 0)) for grade, n, c in session.execute(query)}
    model = active_model(session)
    ordered = list(model.grades) if model else []
    ordered += sorted(g for g in found if g is not None and g not in ordered)
    rates = [_rate(grade, *found.get(grade, (0, 0))) for grade in ordered]
    if None in found:
        rates.append(_rate(UNSCORED, *found[None]))
    return rates


def conversion_by_decile(session: Session) -> list[Rate]:
    """Scored leads in ten equal-count groups by rules score (ties split by lead id; the
    lower deciles take one more lead when the count does not divide by ten)."""
    decile = func.ntile(10).over(order_by=(Lead.score, Lead.id)).label("decile")
    ranked = select(decile, _converted().label("converted")).where(Lead.score.is_not(None))
    inner = ranked.subquery()
    query = select(inner.c.decile, func.count(), func.sum(inner.c.converted))
    rows = list(session.execute(query.group_by(inner.c.decile).order_by(inner.c.decile)))
    rates = []
    for number, (d, leads, converted) in enumerate(rows, start=1):
        suffix = " (lowest)" if number == 1 else " (highest)" if number == len(rows) else ""
        rates.append(_rate(f"D{d}{suffix}", int(leads), int(converted or 0)))
    return rates


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    p25, median, p75 = statistics.quantiles(values, n=4, method="inclusive")
    return p25, median, p75


def score_trend(session: Session, weeks: int = 12,
                now: datetime | None = None) -> list[WeekScores]:  # fmt: skip
    """Current scores of the leads created in each of the last ``weeks`` ISO weeks (this
    one included), quartiles by linear interpolation; weeks without leads are kept. Grades
    come lowest first, as the active model orders them."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput([FieldError("weeks", f"must be 1–{MAX_WEEKS}")])
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = start + timedelta(weeks=weeks)
    labels = [iso_week(first + timedelta(weeks=i)) for i in range(weeks)]
    leads = {label: 0 for label in labels}
    scores: dict[str, list[float]] = {label: [] for label in labels}
    grades: dict[str, dict[str, int]] = {label: {} for label in labels}
    query = select(Lead.created_at, Lead.score, Lead.grade)
    for created, score, grade in session.execute(
        query.where(Lead.created_at >= start, Lead.created_at < end)
    ):
        week = iso_week(created.date())
        leads[week] += 1
        if score is not None:
            scores[week].append(score)
        if grade is not None:
            grades[week][grade] = grades[week].get(grade, 0) + 1
    model = active_model(session)
    order = {grade: rank for rank, grade in enumerate(model.grades if model else ())}
    trend = []
    for week in labels:
        grades[week] = dict(sorted(grades[week].items(), key=lambda g: (order.get(g[0], 99), g[0])))
        values = sorted(scores[week])
        if values:
            p25, median, p75 = _quartiles(values)
            trend.append(WeekScores(week, leads[week], statistics.fmean(values), p25, median,
                                    p75, grades[week]))  # fmt: skip
        else:
            trend.append(WeekScores(week, leads[week], None, None, None, None, grades[week]))
    return trend


def speed_to_lead(session: Session, now: datetime,
                  since: datetime | None = None) -> list[RepSpeed]:  # fmt: skip
    """Per task owner: tasks, done, median minutes from creation to done, SLA breaches and
    open tasks past due now; ``since`` keeps tasks created from then on."""
    where = [] if since is None else [FollowUpTask.created_at >= since]
    overdue = case((FollowUpTask.done_at.is_(None) & (FollowUpTask.due_at < now), 1), else_=0)
    counts = select(FollowUpTask.owner, func.count(), func.count(FollowUpTask.done_at),
                    func.count(FollowUpTask.breached_at), func.sum(overdue))  # fmt: skip
    minutes: dict[str | None, list[float]] = {}
    took = (FollowUpTask.owner, FollowUpTask.created_at, FollowUpTask.done_at)
    for owner, created, finished in session.execute(
        select(*took).where(*where, FollowUpTask.done_at.is_not(None))
    ):
        assert finished is not None
        minutes.setdefault(owner, []).append((finished - created) / timedelta(minutes=1))
    reps = []
    for owner, tasks, finished, breaches, late in session.execute(
        counts.where(*where).group_by(FollowUpTask.owner)
    ):
        times = minutes.get(owner)
        reps.append(RepSpeed(owner or UNASSIGNED, int(tasks), int(finished),
                             statistics.median(times) if times else None, int(breaches),
                             int(late or 0)))  # fmt: skip
    return sorted(reps, key=lambda r: (r.owner == UNASSIGNED, r.owner))


def low_score_sample(session: Session, size: int = 10, seed: int | None = None) -> list[Lead]:
    """Leads the score says to ignore, for a person to check ("tunnel vision" review): a
    random sample of the active model's bottom grade, or of the bottom 30 % by score when
    no model is active; disqualified leads are left out. Same seed, same sample."""
    if not 1 <= size <= MAX_SAMPLE:
        raise InvalidInput([FieldError("size", f"must be 1–{MAX_SAMPLE}")])
    alive = [Lead.score.is_not(None), Lead.stage != "disqualified"]
    model = active_model(session)
    if model is not None:
        query = select(Lead.id).where(*alive, Lead.grade == next(iter(model.grades)))
        candidates = list(session.scalars(query.order_by(Lead.id)))
    else:
        total = session.scalar(select(func.count()).select_from(Lead).where(*alive)) or 0
        bottom = select(Lead.id).where(*alive).order_by(Lead.score, Lead.id)
        candidates = sorted(session.scalars(bottom.limit(math.ceil(total * BOTTOM_SHARE))))
    chosen = random.Random(seed).sample(candidates, min(size, len(candidates)))
    found = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(chosen)))}
    return [found[lead_id] for lead_id in chosen]


@dataclass(frozen=True)
class Dashboard:
    funnel: list[Bar]
    conversion_by_grade: list[Rate]
    conversion_by_decile: list[Rate]
    channels: list[Metrics]
    campaigns: list[Metrics]
    score_trend: list[WeekScores]
    speed_to_lead: list[RepSpeed]
    low_score_sample: list[Lead]
    total: Metrics


def dashboard(session: Session, now: datetime, weeks: int = 12, sample: int = 10,
              seed: int | None = None) -> Dashboard:  # fmt: skip
    """Every series at once, read in one session (one consistent picture)."""
    tables = metrics_by(session, ["source", "campaign", "total"], now=now)
    return Dashboard(funnel(session), conversion_by_grade(session),
                     conversion_by_decile(session), tables["source"], tables["campaign"],
                     score_trend(session, weeks, now), speed_to_lead(session, now),
                     low_score_sample(session, sample, seed), tables["total"][0])  # fmt: skip
