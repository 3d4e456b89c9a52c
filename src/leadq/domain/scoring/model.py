"""The scoring model document: what users write in YAML, validated into these types.

A model has fit criteria (profile conditions), engagement criteria (counted events),
negative criteria (either kind, with negative points), optional inactivity decay and
floor, grade thresholds and an optional fit × engagement matrix.
"""

from __future__ import annotations

import re
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadq.domain.documents import DocumentLabels, parse_document, repeated
from leadq.domain.events import EVENT_TYPE_PATTERN
from leadq.domain.leads import ATTRIBUTE_PREFIX, PROFILE_FIELDS
from leadq.domain.seniority import Seniority

Scalar = str | int | float | bool
NUMERIC_FIELDS = frozenset(
    {"company_size", "annual_revenue", "company_founded_year", "product_users", "age"}
)
CriterionId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(Strict):
    """Operators on one value; several operators must all hold. A missing value satisfies
    nothing but ``exists: false``."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(default=None, min_length=1)
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    range: tuple[float, float] | None = None
    contains: str | None = Field(default=None, min_length=1)
    starts_with: str | None = Field(default=None, min_length=1)
    ends_with: str | None = Field(default=None, min_length=1)
    regex: str | None = Field(default=None, min_length=1)
    exists: bool | None = None
    is_free_mail: bool | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_operator(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one operator")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high]")
        return self

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``seniority: manager`` means eq; ``seniority: [a, b]`` means in."""
        if isinstance(value, list):
            return {"in": value}
        if isinstance(value, Scalar):
            return {"eq": value}
        return value

    def operators(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}

    def describe(self) -> str:
        """``{gte: 10000}`` → ``≥ 10000``: for reasons people read."""
        return " and ".join(f"{_SYMBOLS[op]} {_shown(v)}" for op, v in self.operators().items())


_SYMBOLS = {"eq": "=", "ne": "≠", "in_": "in", "not_in": "not in", "gt": ">", "gte": "≥",
            "lt": "<", "lte": "≤", "range": "in range", "contains": "contains",
            "starts_with": "starts with", "ends_with": "ends with", "regex": "matches",
            "exists": "exists:", "is_free_mail": "free mail:"}  # fmt: skip


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value, ".15g") if isinstance(value, float) else str(value)


When = dict[str, Condition]


FRAMEWORK_PREFIX = "framework."
"""``framework.bant.verdict``, ``framework.bant.completeness``, ``framework.bant.budget``."""


def check_fields(when: When, allowed: frozenset[str] | None) -> When:
    for field in when:
        if allowed is None or field in allowed or field.startswith(ATTRIBUTE_PREFIX):
            continue
        if not field.startswith(FRAMEWORK_PREFIX) or field.count(".") != 2:
            raise ValueError(f"unknown field {field!r}")
    return when


ACCOUNT_FIELDS = ("account_grade", "account_score")
"""What a lead's criteria may look at of its account (``{account_grade: hot}``)."""
PROFILE = frozenset(PROFILE_FIELDS) | frozenset(ACCOUNT_FIELDS)
_SENIORITY = tuple(level.value for level in Seniority)


class Level(Strict):
    level: float = Field(ge=0)
    when: When = Field(min_length=1)

    @field_validator("when")
    @classmethod
    def _fields(cls, value: When) -> When:
        return check_fields(value, PROFILE)


class FitCriterion(Strict):
    """Points for who the lead is: ``weight × level`` of the first matching level, or
    ``weight × points`` when ``when`` holds."""

    id: CriterionId
    label: str | None = None
    weight: float = 1.0
    levels: list[Level] | None = Field(default=None, min_length=1)
    points: float | None = None
    when: When | None = None

    @field_validator("when")
    @classmethod
    def _fields(cls, value: When | None) -> When | None:
        return None if value is None else check_fields(value, PROFILE)

    @model_validator(mode="after")
    def _one_form(self) -> FitCriterion:
        if (self.levels is None) == (self.when is None):
            raise ValueError("give either levels, or points with when")
        if self.when is not None and self.points is None:
            raise ValueError("points are required with when")
        if self.levels is not None and self.points is not None:
            raise ValueError("points and levels exclude each other")
        return self

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """The profile fields its conditions read: nothing else decides its points."""
        whens = [level.when for level in self.levels] if self.levels else [self.when or {}]
        return tuple(dict.fromkeys(name for when in whens for name in when))


