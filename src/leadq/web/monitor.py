"""The history of the model checks: each run's shift and calibration checks, breaches and
the alarms they raised."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leadq.services.monitoring import runs
from leadq.store.db import Database
from leadq.web.dashboard import Manager
from leadq.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, viewer: Manager) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        checks = runs.recent_checks(session)
        standing = runs.standing(session)
    settings = request.app.state.settings
    return page(request, "monitor.html.j2", viewer, checks=checks, standing=standing,
                every=settings.monitor_every_hours)  # fmt: skip
