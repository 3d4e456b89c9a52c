"""The manager's dashboard: funnel, conversion by grade and by score decile, channels,
campaigns, score trend, speed-to-lead per rep and a sample of low-scored leads to review.

Each series is a list of small frozen rows, ready for a chart or JSON."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from leadq.services.analytics.metrics import (
    Cell,
    Metrics,
    Period,
    cells,
    day_of,
    iso_week,
    metrics_by,
)
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.qualification.outcomes import FUNNEL
from leadq.services.scoring.rescoring import active_model
from leadq.store.sql import on_postgres
from leadq.store.tables import FollowUpTask, Lead

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


def _cube(session: Session, period: Period | None = None) -> list[Cell]:
    return cells(session, period or Period(), active_model(session) is not None)


def funnel(session: Session, cube: Sequence[Cell] | None = None) -> list[Bar]:
    """Leads that reached each stage, or a later one, by stage history or current stage:
    the bars never grow, and every lead starts as an IQL."""
    counts = {stage: 0 for stage in FUNNEL}
    for cell in _cube(session) if cube is None else cube:
        counts[cell.furthest_stage] += cell.tally.leads
    bars: list[Bar] = []
    for index, stage in enumerate(FUNNEL):
        value = sum(counts[later] for later in FUNNEL[index:])
        before = bars[-1] if bars else None
        detail = f"{value / before.value:.0%} of {before.label}" if before and before.value else ""
        bars.append(Bar(stage, value, detail))
    return bars


def conversion_by_grade(session: Session, cube: Sequence[Cell] | None = None) -> list[Rate]:
    """Conversion per grade, lowest grade first by the active model's thresholds; grades of
    older models follow by name, then leads without a score."""
    found: dict[str | None, tuple[int, int]] = {}
    for cell in _cube(session) if cube is None else cube:
        leads, converted = found.get(cell.grade, (0, 0))
        found[cell.grade] = (leads + cell.tally.leads, converted + cell.tally.converted)
    model = active_model(session)
    ordered = list(model.grades) if model else []
    ordered += sorted(g for g in found if g is not None and g not in ordered)
    rates = [_rate(grade, *found.get(grade, (0, 0))) for grade in ordered]
    if None in found:
        rates.append(_rate(UNSCORED, *found[None]))
    return rates


def _decile_starts(session: Session, period: Period) -> tuple[list[int], list[tuple[float, int]]]:
    """The size of each decile and the (score, id) of the first lead of each but the lowest,
    found from the count of leads per score and one index lookup per decile."""
    within = period.leads()
    histogram = session.execute(select(Lead.score, func.count())
                                .where(Lead.score.is_not(None), *within)
                                .group_by(Lead.score).order_by(Lead.score)).all()  # fmt: skip
    count = sum(n for _, n in histogram)
    groups = min(10, count)
    if not groups:
        return [], []
    size, extra = divmod(count, groups)
    sizes = [size + (k < extra) for k in range(groups)]
    firsts: list[tuple[float, int]] = []
    before, scores = 0, iter(histogram)
    score, n = next(scores)
    for start in itertools.accumulate(sizes[:-1]):
        while before + n <= start:
            before += n
            score, n = next(scores)
        at = (select(Lead.id).where(Lead.score == score, *within).order_by(Lead.id)
              .offset(start - before))  # fmt: skip
        firsts.append((float(score or 0), session.scalars(at.limit(1)).one()))
    return sizes, firsts


def conversion_by_decile(session: Session, period: Period | None = None) -> list[Rate]:
    """Scored leads (created in ``period``) in ten equal-count groups by rules score (ties
    split by lead id; the lower deciles take one more lead when the count does not divide by
    ten). Only the converted leads are read one by one, and placed by the first lead of each
    decile."""
    period = period or Period()
    sizes, firsts = _decile_starts(session, period)
    converted = [0] * len(sizes)
    won = select(Lead.score, Lead.id).where(Lead.score.is_not(None), Lead.converted_at.is_not(None),
                                            *period.leads())  # fmt: skip
    for score, lead_id in session.execute(won):
        converted[bisect.bisect_right(firsts, (score, lead_id))] += 1
    rates = []
    for number, (leads, bought) in enumerate(zip(sizes, converted, strict=True), start=1):
        suffix = " (lowest)" if number == 1 else " (highest)" if number == len(sizes) else ""
        rates.append(_rate(f"D{number}{suffix}", leads, bought))
    return rates


def _monday(session: Session, moment: Any) -> ColumnElement[Any]:
    """The Monday of the ISO week of a UTC moment."""
    if on_postgres(session):
        return func.date_trunc("week", moment)
    return func.date(moment, "weekday 0", "-6 days")


Quartiles = tuple[float, float, float]


def _quartiles(session: Session, monday: ColumnElement[Any],
               where: list[ColumnElement[bool]]) -> dict[date, Quartiles]:  # fmt: skip
    """Per week, the quartiles of the scores by linear interpolation (as ``statistics.
    quantiles(method="inclusive")``), reading only the two scores around each cut."""
    rank = func.row_number().over(partition_by=monday, order_by=Lead.score).label("rank")
    count = func.count().over(partition_by=monday).label("n")
    ranked = select(monday.label("week"), Lead.score, rank, count).where(*where).subquery()
    cuts = [1 + (i * (ranked.c.n - 1)) // 4 for i in (1, 2, 3)]
    near = or_(*(ranked.c.rank.in_((cut, cut + 1)) for cut in cuts))
    scores: dict[date, dict[int, float]] = defaultdict(dict)
    sizes: dict[date, int] = {}
    for week, score, position, n in session.execute(select(ranked).where(near)):
        scores[day_of(week)][position - 1] = score
        sizes[day_of(week)] = n
    found = {}
    for week, at in scores.items():
        m = sizes[week] - 1
        cut = [divmod(i * m, 4) for i in (1, 2, 3)]
        p25, median, p75 = (
            at[j] if m == 0 else (at[j] * (4 - delta) + at[j + 1] * delta) / 4 for j, delta in cut
        )
        found[week] = (p25, median, p75)
    return found


def score_trend(session: Session, weeks: int = 12,
                now: datetime | None = None) -> list[WeekScores]:  # fmt: skip
    """Current scores of the leads created in each of the last ``weeks`` ISO weeks (this
    one included), quartiles by linear interpolation; weeks without leads are kept. Grades
    come lowest first, as the active model orders them."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput([FieldError("weeks", f"must be 1–{MAX_WEEKS}")])
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    within = [Lead.created_at >= start, Lead.created_at < start + timedelta(weeks=weeks)]
    monday = _monday(session, Lead.created_at)
    tallies = select(monday, Lead.grade, func.count(), func.count(Lead.score), func.sum(Lead.score))
    leads: dict[date, int] = defaultdict(int)
    scored: dict[date, int] = defaultdict(int)
    total: dict[date, float] = defaultdict(float)
    grades: dict[date, dict[str, int]] = defaultdict(dict)
    query = tallies.where(*within).group_by(monday, Lead.grade)
    for moment, grade, n, with_score, points in session.execute(query):
        week = day_of(moment)
        leads[week], scored[week] = leads[week] + n, scored[week] + with_score
        total[week] += points or 0.0
        if grade is not None:
            grades[week][grade] = n
    quartiles = _quartiles(session, monday, [*within, Lead.score.is_not(None)])
    model = active_model(session)
    order = {grade: rank for rank, grade in enumerate(model.grades if model else ())}
    trend = []
    for week in (first + timedelta(weeks=i) for i in range(weeks)):
        ranked = dict(sorted(grades[week].items(), key=lambda g: (order.get(g[0], 99), g[0])))
        if scored[week]:
            mean = total[week] / scored[week]
            trend.append(WeekScores(iso_week(week), leads[week], mean, *quartiles[week], ranked))
        else:
            trend.append(WeekScores(iso_week(week), leads[week], None, None, None, None, ranked))
    return trend


