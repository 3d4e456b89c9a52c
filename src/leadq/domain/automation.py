"""Automation rules as data: when something happens to a lead, what to do about it.

A rule has a trigger (a lead arrives, its grade or stage changes, its score crosses a
line, a framework verdict is reached, a follow-up task misses its SLA), optional conditions on
the trigger (``when``) and on the lead's profile (``where``), and actions (``do``): assign an
owner, create a follow-up task with a due time in working hours, notify by webhook or e-mail,
add to or remove from a segment, start a nurture track. Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from leadq.domain.documents import DocumentLabels, parse_document, repeated
from leadq.domain.scoring.evaluate import matches
from leadq.domain.scoring.model import PROFILE, Strict, When, check_fields

Name = str  # a team, endpoint, segment or track name, checked against the document
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOUCHES = ("email_replied", "call_logged", "meeting_booked")


class Trigger(StrEnum):
    LEAD_CREATED = "lead_created"
    GRADE_CHANGED = "grade_changed"
    STAGE_CHANGED = "stage_changed"
    SCORE_CROSSED = "score_crossed"
    FRAMEWORK_VERDICT = "framework_verdict"
    SLA_BREACHED = "sla_breached"
    ACCOUNT_GRADE_CHANGED = "account_grade_changed"
    EVENT_RECORDED = "event_recorded"


class Member(Strict):
    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=320)


class Team(Strict):
    members: list[Member] = Field(min_length=1)
    manager: Member | None = None

    @model_validator(mode="after")
    def _unique(self) -> Team:
        if twice := repeated([m.name for m in self.members]):
            raise ValueError(f"members repeated: {twice}")
        return self


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _weekdays() -> list[Day]:
    return ["mon", "tue", "wed", "thu", "fri"]


class WorkingHours(Strict):
    timezone: str = "UTC"
    days: list[Day] = Field(default_factory=_weekdays, min_length=1)
    start: time = time(9, 0)
    end: time = time(17, 0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Endpoint(Strict):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z][A-Z0-9_]*$",
        description="Environment variable holding the HMAC secret",
    )
    format: Literal["json", "slack"] = "json"


class Territory(Strict):
    when: When
    team: Name | None = None
    owner: str | None = None

    @field_validator("when")
    @classmethod
    def _fields(cls, value: When) -> When:
        return check_fields(value, PROFILE)

    @model_validator(mode="after")
    def _target(self) -> Territory:
        if (self.team is None) == (self.owner is None):
            raise ValueError("give a team or an owner")
        return self


class Assign(Strict):
    """Strategies tried in order; the first that finds an owner wins."""

    company_owner: bool = False
    territory: bool = False
    industry: dict[str, Name] = Field(default_factory=dict, description="industry → team")
    round_robin: Name | None = None


class Task(Strict):
    kind: str = Field(default="first_touch", pattern=NAME_PATTERN)
    due_minutes: int = Field(ge=1, le=60 * 24 * 30)
    working_hours: bool = True


class Notify(Strict):
    webhook: Name | None = None
    email: str | None = Field(
        default=None, max_length=320, description="owner, manager, or an address"
    )

    @model_validator(mode="after")
    def _one(self) -> Notify:
        if (self.webhook is None) == (self.email is None):
            raise ValueError("give webhook or email")
        return self


class Segment(Strict):
    add: Name | None = None
    remove: Name | None = None

    @model_validator(mode="after")
    def _one(self) -> Segment:
        if (self.add is None) == (self.remove is None):
            raise ValueError("give add or remove")
        return self


class Action(Strict):
    assign: Assign | None = None
    task: Task | None = None
    notify: Notify | None = None
    segment: Segment | None = None
    nurture: Name | None = None

    @model_validator(mode="after")
    def _one(self) -> Action:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("an action is exactly one of assign, task, notify, segment, nurture")
        return self


class TriggerCondition(Strict):
    """Which happening, narrowed: to/from a grade or stage, a score line, a source."""

    to: list[str] | None = None
    from_: list[str] | None = Field(default=None, alias="from")
    score: float | None = None
    source: list[str] | None = None
    framework: str | None = None
    verdict: str | None = None
    task: str | None = None
    event: list[str] | None = None
    """``event_recorded``: the event types that fire it (``[call_missed]``)."""
    channel: list[str] | None = None


class Rule(Strict):
    id: str = Field(pattern=NAME_PATTERN)
    trigger: Trigger  # not ``on``: YAML 1.1 reads a bare ``on`` as true
    when: TriggerCondition = Field(default_factory=TriggerCondition)
    where: When = Field(default_factory=dict)
    do: list[Action] = Field(min_length=1)

    @field_validator("where")
    @classmethod
    def _fields(cls, value: When) -> When:
        return check_fields(value, PROFILE | {"grade", "stage", "score", "fit_grade"})

    @model_validator(mode="after")
    def _score_line(self) -> Rule:
        if self.trigger is Trigger.SCORE_CROSSED and self.when.score is None:
            raise ValueError("score_crossed needs when.score")
        return self


class TrackEmail(Strict):
    """The e-mail leadq itself sends a lead who starts the track; every address in the body
    becomes a tracked link, and an unsubscribe link and headers are added."""

    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    body: str = Field(min_length=1, max_length=20_000)


class Track(Strict):
    """A nurture track: what the customer's e-mail tool should send, and the first e-mail
    leadq may send itself."""

    content: list[str] = Field(min_length=1)
    webhook: Name | None = Field(default=None, description="Endpoint told when a lead starts it")
    email: TrackEmail | None = None


class Automation(Strict):
    teams: dict[Name, Team] = Field(default_factory=dict)
    territories: list[Territory] = Field(default_factory=list)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    endpoints: dict[Name, Endpoint] = Field(default_factory=dict)
    segments: list[Name] = Field(default_factory=list)
    tracks: dict[Name, Track] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    labels: DocumentLabels = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Automation:
        if twice := repeated([r.id for r in self.rules]):
            raise ValueError(f"rule ids must be unique: {twice}")
        for territory in self.territories:
            self._known("team", territory.team, self.teams)
        for track in self.tracks.values():
            self._known("endpoint", track.webhook, self.endpoints)
        for rule in self.rules:
            for action in rule.do:
                self._check(action)
        return self

    def _check(self, action: Action) -> None:
        if action.assign:
            self._known("team", action.assign.round_robin, self.teams)
            for team in action.assign.industry.values():
                self._known("team", team, self.teams)
        if action.notify:
            self._known("endpoint", action.notify.webhook, self.endpoints)
        if action.segment:
            self._known("segment", action.segment.add or action.segment.remove, self.segments)
        if action.nurture:
            self._known("track", action.nurture, self.tracks)

    @staticmethod
    def _known(what: str, name: str | None, names: Any) -> None:
        if name is not None and name not in names:
            raise ValueError(f"unknown {what} {name!r}")

    def rules_for(self, trigger: Trigger) -> list[Rule]:
        return [rule for rule in self.rules if rule.trigger is trigger]


FilterValue = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
Values = Annotated[list[FilterValue], Field(max_length=100)]  # stored as JSON: no NUL


class SegmentFilter(Strict):
    """A live segment: leads matching every given list (any value within a list)."""

    grade: Values | None = None
    stage: Values | None = None
    fit_grade: Values | None = None
    source: Values | None = None
    industry: Values | None = None
    owner: Values | None = None
    nurture_track: Values | None = None
    account_grade: Values | None = None
    inactive_days: int | None = Field(
        default=None, ge=1, le=3650, description="no activity for at least this many days"
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="the search box: in the name, e-mail, phone or company",
    )
    overdue: bool | None = Field(default=None, description="with a follow-up task past its due")


def parse_automation(text: str, file: str) -> Automation:
    return parse_document(text, file, Automation)


# -- what fires --------------------------------------------------------------------------------


def fires(rule: Rule, happening: dict[str, Any], lead: dict[str, Any]) -> bool:
    """Does the rule fire for this happening (its payload) on this lead (profile and scores)?"""
    wanted = rule.when
    checks = [
        wanted.to is None or happening.get("to") in wanted.to,
        wanted.from_ is None or happening.get("from") in wanted.from_,
        wanted.source is None or lead.get("source") in wanted.source,
        wanted.framework is None or happening.get("framework") == wanted.framework,
        wanted.verdict is None or happening.get("verdict") == wanted.verdict,
        wanted.task is None or happening.get("task") == wanted.task,
        wanted.event is None or happening.get("event") in wanted.event,
        wanted.channel is None or happening.get("channel") in wanted.channel,
        wanted.score is None or _crossed(happening, wanted.score),
    ]
    return all(checks) and matches(rule.where, lead)


def _crossed(happening: dict[str, Any], line: float) -> bool:
    before, after = happening.get("before"), happening.get("score")
    return after is not None and after >= line and (before is None or before < line)


# -- routing -----------------------------------------------------------------------------------


def territory_of(automation: Automation, lead: dict[str, Any]) -> Territory | None:
    return next((t for t in automation.territories if matches(t.when, lead)), None)


def next_member(team: Team, turn: int) -> Member:
    """Round-robin: the ``turn``-th assignment goes to member ``turn mod n``."""
    return team.members[turn % len(team.members)]


# -- working hours -----------------------------------------------------------------------------


def due_at(start: datetime, minutes: int, hours: WorkingHours | None) -> datetime:
    """``minutes`` of working time after ``start`` (plain minutes when ``hours`` is None)."""
    if hours is None:
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(hours.timezone)
    moment = start.astimezone(zone)
    left = timedelta(minutes=minutes)
    while True:
        opens = moment.replace(hour=hours.start.hour, minute=hours.start.minute, second=0,
                               microsecond=0)  # fmt: skip
        closes = moment.replace(hour=hours.end.hour, minute=hours.end.minute, second=0,
                                microsecond=0)  # fmt: skip
        working = WEEKDAYS[moment.weekday()] in hours.days
        if working and moment < closes:
            moment = max(moment, opens)
            if moment + left <= closes:
                return (moment + left).astimezone(start.tzinfo)
            left -= closes - moment
        moment = (opens + timedelta(days=1)).replace(hour=0, minute=0)
