"""The language switch in every page's header: kept on the user when signed in, in the
session before (the sign-in page)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.i18n import LANGUAGES, supported
from leadq.services.errors import LeadqError
from leadq.services.people.users import set_reading
from leadq.store.db import Database
from leadq.web.auth import Form, local_path, viewer
from leadq.web.render import back, flash

router = APIRouter(include_in_schema=False)


@router.post("/language")
async def choose_language(request: Request, data: Form) -> RedirectResponse:
    wanted, going = data.get("language"), data.get("next")
    chosen = supported(wanted) if isinstance(wanted, str) else None
    if chosen is None:
        raise HTTPException(422, f"language: must be one of {', '.join(LANGUAGES)}")
    request.session["language"] = chosen
    if "user" in request.session:
        person = await viewer(request)
        db: Database = request.app.state.db

        def keep(session: Session) -> None:
            set_reading(session, person.username, chosen, None, person.username,
                        datetime.now(UTC))  # fmt: skip

        try:
            await run_in_threadpool(db.run, keep)
        except LeadqError as exc:
            flash(request, str(exc), "error")
    return back(local_path(going if isinstance(going, str) else None))
