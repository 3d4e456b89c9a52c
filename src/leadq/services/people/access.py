"""Who may do what: one table of permissions by role for the API and the web UI alike,
and which leads a sales rep may see (their own and unassigned ones)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from leadq.services.errors import NotFound
from leadq.services.intake.lookup import get_lead
from leadq.services.people.users import Role
from leadq.store.tables import Lead

EVERYONE = frozenset(Role)
PEOPLE_MANAGERS = frozenset({Role.admin, Role.manager, Role.marketing})
MODEL_EDITORS = frozenset({Role.admin, Role.marketing})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "leads.view": EVERYONE,
    "leads.work": EVERYONE,
    "leads.write": PEOPLE_MANAGERS,
    "leads.override": PEOPLE_MANAGERS,
    "analytics.view": PEOPLE_MANAGERS,
    "costs.write": MODEL_EDITORS,
    "models.view": EVERYONE,
    "models.edit": MODEL_EDITORS,
    "automation.view": PEOPLE_MANAGERS,
    "automation.edit": MODEL_EDITORS,
    "privacy.manage": frozenset({Role.admin}),
    "audit.view": frozenset({Role.admin}),
}
"""``leads.work``: stage moves, accept/reject, answers, notes, tasks, consents on a lead
one may see; ``leads.write``: intake and profile edits (leads, events, imports)."""


@dataclass(frozen=True)
class Access:
    """The person or API key acting: the name written to the audit log and their role."""

    actor: str
    role: Role
    name: str

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    @property
    def owner(self) -> str | None:
        """Whose leads this caller is limited to: a rep's own name; None means every lead."""
        return self.name if self.role is Role.rep else None

    def sees(self, lead_owner: str | None) -> bool:
        return self.owner is None or lead_owner is None or lead_owner == self.owner

    def lead_filter(self) -> ColumnElement[bool] | None:
        """The condition a list of leads needs for this caller, or None for every lead."""
        if self.owner is None:
            return None
        return or_(Lead.owner.is_(None), Lead.owner == self.owner)


def lead_for(session: Session, access: Access, lead_id: int, for_update: bool = False) -> Lead:
    """The lead if this caller may see it; another rep's lead is "not found", so its
    existence is not disclosed either."""
    lead = get_lead(session, lead_id, for_update)
    if not access.sees(lead.owner):
        raise NotFound("lead", lead_id)
    return lead
