"""People in the loop: stage moves, sales acceptance and rejection, framework answers and
manual overrides. Each use case checks its input against the configured documents, records
who did it, when and why, and rescores the lead so the lifecycle rules see the change."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.frameworks import Assessment, Framework
from leadq.domain.lifecycle import Stage
from leadq.services.automation import reactions as automation
from leadq.services.errors import Conflict, FieldError, InvalidInput, NotFound
from leadq.services.intake.lookup import changeable_lead, get_lead
from leadq.services.privacy import audit
from leadq.services.qualification.answers import assessments, current_answers, values
from leadq.services.qualification.lifecycle import change_stage
from leadq.services.qualification.rules import Rules
from leadq.services.scoring.rescoring import (
    active_model,
    lead_overrides,
    override_json,
    rescore_leads,
)
from leadq.store.tables import AuditEntry, FrameworkAnswer, Lead, ManualOverride, SalesFeedback

MAX_ADJUSTMENT = 1_000_000


def parse_stage(value: str, field: str = "stage") -> Stage:
    try:
        return Stage(value)
    except ValueError:
        options = ", ".join(s.value for s in Stage)
        raise InvalidInput([FieldError(field, f"unknown stage; one of: {options}")]) from None


def _pinned(lead: Lead, now: datetime) -> None:
    active = [o for o in lead_overrides(lead) if o.kind == "stage" and o.active(now)]
    if active:
        raise Conflict("stage", f"the stage is pinned by override {active[0].id}; remove it first")


def _move(session: Session, rules: Rules, lead: Lead, to: Stage, actor: str,
          reason: str | None, now: datetime, listed: bool = True) -> None:  # fmt: skip
    """Move if the lifecycle allows it; with ``listed``, a reason from its list where needed."""
    refusal = rules.lifecycle.refusal(Stage(lead.stage), to)
    if refusal:
        raise Conflict("stage", refusal)
    refusal = rules.lifecycle.reason_refusal(to, reason) if listed else None
    if refusal:
        raise InvalidInput([FieldError("reason", refusal)])
    change_stage(session, lead, to, actor, reason, now)


def move_stage(session: Session, rules: Rules, lead_id: int, stage: str, reason: str | None,
               actor: str, now: datetime) -> Lead:  # fmt: skip
    """A person moves the lead; only moves the lifecycle allows, never against a pin. Moving
    to the stage it is in changes nothing (safe to retry). Entering SAL is an acceptance."""
    to = parse_stage(stage)
    lead = changeable_lead(session, lead_id)
    if to.value == lead.stage:
        return lead
    if to is Stage.sal:
        return accept(session, rules, lead_id, actor, now, reason)
    _pinned(lead, now)
    _move(session, rules, lead, to, actor, reason, now)
    rescore_leads(session, [lead.id], now, "stage changed")
    return lead


def _feedback(session: Session, lead: Lead, decision: str, reason: str | None,
              comment: str | None, actor: str, now: datetime) -> None:  # fmt: skip
    session.add(SalesFeedback(lead_id=lead.id, decision=decision, reason=reason, comment=comment,
                              actor=actor, at=now, stage=lead.stage, score=lead.score,
                              grade=lead.grade, model=lead.scoring_model))  # fmt: skip
    # the comment is free text kept on the feedback row; the append-only audit log only
    # says there was one, so an erasure leaves nothing personal behind
    details = {"reason": reason, "commented": bool(comment), "stage": lead.stage,
               "score": lead.score}  # fmt: skip
    audit.record(session, actor, f"lead.{decision}", "lead", lead.id, details, now)


def accept(session: Session, rules: Rules, lead_id: int, actor: str, now: datetime,
           comment: str | None = None, owner: str | None = None,
           default_owner: str | None = None) -> Lead:  # fmt: skip
    """Sales accepts a MQL: it becomes a SAL owned by ``owner``; unsaid, a lead nobody owns
    goes to ``default_owner`` (the person accepting it), one with an owner keeps them."""
    lead = changeable_lead(session, lead_id)
    if lead.stage != Stage.mql:
        raise Conflict("stage", f"only a mql can be accepted; the lead is {lead.stage}")
    _pinned(lead, now)
    _feedback(session, lead, "accepted", None, comment, actor, now)
    _move(session, rules, lead, Stage.sal, actor, comment or "accepted by sales", now)
    lead.accepted_at = now
    _owned_by(session, lead, owner or lead.owner or default_owner, actor, now)
    rescore_leads(session, [lead.id], now, "accepted")
    return lead


def assign(session: Session, lead_id: int, owner: str | None, actor: str, now: datetime) -> Lead:
    """Give the lead to ``owner`` (None: nobody); the same owner again changes nothing."""
    lead = changeable_lead(session, lead_id)
    if _owned_by(session, lead, owner, actor, now):
        lead.updated_at = now
        rescore_leads(session, [lead.id], now, "lead assigned")
    return lead


def _owned_by(session: Session, lead: Lead, owner: str | None, actor: str,
              now: datetime) -> bool:  # fmt: skip
    if owner == lead.owner:
        return False
    audit.record(session, actor, "lead.assigned", "lead", lead.id,
                 {"before": lead.owner, "after": owner}, now)  # fmt: skip
    lead.owner = owner
    return True


def reject(session: Session, rules: Rules, lead_id: int, reason: str, comment: str | None,
           actor: str, now: datetime) -> Lead:  # fmt: skip
    """Sales rejects a MQL or SAL with a reason from the lifecycle's list; the reason decides
    where the lead goes (nurture, unqualified, disqualified) and the feedback is kept."""
    target = rules.lifecycle.rejection.get(reason)
    if target is None:
        options = ", ".join(rules.lifecycle.rejection)
        raise InvalidInput([FieldError("reason", f"unknown rejection reason; one of: {options}")])
    lead = changeable_lead(session, lead_id)
    if lead.stage not in (Stage.mql, Stage.sal):
        raise Conflict("stage", f"only a mql or sal can be rejected; the lead is {lead.stage}")
    _pinned(lead, now)
    _feedback(session, lead, "rejected", reason, comment, actor, now)
    _move(session, rules, lead, target, actor, reason, now)
    rescore_leads(session, [lead.id], now, "rejected")
    return lead


# -- frameworks --------------------------------------------------------------------------------


def framework_of(rules: Rules, name: str) -> Framework:
    framework = rules.frameworks.get(name)
    if framework is None:
        raise NotFound("framework", name)
    return framework


@dataclass(frozen=True)
class FrameworkCard:
    framework: Framework
    assessment: Assessment
    answers: dict[str, FrameworkAnswer]


def framework_cards(session: Session, rules: Rules, lead_id: int) -> list[FrameworkCard]:
    """Every configured framework with the lead's answers and verdict."""
    get_lead(session, lead_id)
    given = current_answers(session, [lead_id]).get(lead_id, {})
    verdicts = assessments(rules.frameworks, {n: given.get(n, {}) for n in rules.frameworks})
    return [FrameworkCard(f, verdicts[name], dict(given.get(name, {})))
            for name, f in sorted(rules.frameworks.items())]  # fmt: skip


