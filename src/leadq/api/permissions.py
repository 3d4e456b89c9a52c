"""Every API endpoint's permission in one table, checked by one dependency on every router.

An endpoint missing from the table is refused (fail closed), and the permission test fails
for it, so a new endpoint cannot ship without a rule."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.api.deps import caller
from leadq.domain.ids import canonical_id
from leadq.services.errors import NotFound
from leadq.services.people.access import Access
from leadq.store.db import Database
from leadq.store.tables import FollowUpTask, Lead

API_PREFIX = "/api/v1"
PUBLIC = "public"
LEAD = f"{API_PREFIX}/leads/{{lead_id}}"

RULES: dict[tuple[str, str], str] = {
    ("GET", f"{API_PREFIX}/health"): PUBLIC,
    ("POST", f"{API_PREFIX}/forms/{{source}}"): PUBLIC,
    ("POST", f"{API_PREFIX}/collect"): PUBLIC,
    # messenger and telephony webhooks: the platform's signature is the proof, not a key
    ("POST", f"{API_PREFIX}/channels/telegram"): PUBLIC,
    ("GET", f"{API_PREFIX}/channels/meta"): PUBLIC,
    ("POST", f"{API_PREFIX}/channels/meta"): PUBLIC,
    ("POST", f"{API_PREFIX}/channels/calls/twilio"): PUBLIC,
    ("GET", f"{API_PREFIX}/channels/calls/zadarma"): PUBLIC,
    ("POST", f"{API_PREFIX}/channels/calls/zadarma"): PUBLIC,
    ("POST", f"{API_PREFIX}/channels/calls/generic"): PUBLIC,
    # leads and intake
    ("POST", f"{API_PREFIX}/leads"): "leads.write",
    ("GET", f"{API_PREFIX}/leads"): "leads.view",
    ("GET", LEAD): "leads.view",
    ("PATCH", LEAD): "leads.work",
    ("GET", f"{LEAD}/score"): "leads.view",
    ("GET", f"{LEAD}/events"): "leads.view",
    ("POST", f"{API_PREFIX}/events"): "leads.write",
    ("POST", f"{API_PREFIX}/events/batch"): "leads.write",
    ("GET", f"{API_PREFIX}/duplicates"): "leads.write",
    ("POST", f"{API_PREFIX}/duplicates/{{pair_id}}/dismiss"): "leads.write",
    ("POST", f"{API_PREFIX}/duplicates/{{pair_id}}/merge"): "leads.write",
    ("POST", f"{API_PREFIX}/duplicates/{{pair_id}}/unmerge"): "leads.write",
    ("POST", f"{API_PREFIX}/imports"): "leads.write",
    ("GET", f"{API_PREFIX}/imports/{{run_id}}"): "leads.write",
    ("GET", f"{API_PREFIX}/imports/{{run_id}}/rejects"): "leads.write",
    # qualification
    ("POST", f"{LEAD}/stage"): "leads.work",
    ("GET", f"{LEAD}/stages"): "leads.view",
    ("POST", f"{LEAD}/accept"): "leads.work",
    ("POST", f"{LEAD}/reject"): "leads.work",
    ("GET", f"{LEAD}/feedback"): "leads.view",
    ("GET", f"{LEAD}/frameworks"): "leads.view",
    ("GET", f"{LEAD}/frameworks/{{framework}}"): "leads.view",
    ("POST", f"{LEAD}/frameworks/{{framework}}/answers"): "leads.work",
    ("POST", f"{LEAD}/overrides"): "leads.override",
    ("GET", f"{LEAD}/overrides"): "leads.view",
    ("DELETE", f"{LEAD}/overrides/{{override_id}}"): "leads.override",
    ("GET", f"{LEAD}/audit"): "leads.view",
    ("GET", f"{API_PREFIX}/frameworks"): "leads.view",
    ("GET", f"{API_PREFIX}/lifecycle"): "leads.view",
    # consent and data-subject rights
    ("GET", f"{LEAD}/consents"): "leads.view",
    ("POST", f"{LEAD}/consents"): "leads.work",
    ("GET", f"{LEAD}/export"): "privacy.manage",
    ("POST", f"{LEAD}/erase"): "privacy.manage",
    ("POST", f"{API_PREFIX}/privacy/retain"): "privacy.manage",
    ("GET", f"{API_PREFIX}/audit"): "audit.view",
    # scoring and predictive models
    ("POST", f"{API_PREFIX}/models/validate"): "models.view",
    ("POST", f"{API_PREFIX}/models"): "models.edit",
    ("GET", f"{API_PREFIX}/models"): "models.view",
    ("POST", f"{API_PREFIX}/models/{{reference}}/activate"): "models.edit",
    ("GET", f"{API_PREFIX}/predictive/models"): "models.view",
    ("POST", f"{API_PREFIX}/predictive/models/{{reference}}/activate"): "models.edit",
    ("POST", f"{API_PREFIX}/predictive/rollback"): "models.edit",
    ("GET", f"{API_PREFIX}/predictive/arms"): "models.view",
    # automation
    ("GET", f"{API_PREFIX}/automation"): "automation.view",
    ("POST", f"{API_PREFIX}/automation/validate"): "automation.view",
    ("GET", f"{API_PREFIX}/tasks"): "leads.view",
    ("POST", f"{API_PREFIX}/tasks/{{task_id}}/complete"): "leads.work",
    ("GET", f"{API_PREFIX}/segments"): "leads.view",
    ("POST", f"{API_PREFIX}/segments"): "automation.edit",
    ("DELETE", f"{API_PREFIX}/segments/{{name}}"): "automation.edit",
    ("GET", f"{API_PREFIX}/segments/{{name}}/leads"): "leads.view",
    ("GET", f"{API_PREFIX}/outbox"): "automation.view",
    ("POST", f"{API_PREFIX}/outbox/{{message_id}}/retry"): "automation.edit",
    # analytics
    ("GET", f"{API_PREFIX}/analytics"): "analytics.view",
    ("GET", f"{API_PREFIX}/analytics/dashboard"): "analytics.view",
    ("POST", f"{API_PREFIX}/analytics/costs"): "costs.write",
}


def rule_for(request: Request) -> str | None:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return None if path is None else RULES.get((request.method, API_PREFIX + path))


async def authorize(request: Request, access: Annotated[Access, Depends(caller)]) -> None:
    """Refuse the call unless the key's role has the endpoint's permission, and, for a rep,
    unless the lead (or task) in the path is theirs or unassigned. Public routers (health,
    web forms) are included without this dependency."""
    permission = rule_for(request)
    if permission is None:
        raise HTTPException(403, "this endpoint has no permission rule")
    if permission != PUBLIC and not access.may(permission):
        raise HTTPException(403, f"an API key with role {access.role} may not do this")
    if access.owner is not None:
        await run_in_threadpool(_check_scope, request.app.state.db, access, request.path_params)


def _check_scope(db: Database, access: Access, params: dict[str, Any]) -> None:
    """Another rep's lead answers 404, as if it did not exist."""
    with db.reading() as session:
        for name, owner_of in (("lead_id", _lead_owner), ("task_id", _task_owner)):
            if name not in params:
                continue
            try:
                key = canonical_id(params[name])
            except ValueError:
                continue  # the route reads ids with the same function: it answers 422
            found, owner = owner_of(session, key)
            if found and not access.sees(owner):
                raise NotFound(name.removesuffix("_id"), key)


def _lead_owner(session: Session, lead_id: int) -> tuple[bool, str | None]:
    row = session.execute(select(Lead.owner).where(Lead.id == lead_id)).first()
    return (row is not None, row[0] if row else None)


def _task_owner(session: Session, task_id: int) -> tuple[bool, str | None]:
    query = select(Lead.owner).join(FollowUpTask, FollowUpTask.lead_id == Lead.id)
    row = session.execute(query.where(FollowUpTask.id == task_id)).first()
    return (row is not None, row[0] if row else None)
