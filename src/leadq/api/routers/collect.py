"""The website tracking door: ``GET /t.js`` (the script sites embed) and the public
``POST /api/v1/collect`` it sends hits to, open only to the sites the workspace allows
(``LEADQ_TRACKING_ORIGINS``), rate-limited per address, bots answered and ignored."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.api.deps import Db, Now, Policy
from leadq.domain.tracking import Collected, is_bot, truncated_address
from leadq.http.throttle import Throttle
from leadq.logs import emit
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.tracking import Taken, collect

router = APIRouter(tags=["website tracking"])
script = APIRouter(include_in_schema=False)

COLLECT_BODY_LIMIT = 32 * 1024


@lru_cache(maxsize=1)
def _script() -> tuple[bytes, str]:
    body = (resources.files("leadq.tracking") / "t.js").read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


@script.get("/t.js")
def tracking_script(request: Request) -> Response:
    """The tracking script: cached for a day, revalidated by its hash."""
    body, tag = _script()
    headers = {"cache-control": "public, max-age=86400", "etag": f'"{tag}"',
               "access-control-allow-origin": "*"}  # fmt: skip
    if request.headers.get("if-none-match") == f'"{tag}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def _allowed(request: Request) -> str:
    """The page's origin if the workspace allows it; 403 otherwise (no CORS headers: the
    browser does not even show the answer to the page)."""
    origin = request.headers.get("origin", "")
    if origin not in request.app.state.settings.tracking_origins:
        raise HTTPException(403, "this site may not send tracking hits (LEADQ_TRACKING_ORIGINS)")
    return origin


def _cors(origin: str) -> dict[str, str]:
    return {"access-control-allow-origin": origin, "vary": "Origin"}


@router.options("/collect", include_in_schema=False)
def collect_preflight(request: Request) -> Response:
    headers = {**_cors(_allowed(request)), "access-control-allow-methods": "POST",
               "access-control-allow-headers": "content-type",
               "access-control-max-age": "86400"}  # fmt: skip
    return Response(status_code=204, headers=headers)


async def _batch(request: Request) -> Collected:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "malformed JSON") from None
    try:
        return Collected.model_validate(data)
    except ValidationError as exc:
        found = [FieldError(".".join(str(p) for p in e["loc"]) or "body", str(e["msg"]))
                 for e in exc.errors()[:20]]  # fmt: skip
        raise InvalidInput(found) from None


@router.post("/collect", status_code=202)
async def collect_hits(request: Request, db: Db, now: Now, policy: Policy) -> Response:
    """Hits from ``/t.js`` (sent as ``text/plain`` JSON, so no preflight): see
    README "Website tracking" for the body. Answers how many hits it took, never who the
    visitor is."""
    origin = _allowed(request)
    address = request.client.host if request.client else "unknown"
    throttle: Throttle = request.app.state.collect_throttle
    if not throttle.allow(address):
        wait = str(throttle.retry_after(address))
        emit("collect_throttled", logging.WARNING, retry_after=wait)
        raise HTTPException(429, f"too many hits; try again in {wait} s",
                            {"Retry-After": wait, **_cors(origin)})  # fmt: skip
    if is_bot(request.headers.get("user-agent")):
        return JSONResponse({"taken": 0}, status_code=202, headers=_cors(origin))
    batch = await _batch(request)
    network = truncated_address(address)
    identifies = any(e.get("type") == "identify" for e in batch.events)
    forms: Throttle = request.app.state.form_throttle
    if identifies and not forms.allow("identify", network or address):
        # an identify makes or joins a lead, as a web form does: the forms' limit, per network
        wait = str(forms.retry_after("identify", network or address))
        raise HTTPException(429, f"too many identifications; try again in {wait} s",
                            {"Retry-After": wait, **_cors(origin)})  # fmt: skip

    def work(session: Session) -> Taken:
        return collect(session, batch, network, now, policy)

    taken = await run_in_threadpool(db.run, work)
    return JSONResponse({"taken": taken.counted + taken.kept + taken.stored}, status_code=202,
                        headers=_cors(origin))  # fmt: skip