def _checked(framework: Framework, answers: dict[str, Any]) -> dict[str, Any]:
    if not answers:
        raise InvalidInput([FieldError("answers", "give at least one answer")])
    errors, checked = [], {}
    for question_id, value in answers.items():
        question = framework.question(question_id)
        if question is None:
            asked = ", ".join(q.id for q in framework.questions)
            reason = f"unknown question; {framework.name} asks: {asked}"
            errors.append(FieldError(f"answers.{question_id}"[:200], reason))
            continue
        try:
            checked[question_id] = question.answer(value)
        except ValueError as exc:
            errors.append(FieldError(f"answers.{question_id}", str(exc)))
    if errors:
        raise InvalidInput(errors[:100])
    return checked


def answer(session: Session, rules: Rules, lead_id: int, name: str, answers: dict[str, Any],
           actor: str, now: datetime) -> FrameworkCard:  # fmt: skip
    """Record answers (``None`` clears one); an answer equal to the current one is not
    recorded again, so a retried request changes nothing."""
    framework = framework_of(rules, name)
    checked = _checked(framework, answers)
    lead = changeable_lead(session, lead_id)
    before = values(current_answers(session, [lead.id]).get(lead.id, {}).get(name, {}))
    changed = {
        q: v for q, v in checked.items() if before.get(q) != v or type(before.get(q)) is not type(v)
    }
    verdict_before = _card(session, rules, lead.id, name).assessment.verdict
    for question_id, value in changed.items():
        session.add(FrameworkAnswer(lead_id=lead.id, framework=name, question=question_id,
                                    value=value, actor=actor, at=now))  # fmt: skip
    if changed:
        session.flush()
        details = {"framework": name, "questions": sorted(changed)}
        audit.record(session, actor, "framework.answered", "lead", lead.id, details, now)
        rescore_leads(session, [lead.id], now, f"{name} answered")
    card = _card(session, rules, lead.id, name)
    if card.assessment.verdict != verdict_before:
        reached = {"framework": name, "verdict": str(card.assessment.verdict),
                   "from": str(verdict_before)}  # fmt: skip
        automation.emit(session, "lead.framework_verdict", lead.id, reached, now)
    return card


