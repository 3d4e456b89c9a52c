"""People in the loop: stage moves and history, sales acceptance and rejection, framework
answers and verdicts, manual overrides, the lead's audit trail; the documents in force."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from leadq.api.deps import Actor, Db, Now
from leadq.api.routers import committed
from leadq.api.schemas import AuditOut, ErrorOut, LeadOut
from leadq.domain.boundary import Moment
from leadq.http.params import LeadPath, OverridePath
from leadq.services.intake import lookup
from leadq.services.qualification import decisions as service
from leadq.services.qualification.decisions import FrameworkCard, OverrideRequest
from leadq.services.qualification.lifecycle import stage_history
from leadq.services.qualification.rules import Rules
from leadq.store.tables import ManualOverride

router = APIRouter(tags=["qualification"], responses={
    401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    422: {"model": ErrorOut}})  # fmt: skip


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("may not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoNul]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), NoNul]
Person = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    NoNul,
    Field(description="The person acting through this API key (a rep, a manager)"),
]
FrameworkName = Annotated[str, Path(max_length=40, description="A framework's name, e.g. bant")]


async def rules(request: Request) -> Rules:
    value: Rules = request.app.state.rules
    return value


Configured = Annotated[Rules, Depends(rules)]


def acting(actor: str, by: str | None) -> str:
    """``jan@acme via api:crm``: the person and the key they used, within the column's size."""
    return (f"{by} via {actor}" if by else actor)[:100]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Person | None = None


class StageMove(Input):
    stage: Annotated[str, Field(max_length=20, description="The stage to move to")]
    reason: Reason | None = Field(default=None, description="Required for unqualified and "
                                  "disqualified: one of the lifecycle's reasons")  # fmt: skip


class Acceptance(Input):
    comment: Comment | None = None
    owner: Person | None = Field(default=None, description="Assign the lead to this rep")


class Rejection(Input):
    reason: Annotated[str, Field(max_length=60, description="One of the rejection reasons")]
    comment: Comment | None = None


class AnswersIn(Input):
    answers: dict[str, Any] = Field(
        max_length=100, description="question id → answer (null clears it)"
    )


class OverrideIn(Input):
    kind: Literal["points", "grade", "stage"]
    reason: Reason = Field(description="Why; required")
    points: float | None = Field(default=None, description="kind points: added to the score")
    grade: Annotated[str, Field(max_length=20)] | None = None
    stage: Annotated[str, Field(max_length=20)] | None = None
    expires_at: Moment | None = None


class StageChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_stage: str | None
    to_stage: str
    actor: str
    reason: str | None
    at: datetime


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    decision: str
    reason: str | None
    comment: str | None
    actor: str
    at: datetime
    stage: str
    score: float | None
    grade: str | None
    model: str | None


class AnswerOut(BaseModel):
    question: str
    label: str
    value: Any
    actor: str | None
    at: datetime | None


class FailingOut(BaseModel):
    question: str
    label: str
    answer: Any
    reason: str


class VerdictOut(BaseModel):
    framework: str
    label: str
    verdict: str
    completeness: float
    failing: list[FailingOut]
    missing: list[str]
    answers: list[AnswerOut]

    @classmethod
    def of(cls, card: FrameworkCard) -> VerdictOut:
        answers = [
            AnswerOut(question=q.id, label=q.label, value=row.value if row else None,
                      actor=row.actor if row else None, at=row.at if row else None)
            for q in card.framework.questions
            for row in [card.answers.get(q.id)]
        ]  # fmt: skip
        a = card.assessment
        return cls(framework=a.framework, label=card.framework.label, verdict=a.verdict.value,
                   completeness=a.completeness, missing=a.missing, answers=answers,
                   failing=[FailingOut(**vars(f)) for f in a.failing])  # fmt: skip


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    kind: str
    points: float | None
    grade: str | None
    stage: str | None
    reason: str
    actor: str
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    removed_by: str | None
    removal_reason: str | None
    active: bool = False

    @classmethod
    def of(cls, row: ManualOverride, now: datetime) -> OverrideOut:
        active = row.removed_at is None and (row.expires_at is None or row.expires_at > now)
        return cls.model_validate(row).model_copy(update={"active": active})


LEAD = "/leads/{lead_id}"


@router.post(f"{LEAD}/stage", response_model=LeadOut)
def move_stage(lead_id: LeadPath, body: StageMove, db: Db, actor: Actor, now: Now,
               config: Configured) -> LeadOut:  # fmt: skip
    """Move the lead to another stage; moves the lifecycle does not allow are refused (409)."""
    who = acting(actor, body.by)
    return db.run(lambda s: committed(s,
        service.move_stage(s, config, lead_id, body.stage, body.reason, who, now)))  # fmt: skip


@router.get(f"{LEAD}/stages", response_model=list[StageChangeOut])
def stages(lead_id: LeadPath, db: Db, _: Actor) -> list[StageChangeOut]:
    """The stage history: every move with actor, time and reason, oldest first."""
    with db.reading() as session:
        lookup.get_lead(session, lead_id)
        return [StageChangeOut.model_validate(x) for x in stage_history(session, lead_id)]


