"""Stage changes as facts: every move writes the stage history (actor, time, reason) and a
``lead.stage_changed`` domain event in the same transaction; automatic moves come from the
lifecycle rules, evaluated whenever a lead is rescored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.frameworks import Assessment
from leadq.domain.lifecycle import ACCEPTED, Situation, Stage, Step, advance
from leadq.domain.scoring.evaluate import EventFact
from leadq.services.automation import reactions as automation
from leadq.services.privacy import audit
from leadq.services.qualification import outcomes
from leadq.services.qualification.rules import Rules
from leadq.store.sql import Rows
from leadq.store.tables import AuditEntry, DomainEvent, StageChange

STAGE_CHANGED = "lead.stage_changed"
PQL_FLAGGED = "lead.pql_flagged"


class Staged(Protocol):
    """What the rules read of a stored lead (a ``Lead``, or a row of its columns)."""

    stage: str
    stage_changed_at: datetime | None
    created_at: datetime
    pql: bool
    accepted_at: datetime | None
    last_activity_at: datetime | None


class Movable(Staged, outcomes.Funnel, Protocol):
    """What a stage change writes on a lead (a ``Lead``, or a record the caller stores)."""

    id: int
    pql_at: datetime | None


def change_stage(session: Session, lead: Movable, to: Stage, actor: str, reason: str | None,
                 at: datetime, rows: Rows | None = None) -> None:  # fmt: skip
    """Move the lead (the caller has checked the move is allowed) and record it; ``rows``
    collects the records for the caller to insert with others."""
    before = lead.stage
    change = {"lead_id": lead.id, "from_stage": before, "to_stage": to.value, "actor": actor,
              "reason": reason, "at": at}  # fmt: skip
    moved = {"from": before, "to": to.value, "actor": actor, "reason": reason}
    if rows is None:
        session.add(StageChange(**change))
    else:
        rows.setdefault(StageChange, []).append(change)
        rows.setdefault(DomainEvent, []).append({"type": STAGE_CHANGED, "lead_id": lead.id,
                                                 "payload": moved, "at": at})  # fmt: skip
    automation.emit(session, STAGE_CHANGED, lead.id, moved, at, record=rows is None)
    lead.stage, lead.stage_changed_at = to.value, at
    if to not in ACCEPTED:
        lead.accepted_at = None
    outcomes.moved(lead, to.value, at)


def situation(lead: Staged, profile: Mapping[str, Any], score: float | None, grade: str | None,
              grades: Sequence[str], verdicts: Mapping[str, Assessment],
              events: Sequence[EventFact], stage_pinned: bool) -> Situation:  # fmt: skip
    """What the rules see; ``profile`` is the lead as the scoring model saw it."""
    return Situation(
        stage=Stage(lead.stage),
        stage_changed_at=lead.stage_changed_at or lead.created_at,
        pql=lead.pql,
        accepted=lead.accepted_at is not None,
        score=score,
        grade=grade,
        grades=grades,
        verdicts={name: a.verdict for name, a in verdicts.items()},
        events=events,
        last_activity_at=lead.last_activity_at,
        profile=profile,
        stage_pinned=stage_pinned,
    )


def progress(session: Session, lead: Movable, rules: Rules, now: Situation, as_of: datetime,
             rows: Rows | None = None) -> list[Step]:  # fmt: skip
    """Apply the flags and moves the rules make due; returns them. ``rows`` collects their
    records for the caller to insert with others."""
    steps = advance(rules.lifecycle, now, as_of)
    for step in steps:
        actor = f"rule:{step.rule}"
        if step.flag == "pql":
            lead.pql, lead.pql_at = True, as_of
            details = {"rule": step.rule, "reason": audit.Code(step.reason)}  # the rules document
            entry = audit.entry(actor, PQL_FLAGGED, "lead", lead.id, details, as_of)
            if rows is None:
                session.add(AuditEntry(**entry))
            else:
                rows.setdefault(AuditEntry, []).append(entry)
                happened = {"type": PQL_FLAGGED, "lead_id": lead.id, "payload": details,
                            "at": as_of}  # fmt: skip
                rows.setdefault(DomainEvent, []).append(happened)
            automation.emit(session, PQL_FLAGGED, lead.id, details, as_of, record=rows is None)
        elif step.to is not None:
            change_stage(session, lead, step.to, actor, step.reason, as_of, rows)
    return steps


def stage_history(session: Session, lead_id: int) -> list[StageChange]:
    query = select(StageChange).where(StageChange.lead_id == lead_id)
    return list(session.scalars(query.order_by(StageChange.at, StageChange.id)))
