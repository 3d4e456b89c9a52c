"""The Spark engine for scoring models: the model document compiled to DataFrame expressions.

A twin of ``domain.scoring.vectorised`` (the polars engine), step for step, so that both give the
same numbers: every sum adds in the same order, and the operators treat types, text numbers, NaN
and missing values alike. Fading (``half_life_days``) is the exception: each engine has its own
power function and adds events in its own order, so those points agree to about 1e-12. Everything
runs in the JVM: no Python function is called per row.

Leads: an ``id`` column and profile columns by their field names (``attributes.x`` for custom
fields). Events: ``lead_id``, ``type``, ``occurred_at`` (a timestamp; one without a zone is UTC),
optional ``channel``, one column per property.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from leadq.domain.free_mail import free_mail_domains
from leadq.domain.scoring.evaluate import DECAY_ID, FLOOR_ID, NUMBER_TEXT, grade_ladder
from leadq.domain.scoring.model import (
    Condition,
    EngagementCriterion,
    FitCriterion,
    ScoringModel,
    When,
)
from leadq.services.errors import LeadqError

DAY_US = 86_400_000_000.0
NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
           T.DecimalType)  # fmt: skip


class SessionZoneError(LeadqError):
    """Text times would be read in a zone other than UTC."""


AT = "__at"
"""Each event's time in microseconds since the epoch (UTC)."""
LEAD, LAST = "__lead", "__last"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def column(name: str) -> Column:
    """A column by its plain name: ``attributes.tier`` is one column, not a struct field."""
    return F.col("`" + name.replace("`", "``") + "`")


def _kind(dtype: T.DataType) -> str:
    if isinstance(dtype, T.BooleanType):
        return "bool"
    if isinstance(dtype, NUMERIC):
        return "number"
    if isinstance(dtype, T.StringType | T.VarcharType | T.CharType):
        return "text"
    return "other"


def _number(value: Column, kind: str) -> Column | None:
    """As the evaluator reads numbers: NaN and text outside ``NUMBER_TEXT`` are none (Spark's
    own cast would also take spaces and ``1d``)."""
    if kind == "number":
        number = value.cast("double")
        return F.when(~F.isnan(number), number)
    if kind == "text":
        return F.when(value.rlike(f"^{NUMBER_TEXT}\\z"), value.try_cast("double"))
    return None


def _equal(value: Column, kind: str, expected: Any) -> Column:
    """Never null for a present value: a text that is not a number is simply not equal."""
    if isinstance(expected, bool):
        return value == F.lit(expected) if kind == "bool" else F.lit(False)
    if isinstance(expected, int | float):
        number = _number(value, kind)
        if number is None:
            return F.lit(False)
        return F.coalesce(number == F.lit(float(expected)), F.lit(False))
    return value == F.lit(expected) if kind == "text" else F.lit(False)


def _free_mail(text: Column) -> Column:
    stripped = F.regexp_replace(text, r"(?U)^\s+|\s+$", "")
    domain = F.regexp_replace(F.substring_index(stripped, "@", -1), r"\.+$", "")
    return F.lower(domain).isin(sorted(free_mail_domains()))


def java_pattern(pattern: str) -> str:
    """A model's pattern read as the other engines read it: Unicode classes and case, ``.``
    stops only at ``\\n``, and Python's ``(?P<name>…)`` groups."""
    return "(?Ud)" + pattern.replace("(?P<", "(?<")


def _text_test(operator: str, expected: Any, text: Column) -> Column:
    lower, needle = F.lower(text), str(expected).lower()
    if operator == "contains":
        return lower.contains(needle)
    if operator == "starts_with":
        return lower.startswith(needle)
    if operator == "ends_with":
        return lower.endswith(needle)
    if operator == "regex":
        return text.rlike(java_pattern(str(expected)))
    if operator == "is_free_mail":
        return _free_mail(text) == F.lit(bool(expected))
    raise AssertionError(operator)


