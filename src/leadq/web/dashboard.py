"""The manager's dashboard and the analytics tables: is qualification working?"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from leadq.reporting.analytics_page import write_csv
from leadq.services.analytics import metrics as analytics
from leadq.services.analytics import snapshots
from leadq.store.db import Database
from leadq.web.auth import Viewer, require
from leadq.web.render import page, reader

router = APIRouter(include_in_schema=False)
Manager = Annotated[Viewer, require("analytics.view")]
DIMENSIONS = [d for d in get_args(analytics.Dimension) if d != "total"]
By = Annotated[str, Query(pattern="^(" + "|".join(DIMENSIONS) + ")$")]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, viewer: Manager, fresh: bool = False) -> HTMLResponse:
    db: Database = request.app.state.db
    max_age = request.app.state.settings.dashboard_max_age_seconds
    kept = snapshots.current(db, datetime.now(UTC), max_age=max_age, fresh=fresh)
    return page(request, "dashboard.html.j2", viewer, charts=kept.dashboard, as_of=kept.as_of)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, viewer: Manager, by: By = "source") -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        rows = analytics.metrics(session, by)  # type: ignore[arg-type]
    return page(request, "analytics.html.j2", viewer, by=by, rows=rows, dimensions=DIMENSIONS)


@router.get("/analytics.csv")
def analytics_csv(request: Request, viewer: Manager, by: By = "source") -> Response:
    db: Database = request.app.state.db
    with db.reading() as session:
        rows = analytics.metrics(session, by)  # type: ignore[arg-type]
    out = io.StringIO()
    write_csv(out, rows, reader(request, viewer))
    headers = {"content-disposition": f'attachment; filename="analytics-{by}.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
