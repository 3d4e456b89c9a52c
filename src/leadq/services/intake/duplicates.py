"""Possible duplicates: leads that share a phone but not an e-mail stay two leads, and the pair
waits for a person to decide. A number on many leads is a shared line (a company switchboard,
a household), a known pattern rather than a sign of one person: it pairs no more leads.

A person dismisses a pair (two people) or merges it: the kept lead takes the other's events and
fills its empty fields from it, and the other stays, disqualified as a duplicate and pointing to
the kept one. The pair records what moved, so an unmerge puts back exactly that."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from leadq.domain.leads import CONTACT_FIELDS, PROFILE_FIELDS
from leadq.domain.lifecycle import Stage
from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.services.qualification import outcomes
from leadq.services.qualification.lifecycle import change_stage
from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.sql import insert_ignoring_conflicts
from leadq.store.tables import Event, Lead, PossibleDuplicate

OPEN, DISMISSED, MERGED = "open", "dismissed", "merged"
DUPLICATE = "duplicate"
"""The lifecycle's disqualification reason for a lead merged into another."""
SAME_PHONE = "same phone"
MERGED_FIELDS = tuple(f for f in PROFILE_FIELDS if f not in ("email", "phone", *CONTACT_FIELDS))
"""What a merge may fill on the kept lead: not the identity (each e-mail stays its lead's)."""
SHARED_LINE = 3
"""Leads on one number from which it counts as a shared line and pairs no more leads."""


def suggest(session: Session, lead: Lead, now: datetime) -> int:
    """Pair ``lead`` with the other leads on its phone; returns how many pairs were new."""
    if not lead.phone:
        return 0
    query = select(Lead.id).where(Lead.phone == lead.phone, Lead.id != lead.id,
                                  Lead.erased_at.is_(None)).limit(SHARED_LINE)  # fmt: skip
    others = list(session.scalars(query))
    return pair(session, lead.id, others if len(others) < SHARED_LINE else [], now)


def pair(session: Session, lead_id: int, others: list[int], now: datetime) -> int:
    """Open a pair of ``lead_id`` with each of ``others`` (a pair once dismissed stays so);
    returns how many pairs were new."""
    if not others:
        return 0
    insert = insert_ignoring_conflicts(session, PossibleDuplicate, ("lead_id", "other_id"))
    rows = [pair_row(lead_id, other, now) for other in others]
    stored = session.execute(insert.returning(PossibleDuplicate.id), rows)
    return len(stored.all())


def pair_row(lead_id: int, other: int, now: datetime) -> dict[str, Any]:
    return {"lead_id": min(lead_id, other), "other_id": max(lead_id, other),
            "reason": SAME_PHONE, "status": OPEN, "created_at": now}  # fmt: skip


