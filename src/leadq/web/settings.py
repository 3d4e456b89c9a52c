"""The settings page: the configuration in force, and whether a file on the server is broken."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leadq.domain.tracking import snippet as tracking_snippet
from leadq.services.automation.document import current_automation, standing
from leadq.services.intake import tracking
from leadq.web.auth import Viewer, require
from leadq.web.render import page

router = APIRouter(include_in_schema=False)
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
    host = str(request.base_url).rstrip("/")
    return page(request, "settings.html.j2", viewer, automation=current_automation(),
                standing=standing(), origins=settings.tracking_origins,
                snippet=tracking_snippet(host), seen=seen, counted=counted)  # fmt: skip