@router.post(f"{LEAD}/accept", response_model=LeadOut)
def accept(lead_id: LeadPath, body: Acceptance, db: Db, actor: Actor, now: Now,
           config: Configured) -> LeadOut:  # fmt: skip
    """Sales accepts a MQL: it becomes a SAL."""
    who = acting(actor, body.by)
    return db.run(lambda s: committed(s,
        service.accept(s, config, lead_id, who, now, body.comment, body.owner)))  # fmt: skip


@router.post(f"{LEAD}/reject", response_model=LeadOut)
def reject(lead_id: LeadPath, body: Rejection, db: Db, actor: Actor, now: Now,
           config: Configured) -> LeadOut:  # fmt: skip
    """Sales rejects a MQL or SAL with a reason; the feedback is kept for analytics."""
    who = acting(actor, body.by)
    return db.run(lambda s: committed(s,
        service.reject(s, config, lead_id, body.reason, body.comment, who, now)))  # fmt: skip


@router.get(f"{LEAD}/feedback", response_model=list[FeedbackOut])
def feedback(lead_id: LeadPath, db: Db, _: Actor) -> list[FeedbackOut]:
    with db.reading() as session:
        return [FeedbackOut.model_validate(x) for x in service.feedback(session, lead_id)]


@router.get(f"{LEAD}/frameworks", response_model=list[VerdictOut])
def verdicts(lead_id: LeadPath, db: Db, _: Actor, config: Configured) -> list[VerdictOut]:
    """Every framework's answers, completeness and verdict for the lead."""
    with db.reading() as session:
        return [VerdictOut.of(c) for c in service.framework_cards(session, config, lead_id)]


@router.get(f"{LEAD}/frameworks/{{framework}}", response_model=VerdictOut)
def verdict(lead_id: LeadPath, framework: FrameworkName, db: Db, _: Actor,
            config: Configured) -> VerdictOut:  # fmt: skip
    service.framework_of(config, framework)
    with db.reading() as session:
        cards = service.framework_cards(session, config, lead_id)
        return VerdictOut.of(next(c for c in cards if c.framework.name == framework))


@router.post(f"{LEAD}/frameworks/{{framework}}/answers", response_model=VerdictOut)
def answer(lead_id: LeadPath, framework: FrameworkName, body: AnswersIn, db: Db, actor: Actor,
           now: Now, config: Configured) -> VerdictOut:  # fmt: skip
    """Record answers (only the questions sent change); returns the new verdict."""
    who = acting(actor, body.by)
    return db.run(lambda s: VerdictOut.of(
        service.answer(s, config, lead_id, framework, body.answers, who, now)))  # fmt: skip


@router.post(f"{LEAD}/overrides", response_model=OverrideOut, status_code=201)
def add_override(lead_id: LeadPath, body: OverrideIn, db: Db, actor: Actor, now: Now,
                 config: Configured) -> OverrideOut:  # fmt: skip
    """Adjust the score, pin the grade or pin the stage, with a reason and an optional
    expiry; the breakdown shows it as its own line."""
    request = OverrideRequest(body.kind, body.reason, body.points, body.grade, body.stage,
                              body.expires_at)  # fmt: skip
    who = acting(actor, body.by)
    return db.run(lambda s: OverrideOut.of(
        service.add_override(s, config, lead_id, request, who, now), now))  # fmt: skip


@router.get(f"{LEAD}/overrides", response_model=list[OverrideOut])
def overrides(lead_id: LeadPath, db: Db, _: Actor, now: Now) -> list[OverrideOut]:
    with db.reading() as session:
        return [OverrideOut.of(x, now) for x in service.list_overrides(session, lead_id)]


@router.delete(f"{LEAD}/overrides/{{override_id}}", response_model=OverrideOut)
def remove_override(
    lead_id: LeadPath,
    override_id: OverridePath,
    db: Db,
    actor: Actor,
    now: Now,
    reason: Annotated[Reason | None, Query()] = None,
    by: Annotated[Person | None, Query()] = None,
) -> OverrideOut:
    """End an override now (removing it twice changes nothing)."""
    who = acting(actor, by)
    return db.run(lambda s: OverrideOut.of(
        service.remove_override(s, lead_id, override_id, reason, who, now), now))  # fmt: skip


@router.get(f"{LEAD}/audit", response_model=list[AuditOut])
def audit_trail(lead_id: LeadPath, db: Db, _: Actor) -> list[AuditOut]:
    """Who did what to the lead and when: merges, edits, answers, overrides, decisions."""
    with db.reading() as session:
        return [AuditOut.model_validate(x) for x in service.audit_trail(session, lead_id)]


@router.get("/frameworks", tags=["qualification"])
def frameworks(_: Actor, config: Configured) -> list[dict[str, Any]]:
    """The qualification frameworks in force, with their questions and what qualifies."""
    return [f.model_dump(mode="json", by_alias=True, exclude_none=True)
            for f in config.frameworks.values()]  # fmt: skip


@router.get("/lifecycle", tags=["qualification"])
def lifecycle(_: Actor, config: Configured) -> dict[str, Any]:
    """The lifecycle in force: allowed moves, reasons and automatic rules."""
    return config.lifecycle.model_dump(mode="json", by_alias=True, exclude_none=True)
