"""The manager's dashboard and the analytics tables: is qualification working?"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from leadq.i18n import Language
from leadq.reporting.analytics_page import write_csv
from leadq.services.analytics import dashboard, snapshots
from leadq.services.analytics import metrics as analytics
from leadq.services.analytics.metrics import Period
from leadq.services.monitoring import runs
from leadq.store.db import Database
from leadq.web.auth import Viewer, require
from leadq.web.render import page, reader

router = APIRouter(include_in_schema=False)
Manager = Annotated[Viewer, require("analytics.view")]
DIMENSIONS = [d for d in get_args(analytics.Dimension) if d != "total"]
By = Annotated[str, Query(pattern="^(" + "|".join(DIMENSIONS) + ")$")]


Day = Annotated[str | None, Query(max_length=10)]
MAX_DAYS = 3660
WEEKS_SHOWN = 12


def _range(lang: Language, since: str | None, until: str | None,
           ) -> tuple[date | None, date | None, str | None]:  # fmt: skip
    """The days asked for (either end may be open), or none and why not."""
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        return None, None, lang.gettext("A date reads like 2026-12-31: here is all time.")
    if first and last and (last < first or (last - first).days > MAX_DAYS):
        return None, None, lang.gettext("The range must end on or after its start, and span at "
                                        "most ten years: here is all time.")  # fmt: skip
    return first, last, None


def _period(first: date | None, last: date | None, zone: tzinfo) -> Period:
    """Whole days in the reader's time zone: from the start of ``first`` to the end of
    ``last``."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    return Period(midnight(first) if first else None,
                  midnight(last + timedelta(days=1)) if last else None)  # fmt: skip


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, viewer: Manager, fresh: bool = False, since: Day = None,
                   until: Day = None) -> HTMLResponse:  # fmt: skip
    """The kept dashboard of all time, or one computed now for the days asked for."""
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    now = datetime.now(UTC)
    first, last, error = _range(lang, since, until)
    today = now.astimezone(lang.zone).date()
    presets = [(lang.gettext("Last 30 days"), today - timedelta(days=29)),
               (lang.gettext("Last 90 days"), today - timedelta(days=89)),
               (lang.gettext("This year"), today.replace(month=1, day=1))]  # fmt: skip
    with db.reading() as session:
        standing = runs.standing(session)
    context: dict[str, Any] = {"since": first, "until": last, "error": error, "today": today,
                               "presets": presets, "standing": standing}  # fmt: skip
    if first is None and last is None:
        max_age = request.app.state.settings.dashboard_max_age_seconds
        kept = snapshots.current(db, now, max_age=max_age, fresh=fresh)
        return page(request, "dashboard.html.j2", viewer, charts=kept.dashboard,
                    as_of=kept.as_of, **context)  # fmt: skip
    period = _period(first, last, lang.zone)
    start = period.since or now - timedelta(weeks=WEEKS_SHOWN)
    days = ((period.until or now) - start).days
    weeks = max(1, min(dashboard.MAX_WEEKS, -(-days // 7)))
    with db.reading() as session:
        charts = dashboard.dashboard(session, now, weeks, period=period)
    return page(request, "dashboard.html.j2", viewer, charts=charts, as_of=now, **context)


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
