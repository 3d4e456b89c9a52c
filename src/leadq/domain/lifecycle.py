"""The lead lifecycle: stages, the moves allowed between them, and the rules that move leads
automatically when conditions accumulate. Pure: the caller passes the lead's situation and
the moment; ``advance`` answers which moves (and flags) are due and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from leadq.domain.documents import DocumentLabels, parse_document, repeated
from leadq.domain.events import EVENT_TYPE_PATTERN
from leadq.domain.frameworks import Verdict
from leadq.domain.scoring.evaluate import EventFact, holds, matches, occurrences
from leadq.domain.scoring.model import PROFILE, Condition, Strict, When, check_fields

DAY = timedelta(days=1)
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Reason = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")]


class Stage(StrEnum):
    iql = "iql"
    mql = "mql"
    sal = "sal"
    sql = "sql"
    opportunity = "opportunity"
    customer = "customer"
    nurture = "nurture"
    unqualified = "unqualified"
    disqualified = "disqualified"
    recycled = "recycled"


ACCEPTED = frozenset({Stage.sal, Stage.sql, Stage.opportunity, Stage.customer})
"""Stages a lead holds only while sales has accepted it; leaving them ends the acceptance."""
WITH_REASON = (Stage.nurture, Stage.unqualified, Stage.disqualified)
"""Stages people move a lead to only with a reason from the configured list (automatic rules
give their own reason, stage pins the override's)."""


class EventsCondition(Strict):
    """Events of one type (matching ``where``) in the last ``within_days``: at least ``count``
    of them, or on at least ``distinct_days`` different days."""

    event: str = Field(pattern=EVENT_TYPE_PATTERN)
    where: When = Field(default_factory=dict)
    count: int | None = Field(default=None, ge=1)
    distinct_days: int | None = Field(default=None, ge=1)
    within_days: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_measure(self) -> EventsCondition:
        if self.count is not None and self.distinct_days is not None:
            raise ValueError("give count or distinct_days, not both")
        return self


class FrameworkCondition(Strict):
    """A framework verdict; without ``name``, any framework with that verdict."""

    name: str | None = None
    verdict: Verdict = Verdict.qualified


class RuleCondition(Strict):
    """Everything given must hold; ``any_of`` holds when one of its alternatives does."""

    score: Condition | None = None
    grade: list[str] | None = Field(default=None, min_length=1)
    grade_at_least: str | None = None
    grade_at_most: str | None = None
    events: EventsCondition | None = None
    framework: FrameworkCondition | None = None
    accepted: bool | None = None
    pql: bool | None = None
    days_in_stage: float | None = Field(default=None, ge=0)
    new_activity: bool | None = None
    profile: When | None = None
    any_of: list[RuleCondition] | None = Field(default=None, min_length=2)

    @field_validator("profile")
    @classmethod
    def _fields(cls, value: When | None) -> When | None:
        return None if value is None else check_fields(value, PROFILE)

    @model_validator(mode="after")
    def _something(self) -> RuleCondition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one test")
        return self

    def parts(self) -> list[RuleCondition]:
        return [self, *(p for alt in self.any_of or [] for p in alt.parts())]


class StageRule(Strict):
    id: RuleId
    from_: list[Stage] = Field(alias="from", min_length=1)
    to: Stage
    when: RuleCondition


class FlagRule(Strict):
    id: RuleId
    flag: Literal["pql"]
    when: RuleCondition


class Lifecycle(Strict):
    """The lifecycle document: allowed moves, reasons, and automatic rules."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")
    description: str | None = None
    transitions: dict[Stage, list[Stage]]
    reasons: dict[Literal["nurture", "unqualified", "disqualified"], list[Reason]]
    rejection: dict[Reason, Stage] = Field(min_length=1)
    """Why sales rejects a lead → the stage the lead goes to."""
    rules: list[StageRule] = Field(default_factory=list)
    flags: list[FlagRule] = Field(default_factory=list)
    labels: DocumentLabels = Field(default_factory=dict)

    @field_validator("reasons")
    @classmethod
    def _every_reasoned_stage(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for stage in WITH_REASON:
            if not value.get(stage.value):
                raise ValueError(f"give the reasons a lead may be {stage.value} for")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Lifecycle:
        if twice := repeated([r.id for r in self.all_rules()]):
            raise ValueError(f"rule ids must be unique: {twice}")
        for rule in self.rules:
            if rule.to is Stage.sal:
                raise ValueError(f"rule {rule.id}: sal is entered only when sales accepts a lead")
            for start in rule.from_:
                if self.refusal(start, rule.to):
                    raise ValueError(f"rule {rule.id}: transitions do not allow {start} → "
                                     f"{rule.to}")  # fmt: skip
        for reason, stage in self.rejection.items():
            if self.refusal(Stage.mql, stage):
                raise ValueError(f"rejection {reason}: transitions do not allow mql → {stage}")
            if stage in WITH_REASON and reason not in self.reasons[stage.value]:  # type: ignore[index]
                raise ValueError(f"rejection {reason}: not among the reasons for {stage}")
        return self

    def refusal(self, start: Stage, to: Stage) -> str | None:
        """Why a move is not allowed, or ``None`` when it is."""
        allowed = self.transitions.get(start, [])
        if to in allowed:
            return None
        options = ", ".join(allowed) if allowed else "none"
        return f"{start} → {to} is not allowed (from {start}: {options})"

    def reason_refusal(self, to: Stage, reason: str | None) -> str | None:
        if to not in WITH_REASON:
            return None
        listed = self.reasons[to.value]  # type: ignore[index]
        if reason in listed:
            return None
        return f"{to} needs a reason, one of: {', '.join(listed)}"

    def conditions(self) -> list[RuleCondition]:
        return [part for rule in self.all_rules() for part in rule.when.parts()]

    def all_rules(self) -> list[StageRule | FlagRule]:
        return [*self.rules, *self.flags]

    def event_types(self, flags: bool = True) -> frozenset[str]:
        """Event types the rules count (those of the flag rules only when ``flags``)."""
        return self._flag_and_stage_event_types if flags else self._stage_event_types

    @cached_property
    def _stage_event_types(self) -> frozenset[str]:
        return _counted(self.rules)

    @cached_property
    def _flag_and_stage_event_types(self) -> frozenset[str]:
        return _counted(self.all_rules())

    @cached_property
    def framework_stages(self) -> frozenset[Stage]:
        """Stages whose rules look at framework verdicts."""
        return frozenset(
            stage
            for rule in self.rules
            if any(p.framework is not None for p in rule.when.parts())
            for stage in rule.from_
        )


def _counted(rules: Sequence[StageRule | FlagRule]) -> frozenset[str]:
    parts = (p for rule in rules for p in rule.when.parts())
    return frozenset(p.events.event for p in parts if p.events is not None)


def parse_lifecycle(text: str, file: str) -> Lifecycle:
    return parse_document(text, file, Lifecycle)


# -- automatic moves ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What the rules see of a lead at a moment."""

    stage: Stage
    stage_changed_at: datetime
    pql: bool = False
    accepted: bool = False
    score: float | None = None
    grade: str | None = None
    grades: Sequence[str] = ()
    """The scoring model's grades, lowest first."""
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)
    events: Sequence[EventFact] = ()
    last_activity_at: datetime | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    stage_pinned: bool = False


