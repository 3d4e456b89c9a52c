"""The lead inbox: priority order, filters, search, "my leads" and quick actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from leadq.domain.lifecycle import Stage
from leadq.i18n import Language
from leadq.services.automation.segments import listing
from leadq.services.errors import LeadqError
from leadq.services.intake.leads import LeadFilter
from leadq.services.people.users import Role, list_users
from leadq.services.qualification.inbox import InboxQuery, Priority, inbox
from leadq.services.scoring.rescoring import active_model
from leadq.store.db import Database
from leadq.store.sql import distinct_values
from leadq.store.tables import Lead
from leadq.web.auth import Signed
from leadq.web.render import page, reader

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")]


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


def _options(db: Database) -> dict[str, list[str]]:
    """Values for the filter menus: what the workspace actually holds, grades in the active
    model's rank order (lowest first), then any other grade by name."""
    with db.reading() as session:
        model = active_model(session)
        rank = list(model.grades) if model else []

        def distinct(column: Any) -> list[str]:
            return sorted(str(v) for v in distinct_values(session, column))

        users = [u.username for u in list_users(session) if u.disabled_at is None
                 and u.role in (Role.rep, Role.manager, Role.admin)]  # fmt: skip
        grades = sorted(
            distinct(Lead.grade), key=lambda g: (rank.index(g) if g in rank else len(rank), g)
        )
        return {"grades": grades, "sources": distinct(Lead.source),
                "owners": sorted(set(distinct(Lead.owner)) | set(users)),
                "segments": [s["name"] for s in listing(session)],
                "stages": [s.value for s in Stage]}  # fmt: skip


def _unknown(lang: Language, options: dict[str, list[str]], grade: str | None,
             stage: str | None) -> list[str]:  # fmt: skip
    """Say so when a filter names a grade or stage no lead has (a typed or stale address):
    an empty list that looks like "no leads" would mislead."""
    said = []
    if grade and grade not in options["grades"]:
        said.append(lang.gettext("No lead has the grade “%(value)s”.") % {"value": grade})
    if stage and stage not in options["stages"]:
        said.append(lang.gettext("There is no stage “%(value)s”.") % {"value": stage})
    return said


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, viewer: Signed, q: Text = None, grade: Text = None,
               stage: Text = None, owner: Text = None, source: Text = None, segment: Text = None,
               overdue: bool = False, closed: bool = False, mine: bool | None = None,
               order: Priority = Priority.score,
               page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
               ) -> HTMLResponse:  # fmt: skip
    db: Database = request.app.state.db
    mine = viewer.role is Role.rep if mine is None else mine  # a rep starts on their own leads
    where = LeadFilter(stage=stage or None, grade=grade or None, source=source or None,
                       owner=viewer.username if mine else owner or None,
                       text=(q or "").strip() or None,
                       visible_to=viewer.access.owner)  # fmt: skip
    query = InboxQuery(where, segment or None, overdue, order, page_number, closed)
    error = None
    with db.reading() as session:
        try:
            found = inbox(session, query, datetime.now(UTC))
        except LeadqError as exc:
            found, error = None, str(exc)
    options = _options(db)
    notices = _unknown(reader(request, viewer), options, grade, stage)
    if found is not None and page_number > found.page:
        notices.append(reader(request, viewer).gettext(
            "Page %(asked)s is past the last one: here is page %(page)s.") % {
            "asked": page_number, "page": found.page})  # fmt: skip
    error = "; ".join([*([error] if error else []), *notices]) or None
    filters = {"q": q or "", "grade": grade or "", "stage": stage or "", "owner": owner or "",
               "source": source or "", "segment": segment or "", "overdue": overdue,
               "closed": closed, "mine": mine, "order": order.value}  # fmt: skip
    return page(request, "inbox.html.j2", viewer, found=found, error=error, filters=filters,
                options=options, reasons=request.app.state.rules.lifecycle.rejection,
                here=str(request.url.path) + (f"?{request.url.query}" if request.url.query
                                              else ""))  # fmt: skip
