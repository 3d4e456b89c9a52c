"""The settings page: the configuration in force, and whether a file on the server is broken."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from leadq.domain.tracking import snippet as tracking_snippet
from leadq.services.automation.document import current_automation, standing
from leadq.services.errors import LeadqError
from leadq.services.intake import channels, mailbox, tracking
from leadq.web.auth import Form, Viewer, require
from leadq.web.render import back, flash, page, reader

router = APIRouter(include_in_schema=False)
PATHS = {"telegram": "telegram", "meta": "meta", "twilio": "calls/twilio",
         "zadarma": "calls/zadarma", "calls": "calls/generic"}  # fmt: skip
"""Where each webhook connector posts, under ``/api/v1/channels/`` (the inbox is read)."""
Manager = Annotated[Viewer, require("automation.view")]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, viewer: Manager) -> HTMLResponse:
    """The automation document in force: its rules, teams and endpoints, and, while the file
    is broken, since when and why (the last valid document keeps running meanwhile); website
    tracking: the sites allowed, the snippet to copy, the browsers seen last."""
    settings, db = request.app.state.settings, request.app.state.db
    with db.reading() as session:
        seen = tracking.latest_visitors(session)
        counted = tracking.pages_counted(session, datetime.now(UTC).date())
        known = {row.name: row for row in channels.standing(session)}
    host = str(request.base_url).rstrip("/")
    base = (settings.public_url or host).rstrip("/")
    connectors = [(name, bool(getattr(settings, secret)),
                   f"{base}/api/v1/channels/{PATHS.get(name, '')}", known.get(name))
                  for name, secret in channels.CONNECTORS.items()]  # fmt: skip
    return page(request, "settings.html.j2", viewer, automation=current_automation(),
                standing=standing(), origins=settings.tracking_origins,
                snippet=tracking_snippet(host), seen=seen, counted=counted,
                connectors=connectors)  # fmt: skip


@router.post("/settings/inbox")
async def test_inbox(request: Request, viewer: Manager, data: Form) -> RedirectResponse:
    """Sign in to the monitored inbox and open its folder, reading nothing."""
    lang = reader(request, viewer)
    try:
        await run_in_threadpool(mailbox.check, request.app.state.settings)
    except LeadqError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, lang.gettext("The inbox answered: signed in and its folder opened."))
    return back("/settings#channels")