@dataclass(frozen=True)
class Step:
    """A move (``to``) or a flag set by a rule, with the reason people read."""

    rule: str
    reason: str
    to: Stage | None = None
    flag: str | None = None


def advance(lifecycle: Lifecycle, situation: Situation, as_of: datetime) -> list[Step]:
    """The flags and moves due now, in order. A pinned stage stays; no stage is entered twice
    in one pass, so contradicting rules cannot loop."""
    steps: list[Step] = []
    for flag in lifecycle.flags:
        if not situation.pql and (why := explain(flag.when, situation, as_of)) is not None:
            steps.append(Step(flag.id, why, flag=flag.flag))
            situation = replace(situation, pql=True)
    visited = {situation.stage}
    while not situation.stage_pinned:
        step = _next_move(lifecycle, situation, as_of)
        if step is None or step.to is None or step.to in visited:
            break
        steps.append(step)
        visited.add(step.to)
        situation = replace(situation, stage=step.to, stage_changed_at=as_of,
                            accepted=situation.accepted and step.to in ACCEPTED)  # fmt: skip
    return steps


def _next_move(lifecycle: Lifecycle, situation: Situation, as_of: datetime) -> Step | None:
    for rule in lifecycle.rules:
        if situation.stage in rule.from_:
            why = explain(rule.when, situation, as_of)
            if why is not None:
                return Step(rule.id, why, to=rule.to)
    return None