class EngagementCriterion(Strict):
    """Points for what the lead did: events of one type matching ``where`` (property
    conditions), within an optional window. ``level: count`` scores ``weight × min(count,
    cap)``; ``points`` scores per occurrence (``once`` counts the first only), optionally
    halved every ``half_life_days`` of age."""

    id: CriterionId
    label: str | None = None
    weight: float = 1.0
    event: str = Field(pattern=EVENT_TYPE_PATTERN)
    where: When = Field(default_factory=dict)
    within_days: float | None = Field(default=None, gt=0)
    level: Literal["count"] | None = None
    points: float | None = None
    cap: int | None = Field(default=None, ge=1)
    once: bool = False
    half_life_days: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> EngagementCriterion:
        if (self.level is None) == (self.points is None):
            raise ValueError("give either level: count, or points per occurrence")
        if self.half_life_days is not None and (self.level is not None or self.cap is not None):
            raise ValueError("half_life_days works with points and without cap")
        return self

    @property
    def limit(self) -> int | None:
        """How many occurrences count at most."""
        return 1 if self.once else self.cap


Criterion = FitCriterion | EngagementCriterion


def _criterion(value: Any) -> Any:
    if isinstance(value, dict) and "event" in value:
        return EngagementCriterion.model_validate(value)
    return FitCriterion.model_validate(value)


class Decay(Strict):
    """Inactivity decay: ``points`` (negative) for every full ``every_days`` since the
    lead's last event. A lead without events has nothing to decay."""

    points: float = Field(lt=0)
    every_days: float = Field(gt=0)


def _descending(thresholds: dict[str, float], what: str) -> dict[str, float]:
    values = list(thresholds.values())
    if any(a <= b for a, b in pairwise(values)):
        raise ValueError(f"{what} thresholds must be given best first, strictly decreasing")
    return thresholds


class Matrix(Strict):
    """Fit grade A–D from fit points and engagement grade 1–4 from engagement points:
    the first grade whose threshold the points reach, else the last grade."""

    fit: dict[str, float]
    engagement: dict[str, float]

    @field_validator("fit", "engagement")
    @classmethod
    def _order(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        names = ["A", "B", "C", "D"] if info.field_name == "fit" else ["1", "2", "3", "4"]
        if list(value) != names:
            raise ValueError(f"grades must be {', '.join(names)}, in that order")
        return _descending(value, "grade")


class AccountEngagement(Strict):
    weight: float = Field(default=1.0, ge=0)
    cap_per_person: float = Field(default=10.0, gt=0)


class AccountCommittee(Strict):
    engaged_from: float = Field(default=1.0, gt=0)
    points: dict[str, float] = Field(default_factory=dict)

    @field_validator("points")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(_SENIORITY))
        if unknown:
            raise ValueError(f"unknown seniority {unknown[0]!r}: use {', '.join(_SENIORITY)}")
        if any(points < 0 for points in value.values()):
            raise ValueError("committee points must not be negative")
        return value


class AccountModel(Strict):
    """The ``account`` section of a scoring model: fit criteria on the account's profile (each
    field the commonest value among its leads), people's engagement capped per person, points per
    engaged seniority of the buying committee, and the account's grades (``domain.scoring.accounts``
    scores it)."""

    fit: list[FitCriterion] = Field(default_factory=list)
    engagement: AccountEngagement = Field(default_factory=AccountEngagement)
    committee: AccountCommittee = Field(default_factory=AccountCommittee)
    grades: dict[str, float] = Field(min_length=2)

    @field_validator("grades")
    @classmethod
    def _rising(cls, value: dict[str, float]) -> dict[str, float]:
        if any(a >= b for a, b in pairwise(value.values())):
            raise ValueError("grade thresholds must rise strictly, lowest grade first")
        return value