def _operator(operator: str, expected: Any, value: Column, kind: str) -> Column:
    if operator == "eq":
        return _equal(value, kind, expected)
    if operator == "ne":
        return ~_equal(value, kind, expected)
    if operator in ("in_", "not_in"):
        any_equal = reduce(Column.__or__, [_equal(value, kind, item) for item in expected])
        return any_equal if operator == "in_" else ~any_equal
    if operator in ("gt", "gte", "lt", "lte", "range"):
        number = _number(value, kind)
        if number is None:
            return F.lit(False)
        if operator == "range":
            return (number >= float(expected[0])) & (number <= float(expected[1]))
        bound = float(expected)
        tests = {"gt": number > bound, "gte": number >= bound, "lt": number < bound,
                 "lte": number <= bound}  # fmt: skip
        return tests[operator]
    return _text_test(operator, expected, value) if kind == "text" else F.lit(False)


def condition_expr(condition: Condition, name: str, schema: T.StructType) -> Column:
    """Every operator must hold; a missing value (or column) satisfies only ``exists: false``."""
    if name not in schema.names:
        value, kind = F.lit(None), "other"
    else:
        value, kind = column(name), _kind(schema[name].dataType)
    parts = []
    for operator, expected in condition.operators().items():
        if operator == "exists":
            parts.append(value.isNotNull() if expected else value.isNull())
        else:
            test = _operator(operator, expected, value, kind)
            parts.append(value.isNotNull() & F.coalesce(test, F.lit(False)))
    return reduce(Column.__and__, parts)


def when_expr(when: When, schema: T.StructType) -> Column:
    return reduce(Column.__and__, [condition_expr(c, name, schema) for name, c in when.items()])


def _fit_expr(criterion: FitCriterion, schema: T.StructType) -> Column:
    if criterion.levels is None:
        assert criterion.when is not None and criterion.points is not None
        points = criterion.weight * criterion.points
        return F.when(when_expr(criterion.when, schema), F.lit(points)).otherwise(F.lit(0.0))
    chain: Any = F
    for level in criterion.levels:
        chain = chain.when(when_expr(level.when, schema), F.lit(criterion.weight * level.level))
    result: Column = chain.otherwise(F.lit(0.0))
    return result


def _days_since(micros: Column, as_of_us: int) -> Column:
    """Days from a time to ``as_of`` as the other engines count them (microseconds / day)."""
    return (F.lit(as_of_us) - micros).cast("double") / F.lit(DAY_US)


def _event_mask(criterion: EngagementCriterion, schema: T.StructType, as_of_us: int) -> Column:
    mask = F.col("type") == F.lit(criterion.event)
    if criterion.within_days:
        mask = mask & (_days_since(F.col(AT), as_of_us) < F.lit(float(criterion.within_days)))
    if criterion.where:
        mask = mask & when_expr(criterion.where, schema)
    return mask


def _aggregations(model: ScoringModel, schema: T.StructType, as_of_us: int) -> list[Column]:
    aggs = [F.max(AT).alias(LAST)]
    for criterion in model.criteria():
        if not isinstance(criterion, EngagementCriterion):
            continue
        mask = _event_mask(criterion, schema, as_of_us)
        aggs.append(F.count_if(F.coalesce(mask, F.lit(False))).alias(f"__n_{criterion.id}"))
        if criterion.half_life_days is not None:
            age = _days_since(F.col(AT), as_of_us) / F.lit(criterion.half_life_days)
            kept = F.when(mask, F.pow(F.lit(0.5), age))
            total = F.max(kept) if criterion.once else F.sum(kept)
            aggs.append(F.coalesce(total, F.lit(0.0)).alias(f"__f_{criterion.id}"))
    return aggs


def _engagement_expr(criterion: EngagementCriterion) -> Column:
    count = F.coalesce(F.col(f"__n_{criterion.id}"), F.lit(0)).cast("double")
    limited = count if criterion.limit is None else F.least(count, F.lit(float(criterion.limit)))
    if criterion.level == "count":
        return F.lit(criterion.weight) * limited
    assert criterion.points is not None
    per = F.lit(criterion.weight * criterion.points)
    if criterion.half_life_days is None:
        return per * limited
    return per * F.coalesce(F.col(f"__f_{criterion.id}"), F.lit(0.0))


