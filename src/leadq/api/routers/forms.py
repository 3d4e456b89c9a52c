"""Public web-form endpoint: no API key, a small body limit, the form's own field names."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.api.deps import Db, Now, Policy
from leadq.api.schemas import ErrorOut
from leadq.domain.boundary import problems
from leadq.domain.leads import slug
from leadq.http.throttle import Throttle
from leadq.logs import emit
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.webforms import FormSpec, submit_form

router = APIRouter(prefix="/forms", tags=["web forms"])

FORM_BODY_LIMIT = 64 * 1024


async def _submitted(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise HTTPException(400, "malformed JSON") from None
        if not isinstance(data, dict):
            raise HTTPException(422, "a form submission is a JSON object")
        return data
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form(max_files=0, max_fields=200)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if found := [FieldError(field, reason) for field, reason in problems(fields)]:
            raise InvalidInput(found)  # multipart: url-encoded bodies were checked at the door
        return fields
    raise HTTPException(415, "send application/x-www-form-urlencoded, multipart/form-data or JSON")


@router.post(
    "/{source}",
    status_code=202,
    responses={
        404: {"model": ErrorOut},
        413: {"model": ErrorOut},
        422: {"model": ErrorOut},
        429: {"model": ErrorOut, "description": "Too many submissions from this address"},
        303: {"description": "Redirect to the form's thank-you page"},
    },
)
async def submit(source: str, request: Request, db: Db, now: Now, policy: Policy) -> Response:
    """Receive a website form. The answer never reveals whether the person was known."""
    throttle: Throttle = request.app.state.form_throttle
    address = request.client.host if request.client else "unknown"
    if not throttle.allow(address):
        wait = str(throttle.retry_after(address))
        emit("form_throttled", logging.WARNING, source=slug(source)[:63], retry_after=wait)
        raise HTTPException(429, f"too many submissions; try again in {wait} s",
                            {"Retry-After": wait})  # fmt: skip
    forms: dict[str, FormSpec] = request.app.state.forms
    spec = forms.get(slug(source))
    if spec is None:
        raise HTTPException(404, f"no web form for source {source!r}")
    submitted = await _submitted(request)

    def work(session: Session) -> None:
        submit_form(session, slug(source), spec, submitted, policy, now)

    await run_in_threadpool(db.run, work)
    if spec.redirect_to:
        return RedirectResponse(spec.redirect_to, status_code=303)
    return JSONResponse({"status": "received"}, status_code=202)
