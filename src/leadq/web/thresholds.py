"""Grade lines from sales capacity on the model page: ask, see the replay's proposal and its
curve, apply it as a new version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from leadq.domain.scoring.thresholds import Suggestion
from leadq.services.errors import LeadqError
from leadq.services.scoring import thresholds
from leadq.store.db import Database
from leadq.web.auth import Form
from leadq.web.models import Editor, show
from leadq.web.render import back, flash, reader

router = APIRouter(include_in_schema=False)
Capacity = Annotated[str, Query(min_length=1, max_length=40)]
Reference = Annotated[str, Query(max_length=80, pattern=r"^[\w.\-]+(@\d+)?$")]
Days = Annotated[int, Query(ge=0, le=3650)]
Share = Annotated[int, Query(ge=1, le=100)]


@dataclass(frozen=True)
class Asked:
    """What the person asked for, kept in the form and the apply button."""

    model: str
    capacity: str
    days: int = 7
    share: int = 80


def _propose(db: Database, asked: Asked) -> Suggestion:
    limit = thresholds.pace(asked.capacity)
    return db.run(lambda s: thresholds.propose(s, asked.model, limit, timedelta(days=asked.days),
                                               datetime.now(UTC), asked.share / 100))  # fmt: skip


@router.get("/models/thresholds", response_class=HTMLResponse)
async def suggest(request: Request, viewer: Editor, model: Reference, capacity: Capacity,
                  days: Days = 7, share: Share = 80) -> HTMLResponse:  # fmt: skip
    """The proposal for ``model`` at ``capacity``, beside the model being edited."""
    asked = Asked(model, capacity, days, share)
    try:
        found = await run_in_threadpool(_propose, request.app.state.db, asked)
    except LeadqError as exc:
        return show(request, viewer, 422, edit=model, asked=asked, lines_problem=str(exc))
    return show(request, viewer, edit=model, asked=asked, lines=found)


@router.post("/models/thresholds")
async def apply(request: Request, viewer: Editor, data: Form) -> RedirectResponse:
    """Replay again and add the model with the proposed lines as its next version."""
    db: Database = request.app.state.db
    lang = reader(request, viewer)
    try:
        asked = Asked(_text(data.get("model")), _text(data.get("capacity")),
                      _whole(data.get("days"), 3650), _whole(data.get("share"), 100))  # fmt: skip
        found = await run_in_threadpool(_propose, db, asked)
        row = await run_in_threadpool(db.run, lambda s: thresholds.apply(
            s, found.model, found, datetime.now(UTC), viewer.username))  # fmt: skip
    except (LeadqError, ValueError) as exc:
        flash(request, str(exc), "error")
        return back("/models")
    added = lang.gettext("%(model)s added with the suggested lines; activate it to score with it")
    flash(request, added % {"model": f"{row.name}@{row.version}"})
    return back(f"/models?edit={row.name}@{row.version}")


_RESENT = "the form was not sent as the page made it: ask for the lines again"


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 80 or "\x00" in value:
        raise ValueError(_RESENT)
    return value


def _whole(value: object, highest: int) -> int:
    text = _text(value)
    if not text.isascii() or not text.isdigit() or int(text) > highest:
        raise ValueError(_RESENT)
    return int(text)
