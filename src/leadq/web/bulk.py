"""Bulk actions on the inbox's selection: asked, confirmed, then done lead by lead with a
report of what could not be done and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.datastructures import FormData

from leadq.domain.ids import canonical_id
from leadq.services.errors import FieldError, InvalidInput, LeadqError
from leadq.services.qualification.bulk import MAX_LEADS, BulkAction, BulkRequest, apply
from leadq.store.db import Database
from leadq.store.tables import Lead
from leadq.web.auth import Form, Signed, local_path
from leadq.web.card import text
from leadq.web.render import page, reader

router = APIRouter(include_in_schema=False)


def _request(data: FormData) -> BulkRequest:
    try:
        action = BulkAction(str(data.get("action") or ""))
    except ValueError:
        raise InvalidInput([FieldError("action", "choose an action")]) from None
    try:
        ids = tuple(canonical_id(v) for v in data.getlist("lead"))
    except ValueError:
        raise InvalidInput([FieldError("lead", "not a lead id")]) from None
    if len(ids) > MAX_LEADS:
        raise InvalidInput([FieldError("lead", f"at most {MAX_LEADS} leads at once")])
    reason = "move_reason" if action is BulkAction.move else "reason"
    return BulkRequest(action, ids, owner=text(data, "owner", 100), reason=text(data, reason, 60),
                       stage=text(data, "stage", 20),
                       segment=text(data, "segment", 63))  # fmt: skip


def _names(db: Database, ids: tuple[int, ...]) -> dict[int, str]:
    """Each selected lead's name as the lists show it (one query)."""
    with db.reading() as session:
        rows = session.execute(select(Lead.id, Lead.first_name, Lead.last_name, Lead.email,
                                      Lead.phone).where(Lead.id.in_(ids)))  # fmt: skip
        found = {}
        for lead_id, first, last, email, phone in rows:
            found[lead_id] = " ".join(p for p in (first, last) if p) or email or phone or ""
        return found


@router.post("/inbox/bulk", response_class=HTMLResponse)
def bulk(request: Request, viewer: Signed, data: Form) -> HTMLResponse:
    """First the confirmation (what will be done to which leads), then, confirmed, the
    action on each lead and the report."""
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    wanted = data.get("next")
    back = local_path(wanted if isinstance(wanted, str) else None, "/inbox")
    context: dict[str, Any] = {"back": back}
    try:
        asked = _request(data)
        context.update(asked=asked, names=_names(db, asked.lead_ids))
        if data.get("confirmed") != "yes":
            if not asked.lead_ids:
                raise InvalidInput([FieldError("lead", "select at least one lead")])
            return page(request, "bulk.html.j2", viewer, **context)
        report = db.run(lambda s: apply(s, request.app.state.rules, viewer.access, asked,
                                        datetime.now(UTC)))  # fmt: skip
    except LeadqError as exc:
        error = lang.gettext("Nothing was done: %(reason)s") % {"reason": str(exc)}
        return page(request, "bulk.html.j2", viewer, 422, error=error, **context)
    return page(request, "bulk.html.j2", viewer, report=report, **context)
