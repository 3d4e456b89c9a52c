"""Signing in and out: a session cookie after an argon2 password check."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.http.throttle import Throttle
from leadq.logs import emit
from leadq.services.people.users import authenticate, sign_out_everywhere
from leadq.store.db import Database
from leadq.web.auth import Form, Signed, csrf_token, local_path, open_session
from leadq.web.render import back, page, reader

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request,
               next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
               ) -> HTMLResponse:  # fmt: skip
    csrf_token(request)
    return page(request, "login.html.j2", None, next_page=local_path(next_page), failed=False)


def _check(db: Database, username: str, password: str) -> int | None:
    """The user's session generation when the password is right, else None."""
    with db.reading() as session:
        user = authenticate(session, username, password)
        return None if user is None else user.session_generation


def _throttled(request: Request, username: object) -> int | None:
    """Seconds to wait when this address or this username tried too often, else None."""
    throttle: Throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    keys = [("address", address)]
    if isinstance(username, str):
        keys.append(("user", username.strip().lower()[:100]))
    over = [key for key in keys if not throttle.allow(*key)]
    return max(throttle.retry_after(*key) for key in over) if over else None


@router.post("/login", response_model=None)
async def sign_in(request: Request, data: Form) -> HTMLResponse | RedirectResponse:
    username, password = data.get("username"), data.get("password")
    wanted = data.get("next")
    target = local_path(wanted if isinstance(wanted, str) else None)
    wait = _throttled(request, username)
    if wait is not None:
        emit("sign_in_throttled", logging.WARNING, retry_after=wait)
        lang = reader(request, None)
        text = lang.gettext("too many sign-in attempts; try again in %(seconds)s s")
        raise HTTPException(429, text % {"seconds": wait}, {"Retry-After": str(wait)})
    valid = isinstance(username, str) and isinstance(password, str) and len(username) <= 100
    generation = None
    if valid:
        generation = await run_in_threadpool(_check, request.app.state.db, str(username),
                                             str(password))  # fmt: skip
    if generation is None:
        emit("sign_in_failed", logging.WARNING)  # never the name tried: it may be a password
        return page(request, "login.html.j2", None, 401, next_page=target, failed=True,
                    username=username if isinstance(username, str) else "")  # fmt: skip
    open_session(request, str(username), generation)
    return back(target)


def _sign_out_everywhere(db: Database, username: str) -> None:
    with db.unit_of_work() as session:
        sign_out_everywhere(session, username)


@router.post("/logout")
async def sign_out(request: Request, viewer: Signed, data: Form) -> RedirectResponse:
    """Ends this session and every other one of the user: a copied cookie is worth nothing."""
    await run_in_threadpool(_sign_out_everywhere, request.app.state.db, viewer.username)
    request.session.clear()
    return back("/login")
