"""The API's routers, one per capability, and what they share."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadq.api.schemas import LeadOut
from leadq.services.automation.reactions import settle
from leadq.store.tables import Lead


def committed(session: Session, lead: Lead) -> LeadOut:
    """The lead as its transaction will commit it: the automation rules the use case set off
    (an owner assigned, a stage moved) have run before the answer is written."""
    settle(session)
    return LeadOut.model_validate(lead)