def _card(session: Session, rules: Rules, lead_id: int, name: str) -> FrameworkCard:
    return next(c for c in framework_cards(session, rules, lead_id) if c.framework.name == name)


# -- overrides ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideRequest:
    kind: str
    reason: str
    points: float | None = None
    grade: str | None = None
    stage: str | None = None
    expires_at: datetime | None = None


def _check_override(session: Session, request: OverrideRequest, now: datetime) -> None:
    wanted = {"points": request.points, "grade": request.grade, "stage": request.stage}
    if request.kind not in wanted:
        raise InvalidInput([FieldError("kind", "one of: points, grade, stage")])
    given = [name for name, value in wanted.items() if value is not None]
    errors = [FieldError(name, f"only for kind {name}") for name in given if name != request.kind]
    if wanted[request.kind] is None:
        errors.append(FieldError(request.kind, f"required for kind {request.kind}"))
    if not request.reason.strip():
        errors.append(FieldError("reason", "an override needs a reason"))
    if request.expires_at is not None and request.expires_at <= now:
        errors.append(FieldError("expires_at", "must lie in the future"))
    points = request.points
    if points is not None and (not math.isfinite(points) or abs(points) > MAX_ADJUSTMENT
                               or points == 0):  # fmt: skip
        errors.append(FieldError("points", f"a non-zero adjustment within ±{MAX_ADJUSTMENT}"))
    if request.grade is not None:
        model = active_model(session)
        if model is None:
            errors.append(FieldError("grade", "no active scoring model: nothing to pin"))
        elif request.grade not in model.grades:
            errors.append(
                FieldError("grade", f"one of the model's grades: {', '.join(model.grades)}")
            )
    if errors:
        raise InvalidInput(errors)


def add_override(session: Session, rules: Rules, lead_id: int, request: OverrideRequest,
                 actor: str, now: datetime) -> ManualOverride:  # fmt: skip
    """A person adjusts the score, pins the grade or pins the stage (moving the lead there
    if it is elsewhere); it holds until ``expires_at`` or until removed."""
    _check_override(session, request, now)
    stage = parse_stage(request.stage) if request.stage is not None else None
    lead = changeable_lead(session, lead_id)
    if stage is not None and stage.value != lead.stage:
        _pinned(lead, now)
        _move(session, rules, lead, stage, actor, f"pinned: {request.reason}", now, listed=False)
        if stage is Stage.sal:
            lead.accepted_at = now
    row = ManualOverride(lead_id=lead.id, kind=request.kind, points=request.points,
                         grade=request.grade, stage=request.stage, reason=request.reason.strip(),
                         actor=actor, created_at=now, expires_at=request.expires_at)  # fmt: skip
    session.add(row)
    session.flush()
    lead.overrides = [*(lead.overrides or []), override_json(row)]
    details = {"override": row.id, "kind": row.kind, "points": row.points, "grade": row.grade,
               "stage": row.stage,
               "expires_at": row.expires_at.isoformat() if row.expires_at else None}  # fmt: skip
    audit.record(session, actor, "override.added", "lead", lead.id, details, now)
    rescore_leads(session, [lead.id], now, "override added")
    return row


def remove_override(session: Session, lead_id: int, override_id: int, reason: str | None,
                    actor: str, now: datetime) -> ManualOverride:  # fmt: skip
    """End an override now; removing a removed one changes nothing."""
    lead = changeable_lead(session, lead_id)
    row = session.get(ManualOverride, override_id)
    if row is None or row.lead_id != lead.id:
        raise NotFound("override", override_id)
    if row.removed_at is None:
        row.removed_at, row.removed_by, row.removal_reason = now, actor, reason
        lead.overrides = [o for o in lead.overrides or [] if o["id"] != row.id]
        details = {"override": row.id, "kind": row.kind}
        audit.record(session, actor, "override.removed", "lead", lead.id, details, now)
        rescore_leads(session, [lead.id], now, "override removed")
    return row


def list_overrides(session: Session, lead_id: int) -> list[ManualOverride]:
    get_lead(session, lead_id)
    query = select(ManualOverride).where(ManualOverride.lead_id == lead_id)
    return list(session.scalars(query.order_by(ManualOverride.id)))


def feedback(session: Session, lead_id: int) -> list[SalesFeedback]:
    get_lead(session, lead_id)
    query = select(SalesFeedback).where(SalesFeedback.lead_id == lead_id)
    return list(session.scalars(query.order_by(SalesFeedback.id)))


def audit_trail(session: Session, lead_id: int) -> list[AuditEntry]:
    get_lead(session, lead_id)
    query = select(AuditEntry).where(AuditEntry.entity == "lead",
                                     AuditEntry.entity_id == str(lead_id))  # fmt: skip
    return list(session.scalars(query.order_by(AuditEntry.id)))
