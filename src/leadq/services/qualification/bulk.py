"""One action on many leads at once, from the inbox's selection: each lead is changed (and
audited) on its own, and a lead that cannot be changed is reported with the reason while the
others go ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from leadq.services.automation import segments
from leadq.services.automation.reactions import tentative
from leadq.services.errors import FieldError, InvalidInput, LeadqError, NotFound
from leadq.services.intake.lookup import get_lead
from leadq.services.qualification import decisions
from leadq.services.qualification.rules import Rules

MAX_LEADS = 1000
"""Leads one bulk action takes (the inbox's selection is a page; the API's a list)."""


class Caller(Protocol):
    """Who acts (``services.people.access.Access``): the name audited, their own name, and
    whether they may see a lead of a given owner."""

    @property
    def actor(self) -> str: ...

    @property
    def name(self) -> str: ...

    def sees(self, lead_owner: str | None) -> bool: ...


class BulkAction(StrEnum):
    accept = "accept"
    assign = "assign"
    reject = "reject"
    move = "move"
    add = "add_to_segment"
    remove = "remove_from_segment"


@dataclass(frozen=True)
class BulkRequest:
    action: BulkAction
    lead_ids: tuple[int, ...]
    owner: str | None = None
    """accept: who owns the accepted leads (the person accepting when unsaid); assign: the
    new owner (none unassigns)."""
    reason: str | None = None
    stage: str | None = None
    segment: str | None = None


@dataclass(frozen=True)
class Refusal:
    lead_id: int
    reason: str


@dataclass(frozen=True)
class BulkReport:
    action: BulkAction
    done: list[int]
    refused: list[Refusal]


def _checked(request: BulkRequest, rules: Rules) -> None:
    """What the action itself needs, refused before any lead is touched."""
    errors: list[FieldError] = []
    if not request.lead_ids:
        errors.append(FieldError("leads", "select at least one lead"))
    elif len(request.lead_ids) > MAX_LEADS:
        errors.append(FieldError("leads", f"at most {MAX_LEADS} leads at once"))
    if request.action is BulkAction.reject and request.reason not in rules.lifecycle.rejection:
        errors.append(FieldError("reason", "choose a rejection reason"))
    if request.action is BulkAction.move and not request.stage:
        errors.append(FieldError("stage", "choose a stage"))
    if request.action in (BulkAction.add, BulkAction.remove) and not request.segment:
        errors.append(FieldError("segment", "choose a segment"))
    if errors:
        raise InvalidInput(errors)


def apply(session: Session, rules: Rules, access: Caller, request: BulkRequest,
          now: datetime) -> BulkReport:  # fmt: skip
    """Do the action to each lead the caller may see, one savepoint each; a lead another rep
    owns reads as not found, as it does on its own."""
    _checked(request, rules)
    if request.segment and request.action in (BulkAction.add, BulkAction.remove):
        segments.usable(session, request.segment, access.name)
    done: list[int] = []
    refused: list[Refusal] = []
    for lead_id in dict.fromkeys(request.lead_ids):
        try:
            with tentative(session):
                if not access.sees(get_lead(session, lead_id, for_update=True).owner):
                    raise NotFound("lead", lead_id)  # another rep's: not disclosed
                _one(session, rules, access, request, lead_id, now)
        except LeadqError as exc:
            refused.append(Refusal(lead_id, str(exc)))
        else:
            done.append(lead_id)
    return BulkReport(request.action, done, refused)


def _one(session: Session, rules: Rules, access: Caller, request: BulkRequest, lead_id: int,
         now: datetime) -> None:  # fmt: skip
    actor = access.actor
    match request.action:
        case BulkAction.accept:
            decisions.accept(session, rules, lead_id, actor, now, owner=request.owner or None,
                             default_owner=access.name)  # fmt: skip
        case BulkAction.assign:
            decisions.assign(session, lead_id, request.owner, actor, now)
        case BulkAction.reject:
            decisions.reject(session, rules, lead_id, request.reason or "", None, actor, now)
        case BulkAction.move:
            decisions.move_stage(session, rules, lead_id, request.stage or "", request.reason,
                                 actor, now)  # fmt: skip
        case BulkAction.add:
            segments.add_member(session, request.segment or "", lead_id, actor, now)
        case BulkAction.remove:
            segments.remove_member(session, request.segment or "", lead_id, actor, now)