def pair_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Open many pairs (``pair_row``) in one statement; a pair once dismissed stays so."""
    if rows:
        insert = insert_ignoring_conflicts(session, PossibleDuplicate, ("lead_id", "other_id"))
        session.execute(insert, rows)


def of_lead(session: Session, lead_id: int,
            visible: ColumnElement[bool] | None = None) -> list[int]:  # fmt: skip
    """The leads an open pair links to this one; ``visible`` narrows them to the leads a
    caller may see (``Access.lead_filter``)."""
    query = select(PossibleDuplicate).where(
        PossibleDuplicate.status == OPEN,
        or_(PossibleDuplicate.lead_id == lead_id, PossibleDuplicate.other_id == lead_id),
    )
    others = {p.other_id if p.lead_id == lead_id else p.lead_id for p in session.scalars(query)}
    if others and visible is not None:
        others = set(session.scalars(select(Lead.id).where(Lead.id.in_(others), visible)))
    return sorted(others)


def open_pairs(session: Session, limit: int = 100) -> list[PossibleDuplicate]:
    query = (select(PossibleDuplicate).where(PossibleDuplicate.status == OPEN)
             .order_by(PossibleDuplicate.id).limit(limit))  # fmt: skip
    return list(session.scalars(query))


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).where(PossibleDuplicate.status == OPEN)) or 0


def _pair(session: Session, pair_id: int, status: str) -> PossibleDuplicate:
    pair = session.get(PossibleDuplicate, pair_id, with_for_update=True)
    if pair is None:
        raise NotFound("possible duplicate", pair_id)
    if pair.status != status:
        raise Conflict("status", f"pair {pair_id} is {pair.status}, not {status}")
    return pair


def dismiss(session: Session, pair_id: int, actor: str, now: datetime) -> PossibleDuplicate:
    """Two people after all: the pair is closed and not suggested again."""
    pair = _pair(session, pair_id, OPEN)
    pair.status, pair.decided_at, pair.decided_by = DISMISSED, now, actor
    audit.record(session, actor, "duplicate.dismissed", "lead", pair.lead_id,
                 {"other": pair.other_id}, now)  # fmt: skip
    return pair


def merge(session: Session, pair_id: int, actor: str, now: datetime,
          keep: int | None = None) -> PossibleDuplicate:  # fmt: skip
    """One person: ``keep`` (the older lead unless named) takes the other's events and fills
    its empty fields and attributes from it; the other is disqualified as a duplicate."""
    pair = _pair(session, pair_id, OPEN)
    if keep not in (None, pair.lead_id, pair.other_id):
        raise Conflict("keep", f"lead {keep} is not in pair {pair_id}")
    kept_id = keep or pair.lead_id
    absorbed_id = pair.other_id if kept_id == pair.lead_id else pair.lead_id
    kept, absorbed = _both(session, kept_id, absorbed_id)
    filled = {f: getattr(absorbed, f) for f in MERGED_FIELDS
              if getattr(kept, f) is None and getattr(absorbed, f) is not None}  # fmt: skip
    for name, value in filled.items():
        setattr(kept, name, value)
    added = {k: v for k, v in absorbed.attributes.items() if k not in kept.attributes}
    kept.attributes = {**kept.attributes, **added}
    moved = list(session.scalars(select(Event.id).where(Event.lead_id == absorbed.id)))
    session.execute(update(Event).where(Event.id.in_(moved)).values(lead_id=kept.id))
    pair.merge_record = {"kept": kept.id, "absorbed": absorbed.id, "filled": filled,
                         "attributes": added, "events": moved, "stage": absorbed.stage}  # fmt: skip
    change_stage(session, absorbed, Stage.disqualified, actor, DUPLICATE, now)
    absorbed.merged_into_id, kept.updated_at, absorbed.updated_at = kept.id, now, now
    pair.status, pair.decided_at, pair.decided_by = MERGED, now, actor
    details = {"absorbed": absorbed.id, "filled": sorted(filled), "events": len(moved)}
    audit.record(session, actor, "duplicate.merged", "lead", kept.id, details, now)
    rescore_leads(session, [kept.id, absorbed.id], now, "duplicates merged")
    outcomes.refresh(session, [kept.id, absorbed.id])  # the events moved
    return pair


def unmerge(session: Session, pair_id: int, actor: str, now: datetime) -> PossibleDuplicate:
    """Undo a merge: the events go back, the fields it filled are emptied again (unless someone
    has changed them since), the other lead returns to the stage it was in; the pair is open."""
    pair = _pair(session, pair_id, MERGED)
    record = pair.merge_record or {}
    kept, absorbed = _both(session, record["kept"], record["absorbed"])
    for name, value in record["filled"].items():
        if getattr(kept, name) == value:
            setattr(kept, name, None)
    added = record["attributes"]
    kept.attributes = {k: v for k, v in kept.attributes.items()
                       if k not in added or v != added[k]}  # fmt: skip
    if record["events"]:
        session.execute(update(Event).where(Event.id.in_(record["events"]),
                                            Event.lead_id == kept.id)
                        .values(lead_id=absorbed.id))  # fmt: skip
    change_stage(session, absorbed, Stage(record["stage"]), actor, "unmerged", now)
    absorbed.merged_into_id, kept.updated_at, absorbed.updated_at = None, now, now
    pair.status, pair.decided_at, pair.decided_by, pair.merge_record = OPEN, None, None, None
    audit.record(session, actor, "duplicate.unmerged", "lead", kept.id,
                 {"absorbed": absorbed.id}, now)  # fmt: skip
    rescore_leads(session, [kept.id, absorbed.id], now, "duplicates unmerged")
    outcomes.refresh(session, [kept.id, absorbed.id])  # the events moved
    return pair


def _both(session: Session, first: int, second: int) -> tuple[Lead, Lead]:
    """Both leads, locked in id order (no deadlock with a merge of the same pair)."""
    query = select(Lead).where(Lead.id.in_([first, second])).order_by(Lead.id)
    rows = {lead.id: lead for lead in session.scalars(query.with_for_update())}
    return rows[first], rows[second]
