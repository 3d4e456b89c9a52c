"""The settings page: the configuration in force, and whether a file on the server is broken."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leadq.services.automation.document import current_automation, standing
from leadq.web.auth import Viewer, require
from leadq.web.render import page

router = APIRouter(include_in_schema=False)
Manager = Annotated[Viewer, require("automation.view")]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, viewer: Manager) -> HTMLResponse:
    """The automation document in force: its rules, teams and endpoints, and, while the file
    is broken, since when and why (the last valid document keeps running meanwhile)."""
    return page(request, "settings.html.j2", viewer, automation=current_automation(),
                standing=standing())  # fmt: skip
