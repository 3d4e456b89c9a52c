"""One lead by id: the single way every use case reads it, locks it for a change, and
refuses changes to an erased one. It depends on nothing else of ours, so the services that
record things on a lead (leads, consents, access checks) can all share it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadq.services.errors import Conflict, NotFound
from leadq.store.tables import Lead


def get_lead(session: Session, lead_id: int, for_update: bool = False,
             exclusive: bool = False) -> Lead:  # fmt: skip
    """``for_update`` locks the lead for a change (``FOR NO KEY UPDATE``: intake still adds its
    events); ``exclusive`` also keeps intake out until the transaction ends (``FOR UPDATE``)."""
    lock: dict[str, bool] | bool | None = (
        True if exclusive else {"key_share": True} if for_update else None
    )
    lead = session.get(Lead, lead_id, with_for_update=lock)
    if lead is None:
        raise NotFound("lead", lead_id)
    return lead


def changeable_lead(session: Session, lead_id: int) -> Lead:
    """The lead, locked for a change by a person; an erased lead is an anonymous shell that
    takes no more changes (they could put personal data back into it)."""
    lead = get_lead(session, lead_id, for_update=True)
    if lead.erased_at is not None:
        raise Conflict("lead", f"lead {lead_id} was erased: it takes no changes")
    return lead


def surviving(session: Session, lead_id: int) -> int | None:
    """The lead a person is now: the one a merge kept (followed however often it merged),
    or None once erased or gone; for links and browsers that still name an old lead."""
    seen: set[int] = set()
    current: int | None = lead_id
    while current is not None and current not in seen:
        seen.add(current)
        lead = session.get(Lead, current)
        if lead is None or lead.erased_at is not None:
            return None
        if lead.merged_into_id is None:
            return current
        current = lead.merged_into_id
    return None
