"""The lead inbox as a work list: priority or column order read by keyset, filters, search,
"my leads", saved views (segments) in the sidebar, the list exported, and quick and bulk
actions."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from leadq.domain.automation import SegmentFilter
from leadq.domain.lifecycle import Stage
from leadq.domain.worklist import BY_GRADE, SORTABLE, SORTS, ViewLayout, columns_from, toggled
from leadq.i18n import Language
from leadq.reporting.spreadsheets import csv_text, write_xlsx
from leadq.services.automation import segments
from leadq.services.errors import FieldError, InvalidInput, LeadqError
from leadq.services.intake.listing import LeadFilter
from leadq.services.people.users import Role, lead_owners
from leadq.services.qualification.bulk import BulkAction
from leadq.services.qualification.inbox import InboxPage, InboxQuery, every_lead, inbox
from leadq.services.scoring.rescoring import active_model
from leadq.store.db import Database
from leadq.store.sql import distinct_values
from leadq.store.tables import Lead
from leadq.web.auth import Form, Signed, Viewer
from leadq.web.render import flash, page, reader

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")]
LEGACY_ORDERS = {"score": "-score", "probability": "-probability", "both": BY_GRADE}
"""The ``order`` of addresses from before the list had sortable columns."""
EXPORTED = ("id", "first_name", "last_name", "email", "phone", "company", "job_title", "grade",
            "score", "probability", "stage", "owner", "source", "last_activity_at",
            "created_at")  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """What the inbox shows, as its address says: filters, order, columns, place."""

    q: str = ""
    grade: str = ""
    stage: str = ""
    owner: str = ""
    source: str = ""
    segment: str = ""
    overdue: bool = False
    closed: bool = False
    mine: bool = False
    sort: str = "-score"
    columns: list[str] = field(default_factory=lambda: columns_from(None))
    cursor: str | None = None
    back: bool = False

    def query(self, viewer: Viewer) -> InboxQuery:
        where = LeadFilter(stage=self.stage or None, grade=self.grade or None,
                           source=self.source or None,
                           owner=viewer.username if self.mine else self.owner or None,
                           text=self.q.strip() or None, visible_to=viewer.access.owner)  # fmt: skip
        return InboxQuery(where, self.segment or None, self.overdue, self.sort, self.cursor,
                          self.back, self.closed)  # fmt: skip

    def address(self, **changes: Any) -> str:
        """This list's query string with some parts changed (a place is dropped unless
        given: a new order or filter starts at the top)."""
        shown = replace(self, **{"cursor": None, "back": False, **changes})
        pairs: list[tuple[str, str]] = [
            (name, getattr(shown, name)) for name in ("q", "grade", "stage", "owner", "source",
                                                       "segment") if getattr(shown, name)
        ]  # fmt: skip
        pairs += [(flag, "true") for flag in ("overdue", "closed") if getattr(shown, flag)]
        pairs += [("mine", "true" if shown.mine else "false"), ("sort", shown.sort)]
        pairs += [("columns", ",".join(shown.columns))]
        if shown.cursor:
            pairs += [("cursor", shown.cursor)] + ([("back", "true")] if shown.back else [])
        return urlencode(pairs)

    def segment_filter(self, viewer: Viewer) -> SegmentFilter:
        """These filters as a segment's (a view saved from this list)."""
        owner = viewer.username if self.mine else self.owner
        return SegmentFilter.model_validate({
            "grade": [self.grade] if self.grade else None,
            "stage": [self.stage] if self.stage else None,
            "source": [self.source] if self.source else None,
            "owner": [owner] if owner else None,
            "text": self.q.strip() or None, "overdue": self.overdue or None})  # fmt: skip


