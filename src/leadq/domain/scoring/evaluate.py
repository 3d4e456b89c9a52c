"""The per-lead evaluator: a pure function from (model, lead, events, as_of) to a score card
whose breakdown explains every point. The vectorised engine must agree with it exactly."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from leadq.domain.free_mail import is_free_mail
from leadq.domain.leads import ATTRIBUTE_PREFIX
from leadq.domain.scoring.model import (
    FRAMEWORK_PREFIX,
    Condition,
    Criterion,
    EngagementCriterion,
    FitCriterion,
    Matrix,
    ScoringModel,
    When,
)

DAY = timedelta(days=1)
DECAY_ID = "inactivity_decay"
FLOOR_ID = "floor"


@dataclass(frozen=True, slots=True)
class EventFact:
    """What the evaluator needs of an event."""

    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    criterion: str
    label: str
    value: Any
    points: float


@dataclass(frozen=True)
class ScoreCard:
    model: str
    as_of: datetime
    score: float
    grade: str
    fit_points: float
    engagement_points: float
    fit_grade: str | None
    engagement_grade: str | None
    breakdown: list[Line]


# -- conditions --------------------------------------------------------------------------------


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


NUMBER_TEXT = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity))"
"""Text every engine reads as a number (each anchors it in its own regex dialect): plain
decimals, exponents and infinities; no spaces, separators or NaN."""
_NUMBER_TEXT = re.compile(NUMBER_TEXT)


def _number(value: Any) -> float | None:
    """The value as a number, or None: NaN is not a number in any engine."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return float(value)
    return None


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(expected, int | float):
        number = _number(value)
        return number is not None and number == expected
    return isinstance(value, str) and value == expected


def holds(condition: Condition, value: Any) -> bool:
    """Whether ``value`` meets every operator of ``condition``."""
    for operator, expected in condition.operators().items():
        if operator == "exists":
            if (value is not None) != expected:
                return False
        elif value is None or not _operator(operator, expected, value):
            return False
    return True


def _operator(operator: str, expected: Any, value: Any) -> bool:
    if operator == "eq":
        return _equal(value, expected)
    if operator == "ne":
        return not _equal(value, expected)
    if operator == "in_":
        return any(_equal(value, item) for item in expected)
    if operator == "not_in":
        return not any(_equal(value, item) for item in expected)
    if operator in ("gt", "gte", "lt", "lte", "range"):
        number = _number(value)
        return number is not None and _compare(operator, expected, number)
    if not isinstance(value, str):
        return False
    text, lower = str(expected), str(expected).lower()
    if operator == "contains":
        return lower in value.lower()
    if operator == "starts_with":
        return value.lower().startswith(lower)
    if operator == "ends_with":
        return value.lower().endswith(lower)
    if operator == "regex":
        return _regex(text).search(value) is not None
    if operator == "is_free_mail":
        return is_free_mail(value) is bool(expected)
    raise AssertionError(operator)


def _compare(operator: str, expected: Any, number: float) -> bool:
    if operator == "range":
        low, high = float(expected[0]), float(expected[1])
        return low <= number <= high
    bound = float(expected)
    if operator == "gt":
        return number > bound
    if operator == "gte":
        return number >= bound
    if operator == "lt":
        return number < bound
    return number <= bound


def profile_value(lead: Mapping[str, Any], name: str) -> Any:
    if name.startswith(ATTRIBUTE_PREFIX):
        return (lead.get("attributes") or {}).get(name.removeprefix(ATTRIBUTE_PREFIX))
    if name.startswith(FRAMEWORK_PREFIX):
        framework, _, question = name.removeprefix(FRAMEWORK_PREFIX).partition(".")
        return ((lead.get("framework") or {}).get(framework) or {}).get(question)
    return lead.get(name)


def event_value(event: EventFact, name: str) -> Any:
    return event.channel if name == "channel" else event.properties.get(name)


def matches(when: When, lead: Mapping[str, Any]) -> bool:
    return all(holds(condition, profile_value(lead, name)) for name, condition in when.items())


# -- criteria ----------------------------------------------------------------------------------


def fit_points(criterion: FitCriterion, lead: Mapping[str, Any]) -> tuple[Any, float]:
    """(matched value, points) of a fit criterion."""
    if criterion.levels is not None:
        for level in criterion.levels:
            if matches(level.when, lead):
                return _shown(level.when, lead), criterion.weight * level.level
        return None, 0.0
    assert criterion.when is not None and criterion.points is not None
    if matches(criterion.when, lead):
        return _shown(criterion.when, lead), criterion.weight * criterion.points
    return None, 0.0