def speed_to_lead(session: Session, now: datetime, since: datetime | None = None,
                  until: datetime | None = None) -> list[RepSpeed]:  # fmt: skip
    """Per task owner: tasks, done, median minutes from creation to done, SLA breaches and
    open tasks past due now; of the tasks created in ``[since, until)`` when given."""
    where = [] if since is None else [FollowUpTask.created_at >= since]
    where += [] if until is None else [FollowUpTask.created_at < until]
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
    no model is active; disqualified leads are left out. Same seed, same sample: positions
    are drawn among the candidates in id order, and only the chosen ones are read."""
    if not 1 <= size <= MAX_SAMPLE:
        raise InvalidInput([FieldError("size", f"must be 1–{MAX_SAMPLE}")])
    alive = [Lead.score.is_not(None), Lead.stage != "disqualified"]
    model = active_model(session)
    if model is not None:
        candidates = select(Lead.id).where(*alive, Lead.grade == next(iter(model.grades)))
    else:
        total = session.scalar(select(func.count()).select_from(Lead).where(*alive)) or 0
        bottom = math.ceil(total * BOTTOM_SHARE)
        candidates = select(Lead.id).where(*alive).order_by(Lead.score, Lead.id).limit(bottom)
    pool = candidates.subquery()
    count = session.scalar(select(func.count()).select_from(pool)) or 0
    positions = random.Random(seed).sample(range(count), min(size, count))
    place = func.row_number().over(order_by=pool.c.id).label("place")
    placed = select(pool.c.id, place).subquery()
    chosen = dict(session.execute(select(placed.c.place, placed.c.id)
                                  .where(placed.c.place.in_([p + 1 for p in positions])))
                  .all())  # fmt: skip
    return leads_by_id(session, [chosen[p + 1] for p in positions])


def leads_by_id(session: Session, ids: list[int]) -> list[Lead]:
    """These leads in this order (one that is gone is left out)."""
    found = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
    return [found[lead_id] for lead_id in ids if lead_id in found]


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
              seed: int | None = None, period: Period | None = None) -> Dashboard:  # fmt: skip
    """Every series at once, read in one session (one consistent picture); with a
    ``period``, of the leads (and tasks) created in it, the weeks those up to its end."""
    period = period or Period()
    cube = _cube(session, period)
    tables = metrics_by(session, ["source", "campaign", "total"], period.since, period.until,
                        now=now, cube=cube)  # fmt: skip
    last = min(now, period.until - timedelta(microseconds=1)) if period.until else now
    return Dashboard(funnel(session, cube), conversion_by_grade(session, cube),
                     conversion_by_decile(session, period), tables["source"],
                     tables["campaign"], score_trend(session, weeks, last),
                     speed_to_lead(session, now, period.since, period.until),
                     low_score_sample(session, sample, seed), tables["total"][0])  # fmt: skip