def shown(viewer: Signed, q: Text = None, grade: Text = None, stage: Text = None,
          owner: Text = None, source: Text = None, segment: Text = None, overdue: bool = False,
          closed: bool = False, mine: bool | None = None, sort: Text = None, order: Text = None,
          columns: Annotated[list[str] | None, Query(max_length=20)] = None,
          cursor: Annotated[str | None, Query(max_length=500)] = None,
          back: bool = False) -> Shown:  # fmt: skip
    """The inbox's address read leniently: an order or column it does not know falls back to
    the default (a notice says so), so an old or edited link still opens a list."""
    chosen = sort or LEGACY_ORDERS.get(order or "", "")
    return Shown(q or "", grade or "", stage or "", owner or "", source or "", segment or "",
                 overdue, closed, viewer.role is Role.rep if mine is None else mine,
                 chosen if chosen in SORTS else "-score",
                 columns_from(",".join(columns or [])), cursor, back)  # fmt: skip


Showing = Annotated[Shown, Depends(shown)]


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


def _options(session: Session, viewer: Viewer) -> dict[str, Any]:
    """Values for the filter menus: what the workspace actually holds, grades in the active
    model's rank order (lowest first), then any other grade by name."""
    model = active_model(session)
    rank = list(model.grades) if model else []

    def distinct(column: Any) -> list[str]:
        return sorted(str(v) for v in distinct_values(session, column))

    users = lead_owners(session)
    grades = sorted(
        distinct(Lead.grade), key=lambda g: (rank.index(g) if g in rank else len(rank), g)
    )
    views = segments.views_of(session, viewer.username)
    usable = [s["name"] for s in segments.listing(session)
              if s["owner"] in (None, viewer.username)]  # fmt: skip
    return {"grades": grades, "sources": distinct(Lead.source),
            "owners": sorted(set(distinct(Lead.owner)) | set(users)), "users": sorted(users),
            "segments": usable, "views": views, "stages": [s.value for s in Stage],
            "model_grades": list(reversed(rank))}  # fmt: skip


def _notices(lang: Language, options: dict[str, Any], shown: Shown, asked_sort: str | None,
             ) -> list[str]:  # fmt: skip
    """Say so when a filter names a grade or stage no lead has (a typed or stale address),
    or an order the list does not have: an empty list that looks like "no leads" misleads."""
    said = []
    if shown.grade and shown.grade not in options["grades"]:
        said.append(lang.gettext("No lead has the grade “%(value)s”.") % {"value": shown.grade})
    if shown.stage and shown.stage not in options["stages"]:
        said.append(lang.gettext("There is no stage “%(value)s”.") % {"value": shown.stage})
    if asked_sort and asked_sort != shown.sort:
        said.append(lang.gettext("There is no order “%(value)s”: here is the list by score.")
                    % {"value": asked_sort})  # fmt: skip
    return said


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, viewer: Signed, showing: Showing) -> HTMLResponse:
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    found: InboxPage | None = None
    error = None
    with db.reading() as session:
        try:
            found = inbox(session, showing.query(viewer), datetime.now(UTC))
            if showing.segment:  # another person's personal view is not found
                segments.usable(session, showing.segment, viewer.username)
        except LeadqError as exc:
            error = _said(lang, exc)
        options = _options(session, viewer)
    asked = request.query_params.get("sort")
    notices = _notices(lang, options, showing, asked)
    error = "; ".join([*([error] if error else []), *notices]) or None
    return page(request, "inbox.html.j2", viewer, found=found, error=error, shown=showing,
                options=options, reasons=request.app.state.rules.lifecycle.rejection,
                move_reasons=request.app.state.rules.lifecycle.reasons,
                sortable=SORTABLE, toggled=toggled, bulk_actions=list(BulkAction),
                view_link=view_link,
                here=str(request.url.path) + (f"?{request.url.query}" if request.url.query
                                              else ""))  # fmt: skip


def _said(lang: Language, exc: LeadqError) -> str:
    """A human sentence for what the list could not read (a cursor from an old link, a
    segment someone removed)."""
    if isinstance(exc, InvalidInput) and exc.errors and exc.errors[0].field == "cursor":
        return lang.gettext("This page link no longer works: start from the first page.")
    return str(exc)


# -- export ------------------------------------------------------------------------------------


def _rows(leads: Iterator[Lead]) -> Iterator[list[Any]]:
    for lead in leads:
        yield [getattr(lead, name) for name in EXPORTED]