class ScoringModel(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")
    version: int | None = Field(default=None, ge=1)
    description: str | None = None
    fit: list[FitCriterion] = Field(default_factory=list)
    engagement: list[EngagementCriterion] = Field(default_factory=list)
    negative: list[Annotated[Criterion, Field()]] = Field(default_factory=list)
    decay: Decay | None = None
    floor: float | None = None
    grades: dict[str, float] = Field(min_length=2)
    matrix: Matrix | None = None
    account: AccountModel | None = None
    labels: DocumentLabels = Field(default_factory=dict)

    @field_validator("negative", mode="before")
    @classmethod
    def _negative_kinds(cls, value: Any) -> Any:
        return [_criterion(item) for item in value] if isinstance(value, list) else value

    @field_validator("fit", "engagement")
    @classmethod
    def _not_negative(cls, value: list[Criterion]) -> list[Criterion]:
        for criterion in value:
            _sign(criterion, positive=True)
        return value

    @field_validator("negative")
    @classmethod
    def _negative(cls, value: list[Criterion]) -> list[Criterion]:
        for criterion in value:
            _sign(criterion, positive=False)
        return value

    @field_validator("grades")
    @classmethod
    def _grades(cls, value: dict[str, float]) -> dict[str, float]:
        values = list(value.values())
        if any(a >= b for a, b in pairwise(values)):
            raise ValueError("grade thresholds must rise strictly, lowest grade first")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> ScoringModel:
        ids = [c.id for c in self.criteria()]
        if twice := repeated(ids):
            raise ValueError(f"criterion ids must be unique: {twice}")
        if not ids:
            raise ValueError("a model needs at least one criterion")
        return self

    def criteria(self) -> list[Criterion]:
        return [*self.fit, *self.engagement, *self.negative]

    def profile_fields(self) -> set[str]:
        """The lead fields that fit criteria look at."""
        whens = [c.when for c in self.criteria() if isinstance(c, FitCriterion) and c.when]
        whens += [lv.when for c in self.criteria() if isinstance(c, FitCriterion)
                  for lv in c.levels or []]  # fmt: skip
        return {name for when in whens for name in when}

    def uses_frameworks(self) -> bool:
        """Whether a fit criterion looks at framework answers or verdicts."""
        return any(name.startswith(FRAMEWORK_PREFIX) for name in self.profile_fields())

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version or 0}"

    def content(self) -> dict[str, Any]:
        """What the model says, whatever its version or the spacing of its description: two
        documents with equal content score every lead alike."""
        found = self.model_dump(exclude={"version"})
        found["description"] = (self.description or "").strip() or None
        return found


def _sign(criterion: Criterion, positive: bool) -> None:
    if criterion.weight < 0:
        raise ValueError(f"{criterion.id}: weight must not be negative")
    values = [criterion.points] if criterion.points is not None else []
    if isinstance(criterion, FitCriterion) and criterion.levels:
        values = [1.0]  # levels are ≥ 0 by type
    for value in values:
        if positive and value < 0:
            raise ValueError(f"{criterion.id}: negative points belong under 'negative'")
        if not positive and value > 0:
            raise ValueError(f"{criterion.id}: points under 'negative' must be ≤ 0")
    if not positive and not values:
        raise ValueError(f"{criterion.id}: a negative criterion gives points (≤ 0)")


def parse_model(text: str, file: str) -> ScoringModel:
    """A model from YAML text; refused with ``DocumentError`` naming file, path and reason."""
    return parse_document(text, file, ScoringModel)