def explain(condition: RuleCondition, s: Situation, as_of: datetime) -> str | None:
    """Why the condition holds, in words; ``None`` when it does not."""
    reasons: list[str] = []
    for name, check in _CHECKS.items():
        if getattr(condition, name) is not None:
            why = check(condition, s, as_of)
            if why is None:
                return None
            reasons.append(why)
    if condition.any_of is not None:
        found = (explain(alt, s, as_of) for alt in condition.any_of)
        why = next((w for w in found if w is not None), None)
        if why is None:
            return None
        reasons.append(why)
    return " and ".join(reasons)


def _rank(s: Situation, grade: str | None) -> int | None:
    grades = list(s.grades)
    return grades.index(grade) if grade in grades else None


def _score(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    assert c.score is not None
    ok = s.score is not None and holds(c.score, s.score)
    return f"score {s.score:g} {c.score.describe()}" if ok else None


def _grade(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    assert c.grade is not None
    return f"grade {s.grade}" if s.grade in c.grade else None


def _grade_at_least(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    have, need = _rank(s, s.grade), _rank(s, c.grade_at_least)
    ok = have is not None and need is not None and have >= need
    return f"grade {s.grade} ≥ {c.grade_at_least}" if ok else None


def _grade_at_most(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    have, need = _rank(s, s.grade), _rank(s, c.grade_at_most)
    ok = have is not None and need is not None and have <= need
    return f"grade {s.grade} ≤ {c.grade_at_most}" if ok else None


def _events(c: RuleCondition, s: Situation, as_of: datetime) -> str | None:
    rule = c.events
    assert rule is not None
    found = occurrences(rule, s.events, as_of)
    window = f" in {rule.within_days:g} days" if rule.within_days else ""
    if rule.distinct_days is not None:
        days = len({e.occurred_at.date() for e in found})
        ok = days >= rule.distinct_days
        return f"{rule.event} on {days} days{window}" if ok else None
    needed = rule.count or 1
    return f"{len(found)} × {rule.event}{window}" if len(found) >= needed else None


def _framework(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    rule = c.framework
    assert rule is not None
    names = [rule.name] if rule.name else sorted(s.verdicts)
    found = [n for n in names if s.verdicts.get(n) == rule.verdict]
    return f"{found[0]}: {rule.verdict.value.replace('_', ' ')}" if found else None


def _flag(value: bool, expected: bool | None, yes: str, no: str) -> str | None:
    return (yes if value else no) if value == expected else None


def _accepted(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    return _flag(s.accepted, c.accepted, "accepted by sales", "not accepted by sales")


def _pql(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    return _flag(s.pql, c.pql, "product-qualified", "not product-qualified")


def _days_in_stage(c: RuleCondition, s: Situation, as_of: datetime) -> str | None:
    assert c.days_in_stage is not None
    days = (as_of - s.stage_changed_at) / DAY
    return f"{days:.0f} days in {s.stage}" if days >= c.days_in_stage else None


def _new_activity(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    active = s.last_activity_at is not None and s.last_activity_at > s.stage_changed_at
    return _flag(active, c.new_activity, f"new activity since entering {s.stage}",
                 f"no activity since entering {s.stage}")  # fmt: skip


def _profile(c: RuleCondition, s: Situation, _: datetime) -> str | None:
    assert c.profile is not None
    if not matches(c.profile, s.profile):
        return None
    return "profile: " + ", ".join(f"{n} {cond.describe()}" for n, cond in c.profile.items())


_CHECKS = {
    "score": _score, "grade": _grade, "grade_at_least": _grade_at_least,
    "grade_at_most": _grade_at_most, "events": _events, "framework": _framework,
    "accepted": _accepted, "pql": _pql, "days_in_stage": _days_in_stage,
    "new_activity": _new_activity, "profile": _profile,
}  # fmt: skip