def _grade_expr(grades: dict[str, float], points: Column, best_first: bool) -> Column:
    ordered, worst = grade_ladder(grades, best_first)
    chain: Any = F
    for name, threshold in ordered:
        chain = chain.when(points >= F.lit(float(threshold)), F.lit(name))
    result: Column = chain.otherwise(F.lit(worst))
    return result


def event_micros(events: DataFrame) -> Column:
    """``occurred_at`` as UTC microseconds: a timestamp, a timestamp without zone (UTC), or
    ISO-8601 text (without an offset it is UTC too, which needs a UTC session)."""
    kind = events.schema["occurred_at"].dataType
    when = F.col("occurred_at")
    if isinstance(kind, T.TimestampType):
        return F.unix_micros(when)
    if isinstance(kind, T.TimestampNTZType):  # its wall time, read as UTC in any session zone
        return F.unix_micros(F.concat(when.cast("string"), F.lit("Z")).cast("timestamp"))
    zone = events.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    if zone != "UTC":
        raise SessionZoneError(
            f"occurred_at is text: set spark.sql.session.timeZone to UTC (it is {zone}) so that"
            " times without an offset are read as UTC, as the other engines read them"
        )
    return F.unix_micros(when.cast("timestamp"))


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)  # exact, unlike timestamp()


def _with_activity(model: ScoringModel, leads: DataFrame, events: DataFrame,
                   as_of_us: int) -> DataFrame:  # fmt: skip
    """The leads with their event counts (and fading sums) and last activity, by a left join."""
    timed = events.withColumn(AT, event_micros(events))
    past = timed.filter(F.col(AT) <= F.lit(as_of_us))
    grouped = past.groupBy(F.col("lead_id").alias(LEAD)).agg(
        *_aggregations(model, events.schema, as_of_us)
    )
    return leads.join(grouped, F.col("id") == F.col(LEAD), "left")


def score_frame(model: ScoringModel, leads: DataFrame, events: DataFrame | None, as_of: datetime,
                carry: tuple[str, ...] = ()) -> DataFrame:  # fmt: skip
    """Score every lead: ``id, score, grade, fit_points, engagement_points, fit_grade,
    engagement_grade`` and ``points.<criterion>`` per criterion (plus decay and floor), then
    the ``carry`` columns of the leads. Rows come in no particular order."""
    as_of_us = _micros(as_of)
    lead_schema = leads.schema
    if events is not None:
        frame = _with_activity(model, leads, events, as_of_us)
    else:
        frame = leads.withColumn(LAST, F.lit(None).cast("long"))
    columns: list[Column] = []
    fit, engagement = F.lit(0.0), F.lit(0.0)
    for criterion in model.criteria():
        if isinstance(criterion, FitCriterion):
            points = _fit_expr(criterion, lead_schema)
            fit = fit + points
        else:
            points = _engagement_expr(criterion) if events is not None else F.lit(0.0)
            engagement = engagement + points
        columns.append(points.alias(f"points.{criterion.id}"))
    if model.decay is not None:
        days = _days_since(F.col(LAST), as_of_us)
        periods = days / F.lit(model.decay.every_days)
        steps = periods - F.pmod(periods, F.lit(1.0))  # floor, exact for periods ≥ 0, as double
        decay = F.coalesce(steps * F.lit(model.decay.points), F.lit(0.0))
        engagement = engagement + decay
        columns.append(decay.alias(f"points.{DECAY_ID}"))
    total = fit + engagement
    if model.floor is not None:
        floor = F.lit(model.floor)
        columns.append(F.when(total < floor, floor - total).otherwise(F.lit(0.0))
                       .alias(f"points.{FLOOR_ID}"))  # fmt: skip
        total = F.when(total < floor, floor).otherwise(total)
    outputs = [
        F.col("id"),
        total.alias("score"),
        _grade_expr(model.grades, total, best_first=False).alias("grade"),
        fit.alias("fit_points"),
        engagement.alias("engagement_points"),
    ]
    if model.matrix is not None:
        outputs.append(_grade_expr(dict(model.matrix.fit), fit, True).alias("fit_grade"))
        outputs.append(
            _grade_expr(dict(model.matrix.engagement), engagement, True).alias("engagement_grade")
        )
    return frame.select(*outputs, *columns, *(column(name) for name in carry))