def _exported(db: Database, query: InboxQuery) -> Iterator[Lead]:
    """The view's leads in its order, all pages, read in chunks by one session that lives as
    long as the download."""
    with db.reading() as session:
        yield from every_lead(session, query, datetime.now(UTC))


@router.get("/inbox/export.{kind}", response_model=None)
def export(request: Request, kind: Literal["csv", "xlsx"], viewer: Signed, showing: Showing,
           lead: Annotated[list[int] | None, Query(max_length=1000)] = None,
           ) -> StreamingResponse | FileResponse:  # fmt: skip
    """The list as it is shown, every page of it (or the selected ``lead``s), as CSV in the
    reader's spreadsheet dialect or as XLSX; cells are never formulas."""
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    with db.reading() as session:  # a segment that is not theirs: refused before a file starts
        try:
            if showing.segment:
                segments.usable(session, showing.segment, viewer.username)
        except LeadqError as exc:
            raise HTTPException(404, str(exc)) from None
    query = replace(showing.query(viewer), cursor=None, only=tuple(lead or ()))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    named = re.sub(r"[^a-z0-9_-]", "", showing.segment)[:63] or "inbox"
    name = f"leads-{named}-{stamp}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "csv":
        text = csv_text(EXPORTED, _rows(_exported(db, query)), lang)
        return StreamingResponse((piece.encode() for piece in text), headers=disposition,
                                 media_type="text/csv; charset=utf-8")  # fmt: skip
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        path = Path(handle.name)
    write_xlsx(path, EXPORTED, _rows(_exported(db, query)), lang)
    return FileResponse(path, filename=name, background=BackgroundTask(path.unlink),
                        media_type="application/vnd.openxmlformats-officedocument."
                                   "spreadsheetml.sheet")  # fmt: skip


# -- saved views -------------------------------------------------------------------------------


@router.post("/inbox/views")
def save_view(request: Request, viewer: Signed, data: Form) -> RedirectResponse:
    """Save the list as it is shown as a segment, personal or (for those who may) shared,
    and open it."""
    lang = reader(request, viewer)
    showing = shown(viewer, **_form_filters(data))
    name = str(data.get("name") or "").strip().lower()
    shared = data.get("shared") == "on"
    db: Database = request.app.state.db
    try:
        if shared and not viewer.may("automation.view"):
            raise InvalidInput([FieldError("shared", "only managers, marketing and admins "
                                                     "share views")])  # fmt: skip
        if showing.segment:
            raise InvalidInput([FieldError("segment", "this list is a view already; clear the "
                                                      "segment to save a new one")])  # fmt: skip
        layout = ViewLayout.model_validate(
            {"sort": showing.sort, "columns": showing.columns, "closed": showing.closed}
        )
        spec = showing.segment_filter(viewer)
        db.run(lambda s: segments.save_view(s, name, spec, layout,
                                            None if shared else viewer.username,
                                            viewer.username, datetime.now(UTC)))  # fmt: skip
    except (LeadqError, ValidationError) as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(f"/inbox?{showing.address()}", status_code=303)
    flash(request, lang.gettext("View “%(name)s” saved") % {"name": name})
    opened = replace(Shown(), segment=name, sort=showing.sort, columns=showing.columns,
                     closed=showing.closed)  # fmt: skip
    return RedirectResponse(f"/inbox?{opened.address()}", status_code=303)


def _form_filters(data: Any) -> dict[str, Any]:
    """The list's address as hidden fields of a form, read like the address."""

    def text(name: str) -> str | None:
        value = data.get(name)
        return value[:200] if isinstance(value, str) and "\x00" not in value else None

    flags = {name: data.get(name) == "true" for name in ("overdue", "closed")}
    return {**{name: text(name) for name in ("q", "grade", "stage", "owner", "source",
                                             "segment", "sort")},
            **flags, "mine": data.get("mine") == "true",
            "columns": [text("columns") or ""]}  # fmt: skip


def view_link(view: Any) -> str:
    layout = ViewLayout.model_validate(view.view or {})
    opened = Shown(segment=view.name, sort=layout.sort, columns=list(layout.columns),
                   closed=layout.closed)  # fmt: skip
    return f"/inbox?{opened.address()}"
