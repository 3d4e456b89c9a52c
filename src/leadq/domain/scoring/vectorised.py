"""The vectorised engine: the same model as polars expressions over whole tables.

Built to agree with ``evaluate`` bit for bit on integer models: every sum adds in the same
order, the same operators treat types and missing values alike. Leads: an ``id`` column and
profile columns by their field names (``attributes.x`` for custom fields). Events:
``lead_id``, ``type``, ``occurred_at`` (UTC), optional ``channel``, one column per property.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from leadq.domain.free_mail import free_mail_domains
from leadq.domain.scoring.evaluate import DAY, DECAY_ID, FLOOR_ID, NUMBER_TEXT, grade_ladder
from leadq.domain.scoring.model import (
    Condition,
    EngagementCriterion,
    FitCriterion,
    ScoringModel,
    When,
)

DAY_US = 86_400_000_000.0
NUMERIC = (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16,
           pl.UInt32, pl.UInt64)  # fmt: skip


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "bool"
    if dtype in NUMERIC or isinstance(dtype, pl.Decimal):
        return "number"
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        return "text"
    return "other"


def _equal(column: pl.Expr, kind: str, expected: Any) -> pl.Expr:
    """Never null for a present value: a text that is not a number is simply not equal."""
    if isinstance(expected, bool):
        return column == expected if kind == "bool" else pl.lit(False)
    if isinstance(expected, int | float):
        number = _number(column, kind)
        return pl.lit(False) if number is None else (number == float(expected)).fill_null(False)
    return column.cast(pl.String) == expected if kind == "text" else pl.lit(False)


def _number(column: pl.Expr, kind: str) -> pl.Expr | None:
    """As the evaluator reads numbers: NaN and text outside ``NUMBER_TEXT`` are none."""
    if kind == "number":
        return column.cast(pl.Float64).fill_nan(None)
    if kind == "text":
        text = column.cast(pl.String)
        return pl.when(text.str.contains(f"^{NUMBER_TEXT}$")).then(
            text.cast(pl.Float64, strict=False)
        )
    return None


def _operator(operator: str, expected: Any, column: pl.Expr, kind: str) -> pl.Expr:
    if operator == "eq":
        return _equal(column, kind, expected)
    if operator == "ne":
        return ~_equal(column, kind, expected)
    if operator in ("in_", "not_in"):
        any_equal = pl.any_horizontal([_equal(column, kind, item) for item in expected])
        return any_equal if operator == "in_" else ~any_equal
    if operator in ("gt", "gte", "lt", "lte", "range"):
        number = _number(column, kind)
        if number is None:
            return pl.lit(False)
        if operator == "range":
            return (number >= float(expected[0])) & (number <= float(expected[1]))
        bound = float(expected)
        tests = {"gt": number > bound, "gte": number >= bound, "lt": number < bound,
                 "lte": number <= bound}  # fmt: skip
        return tests[operator]
    if kind != "text":
        return pl.lit(False)
    text = column.cast(pl.String)
    lower, needle = text.str.to_lowercase(), str(expected).lower()
    if operator == "contains":
        return lower.str.contains(needle, literal=True)
    if operator == "starts_with":
        return lower.str.starts_with(needle)
    if operator == "ends_with":
        return lower.str.ends_with(needle)
    if operator == "regex":
        return text.str.contains(str(expected))
    if operator == "is_free_mail":
        domain = text.str.strip_chars().str.split("@").list.last().str.strip_chars_end(".")
        return domain.str.to_lowercase().is_in(sorted(free_mail_domains())) == bool(expected)
    raise AssertionError(operator)


def condition_expr(condition: Condition, name: str, schema: pl.Schema) -> pl.Expr:
    """Every operator must hold; a missing value (or column) satisfies only ``exists: false``."""
    if name not in schema:
        column, kind = pl.lit(None), "other"
    else:
        column, kind = pl.col(name), _kind(schema[name])
    parts = []
    for operator, expected in condition.operators().items():
        if operator == "exists":
            parts.append(column.is_not_null() if expected else column.is_null())
        else:
            test = _operator(operator, expected, column, kind)
            parts.append(column.is_not_null() & test.fill_null(False))
    return pl.all_horizontal(parts)


def when_expr(when: When, schema: pl.Schema) -> pl.Expr:
    return pl.all_horizontal([condition_expr(c, name, schema) for name, c in when.items()])


def fit_expr(criterion: FitCriterion, schema: pl.Schema) -> pl.Expr:
    if criterion.levels is None:
        assert criterion.when is not None and criterion.points is not None
        points = criterion.weight * criterion.points
        return pl.when(when_expr(criterion.when, schema)).then(points).otherwise(0.0)
    chain: Any = pl
    for level in criterion.levels:
        chain = chain.when(when_expr(level.when, schema)).then(criterion.weight * level.level)
    result: pl.Expr = chain.otherwise(0.0)
    return result


def _days_since(column: str, as_of: datetime) -> pl.Expr:
    """Days from ``column`` to ``as_of`` as the evaluator counts them (microseconds / day)."""
    return (pl.lit(as_of) - pl.col(column)).dt.total_microseconds().cast(pl.Float64) / DAY_US


def _periods_since(column: str, as_of: datetime, every_days: float) -> pl.Expr:
    """Whole periods of ``every_days`` from ``column`` to ``as_of``, rounded as the evaluator
    rounds: polars divides by a constant through its reciprocal, which rounds differently at
    the last bit, so the two divisions run in numpy."""
    micros = (pl.lit(as_of) - pl.col(column)).dt.total_microseconds().cast(pl.Float64)

    def floored(series: pl.Series) -> pl.Series:
        periods = np.floor(series.to_numpy() / DAY_US / every_days)
        return pl.Series(series.name, periods, dtype=pl.Float64).fill_nan(None)

    return micros.map_batches(floored, return_dtype=pl.Float64, is_elementwise=True)


def _event_mask(criterion: EngagementCriterion, schema: pl.Schema, as_of: datetime) -> pl.Expr:
    mask = pl.col("type") == criterion.event
    if criterion.within_days:
        mask = mask & (pl.col("occurred_at") > pl.lit(as_of - criterion.within_days * DAY))
    if criterion.where:
        mask = mask & when_expr(criterion.where, schema)
    return mask


def _aggregations(model: ScoringModel, schema: pl.Schema, as_of: datetime) -> list[pl.Expr]:
    aggs = [pl.col("occurred_at").max().alias("_last")]
    for criterion in model.criteria():
        if not isinstance(criterion, EngagementCriterion):
            continue
        mask = _event_mask(criterion, schema, as_of)
        aggs.append(mask.cast(pl.UInt32).sum().alias(f"_n.{criterion.id}"))
        if criterion.half_life_days is not None:
            factor = pl.lit(0.5).pow(_days_since("occurred_at", as_of) / criterion.half_life_days)
            kept = pl.when(mask).then(factor)
            total = kept.max() if criterion.once else kept.sum()
            aggs.append(total.fill_null(0.0).alias(f"_f.{criterion.id}"))
    return aggs


def _engagement_expr(criterion: EngagementCriterion) -> pl.Expr:
    count = pl.col(f"_n.{criterion.id}").fill_null(0).cast(pl.Float64)
    limited = count if criterion.limit is None else pl.min_horizontal(count, criterion.limit)
    if criterion.level == "count":
        return criterion.weight * limited
    assert criterion.points is not None
    per = criterion.weight * criterion.points
    if criterion.half_life_days is None:
        return per * limited
    return per * pl.col(f"_f.{criterion.id}").fill_null(0.0)


def grade_expr(grades: dict[str, float], points: pl.Expr, best_first: bool) -> pl.Expr:
    ordered, worst = grade_ladder(grades, best_first)
    chain: Any = pl
    for name, threshold in ordered:
        chain = chain.when(points >= threshold).then(pl.lit(name))
    result: pl.Expr = chain.otherwise(pl.lit(worst))
    return result


def score_frame(
    model: ScoringModel,
    leads: pl.LazyFrame,
    events: pl.LazyFrame | None,
    as_of: datetime,
    carry: tuple[str, ...] = (),
    explain: bool = False,
) -> pl.LazyFrame:
    """Score every lead: ``id, score, grade, fit_points, engagement_points, fit_grade,
    engagement_grade`` and ``points.<criterion>`` per criterion (plus decay and floor), then
    the ``carry`` columns of the leads. ``explain`` adds what the evaluator's breakdown shows
    beside the points: ``count.<criterion>`` per engagement criterion, ``last_activity``."""
    lead_schema = leads.collect_schema()
    frame = leads
    if events is not None:
        event_schema = events.collect_schema()
        instant = as_of.astimezone(UTC)
        events = (
            events.with_columns(
                pl.col("occurred_at").dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            )
            if (getattr(event_schema["occurred_at"], "time_zone", None))
            else events
        )
        naive = instant.replace(tzinfo=None)
        past = events.filter(pl.col("occurred_at") <= naive)
        grouped = past.group_by("lead_id").agg(_aggregations(model, event_schema, naive))
        frame = leads.join(
            grouped, left_on="id", right_on="lead_id", how="left", maintain_order="left"
        )  # output rows keep the input order
    else:
        frame = leads.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("_last"))
    points: list[pl.Expr] = []
    fit: pl.Expr = pl.lit(0.0)
    engagement: pl.Expr = pl.lit(0.0)
    for criterion in model.criteria():
        name = f"points.{criterion.id}"
        if isinstance(criterion, FitCriterion):
            points.append(fit_expr(criterion, lead_schema).alias(name))
            fit = fit + pl.col(name)
        else:
            found = _engagement_expr(criterion) if events is not None else pl.lit(0.0)
            points.append(found.alias(name))
            engagement = engagement + pl.col(name)
    if model.decay is not None:
        naive_as_of = as_of.astimezone(UTC).replace(tzinfo=None)
        periods = _periods_since("_last", naive_as_of, model.decay.every_days)
        points.append((periods * model.decay.points).fill_null(0.0).alias(f"points.{DECAY_ID}"))
        engagement = engagement + pl.col(f"points.{DECAY_ID}")
    # each stage names what the next adds up, so no expression is repeated inside another
    # (the grades compare the total with each threshold: inline, the optimiser had to find
    # the whole sum again in each, most of the time of scoring a chunk of a few hundred leads)
    frame = frame.with_columns(points).with_columns(
        fit.alias("fit_points"), engagement.alias("engagement_points")
    )
    total: pl.Expr = pl.col("fit_points") + pl.col("engagement_points")
    if model.floor is not None:
        frame = frame.with_columns(total.alias(_TOTAL))
        total = pl.col(_TOTAL)
        floor = pl.when(total < model.floor).then(model.floor - total).otherwise(0.0)
        frame = frame.with_columns(floor.alias(f"points.{FLOOR_ID}"))
        points.append(pl.col(f"points.{FLOOR_ID}"))
        total = pl.when(total < model.floor).then(pl.lit(model.floor)).otherwise(total)
    frame = frame.with_columns(total.alias("score"))
    outputs = [
        pl.col("id"),
        pl.col("score"),
        grade_expr(model.grades, pl.col("score"), best_first=False).alias("grade"),
        pl.col("fit_points"),
        pl.col("engagement_points"),
    ]
    if model.matrix is not None:
        fitted, engaged = pl.col("fit_points"), pl.col("engagement_points")
        outputs.append(grade_expr(dict(model.matrix.fit), fitted, True).alias("fit_grade"))
        outputs.append(grade_expr(dict(model.matrix.engagement), engaged, True)
                       .alias("engagement_grade"))  # fmt: skip
    if explain:
        explained = _explained(model, events is not None)
        frame = frame.with_columns(explained)
        points.extend(pl.col(e.meta.output_name()) for e in explained)
    shown = [pl.col(e.meta.output_name()) for e in points]
    return frame.select([*outputs, *shown, *(pl.col(name) for name in carry)])


_TOTAL = "_score.total"
"""The sum before the floor, a column of its own while the floor is worked out."""


def _explained(model: ScoringModel, with_events: bool) -> list[pl.Expr]:
    """What the breakdown lines show besides points: occurrences counted (at most the cap),
    and the newest event (naive UTC), from which the evaluator's inactivity days follow."""
    counts = []
    for c in model.criteria():
        if isinstance(c, EngagementCriterion):
            n = pl.col(f"_n.{c.id}").fill_null(0).cast(pl.Int64) if with_events else pl.lit(0)
            limited = n if c.limit is None else pl.min_horizontal(n, c.limit)
            counts.append(limited.alias(f"count.{c.id}"))
    last = pl.col("_last") if with_events else pl.lit(None, dtype=pl.Datetime("us"))
    return [*counts, last.alias("last_activity")]
