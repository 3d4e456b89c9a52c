"""The review list of possible duplicates: leads that share a phone but not an e-mail, side by
side, to merge (one person) or dismiss (two people); a merge can be undone from the list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from leadq.http.params import PairPath
from leadq.services.errors import LeadqError
from leadq.services.intake import duplicates
from leadq.store.db import Database
from leadq.store.tables import Lead, PossibleDuplicate
from leadq.web.auth import Form, Viewer, require
from leadq.web.render import back, flash, page, reader

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Viewer, require("leads.write")]


@router.get("/duplicates", response_class=HTMLResponse)
def duplicates_page(request: Request, viewer: Reviewer) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        pairs = duplicates.open_pairs(session, 200)
        recent = (select(PossibleDuplicate).where(PossibleDuplicate.status == duplicates.MERGED)
                  .order_by(PossibleDuplicate.decided_at.desc()).limit(20))  # fmt: skip
        merged = list(session.scalars(recent))
        ids = {i for p in [*pairs, *merged] for i in (p.lead_id, p.other_id)}
        leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(ids)))}
        return page(request, "duplicates.html.j2", viewer, pairs=pairs, merged=merged,
                    leads=leads)  # fmt: skip


async def _decide(request: Request, action: str, pair_id: int, viewer: Viewer,
                  keep: int | None = None) -> RedirectResponse:  # fmt: skip
    db: Database = request.app.state.db
    now, who = datetime.now(UTC), viewer.username
    decide = {"merge": lambda s: duplicates.merge(s, pair_id, who, now, keep),
              "dismiss": lambda s: duplicates.dismiss(s, pair_id, who, now),
              "unmerge": lambda s: duplicates.unmerge(s, pair_id, who, now)}[action]  # fmt: skip
    try:
        await run_in_threadpool(db.run, decide)
    except LeadqError as exc:
        flash(request, str(exc), "error")
        return back("/duplicates")
    lang = reader(request, viewer)
    done = {"merge": lang.gettext("Pair %(id)s merged: one person"),
            "dismiss": lang.gettext("Pair %(id)s dismissed: two people"),
            "unmerge": lang.gettext("Pair %(id)s unmerged: two leads again")}  # fmt: skip
    flash(request, done[action] % {"id": pair_id})
    return back("/duplicates")


@router.post("/duplicates/{pair_id}/merge")
async def merge(request: Request, pair_id: PairPath, viewer: Reviewer,
                data: Form) -> RedirectResponse:  # fmt: skip
    keep = data.get("keep")
    chosen = int(keep) if isinstance(keep, str) and keep.isdigit() else None
    return await _decide(request, "merge", pair_id, viewer, chosen)


@router.post("/duplicates/{pair_id}/dismiss")
async def dismiss(request: Request, pair_id: PairPath, viewer: Reviewer,
                  data: Form) -> RedirectResponse:  # fmt: skip
    return await _decide(request, "dismiss", pair_id, viewer)


@router.post("/duplicates/{pair_id}/unmerge")
async def unmerge(request: Request, pair_id: PairPath, viewer: Reviewer,
                  data: Form) -> RedirectResponse:  # fmt: skip
    return await _decide(request, "unmerge", pair_id, viewer)