class ShownValues:
    """The value each fit criterion's line shows, matched once per distinct values of the
    fields it reads: a chunk's leads share their sizes, industries and countries. Only text,
    whole numbers and blanks are remembered (to a dict ``True`` is ``1``, to a condition not)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def of(self, criterion: FitCriterion, lead: Mapping[str, Any]) -> Any:
        values = tuple(profile_value(lead, name) for name in criterion.reads)
        if not all(type(value) in _REMEMBERED for value in values):
            return fit_points(criterion, lead)[0]
        key = (criterion.id, values)
        if key not in self._known:
            self._known[key] = fit_points(criterion, lead)[0]
        shown = self._known[key]
        return dict(shown) if isinstance(shown, dict) else shown


_REMEMBERED = (str, int, type(None))


def _shown(when: When, lead: Mapping[str, Any]) -> Any:
    values = {name: profile_value(lead, name) for name in when}
    return next(iter(values.values())) if len(values) == 1 else values


class EventFilter(Protocol):
    """Which events count: one type, matching ``where``, within an optional window."""

    @property
    def event(self) -> str: ...
    @property
    def where(self) -> When: ...
    @property
    def within_days(self) -> float | None: ...


def occurrences(
    criterion: EventFilter, events: Sequence[EventFact], as_of: datetime
) -> list[EventFact]:
    since = as_of - criterion.within_days * DAY if criterion.within_days else None
    return [
        e
        for e in events
        if e.type == criterion.event
        and e.occurred_at <= as_of
        and (since is None or e.occurred_at > since)
        and all(holds(c, event_value(e, name)) for name, c in criterion.where.items())
    ]


def engagement_points(
    criterion: EngagementCriterion, events: Sequence[EventFact], as_of: datetime
) -> tuple[int, float]:
    """(occurrences that count, points) of an engagement criterion: matching events, at most
    ``cap`` of them (one with ``once``)."""
    found = occurrences(criterion, events, as_of)
    counted = min(len(found), criterion.limit or len(found))
    if criterion.level == "count":
        return counted, criterion.weight * counted
    assert criterion.points is not None
    per = criterion.weight * criterion.points
    if criterion.half_life_days is None:
        return counted, per * counted
    factors = [0.5 ** (((as_of - e.occurred_at) / DAY) / criterion.half_life_days) for e in found]
    if not factors:
        return 0, 0.0
    return counted, per * (max(factors) if criterion.once else math.fsum(factors))


def inactivity_days(events: Sequence[EventFact], as_of: datetime) -> float | None:
    past = [e.occurred_at for e in events if e.occurred_at <= as_of]
    return (as_of - max(past)) / DAY if past else None


def grade_ladder(thresholds: Mapping[str, float], best_first: bool,
                 ) -> tuple[list[tuple[str, float]], str]:  # fmt: skip
    """The grades in the order every engine tests them, best first, and the grade of points
    below them all (the worst). Model grades are given lowest first, matrix grades best first."""
    listed = list(thresholds.items())
    ordered = listed if best_first else listed[::-1]
    return ordered, ordered[-1][0]


def _reached(ladder: tuple[list[tuple[str, float]], str], points: float) -> str:
    ordered, worst = ladder
    return next((grade for grade, threshold in ordered if points >= threshold), worst)


def grade_of(grades: Mapping[str, float], score: float) -> str:
    """The highest grade whose threshold the score reaches; below all → the lowest."""
    return _reached(grade_ladder(grades, best_first=False), score)


def matrix_grade(thresholds: Mapping[str, float], points: float) -> str:
    """Best first: the first grade whose threshold the points reach, else the last."""
    return _reached(grade_ladder(thresholds, best_first=True), points)


# -- the score ---------------------------------------------------------------------------------


def criterion_line(criterion: Criterion, value: Any, points: float) -> Line:
    return Line(criterion.id, criterion.label or criterion.id.replace("_", " "), value, points)


def decay_line(days: float | None, points: float) -> Line:
    return Line(DECAY_ID, "inactivity decay", days, points)


def floor_line(floor: float, points: float) -> Line:
    return Line(FLOOR_ID, "score floor", floor, points)


def settles(criterion: Criterion, line: Line) -> bool:
    """Whether a criterion's line can never change again: without a window or half-life its
    count only grows as events are added and time passes, so once the count reaches the
    criterion's limit its points are final."""
    return (
        isinstance(criterion, EngagementCriterion)
        and criterion.within_days is None
        and criterion.half_life_days is None
        and criterion.limit is not None
        and isinstance(line.value, int)
        and line.value >= criterion.limit
    )


def evaluate(
    model: ScoringModel,
    lead: Mapping[str, Any],
    events: Sequence[EventFact],
    as_of: datetime,
    settled: Mapping[str, Line] | None = None,
) -> ScoreCard:
    """Score one lead as of a moment; events after ``as_of`` do not exist yet.

    ``settled`` may carry lines of criteria that ``settles`` from an earlier evaluation (same
    model, earlier or equal ``as_of``, no event removed since): they are reused as they are,
    so their events need not be loaded again."""
    lines: list[Line] = []
    fit = engagement = 0.0
    for criterion in model.criteria():
        known = settled.get(criterion.id) if settled else None
        if known is not None:
            engagement += known.points
            lines.append(known)
            continue
        if isinstance(criterion, FitCriterion):
            value, points = fit_points(criterion, lead)
            fit += points
        else:
            value, points = engagement_points(criterion, events, as_of)
            engagement += points
        lines.append(criterion_line(criterion, value, points))
    if model.decay is not None:
        days = inactivity_days(events, as_of)
        periods = math.floor(days / model.decay.every_days) if days is not None else 0
        decay = model.decay.points * periods
        engagement += decay
        lines.append(decay_line(days, decay))
    total = fit + engagement
    if model.floor is not None and total < model.floor:
        lines.append(floor_line(model.floor, model.floor - total))
        total = model.floor
    matrix: Matrix | None = model.matrix
    return ScoreCard(
        model=model.ref,
        as_of=as_of,
        score=total,
        grade=grade_of(model.grades, total),
        fit_points=fit,
        engagement_points=engagement,
        fit_grade=matrix_grade(matrix.fit, fit) if matrix else None,
        engagement_grade=matrix_grade(matrix.engagement, engagement) if matrix else None,
        breakdown=lines,
    )
