"""Mount the web UI on the API's app: sessions, static files, pages and their errors."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadq.config import Settings
from leadq.http import errors
from leadq.store.db import Database
from leadq.store.secrets import workspace_secret
from leadq.web import (
    accounts,
    bulk,
    card,
    dashboard,
    duplicates,
    imports,
    inbox,
    language,
    login,
    models,
    monitor,
    thresholds,
)
from leadq.web import settings as settings_page
from leadq.web.auth import SignInRequired, Viewer, viewer
from leadq.web.render import page

API_PATHS = ("/api/", "/docs", "/redoc", "/openapi.json")
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [(b"content-security-policy", POLICY.encode()),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY")]  # fmt: skip


class PageHeaders:
    """Pages may load nothing from anywhere but this server, and may not be framed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PATHS):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _session_key(settings: Settings, db: Database) -> str:
    if settings.session_secret:
        return settings.session_secret
    with db.unit_of_work() as session:
        return workspace_secret(session, "session", datetime.now(UTC))


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?{urlencode({'next': exc.wanted})}", status_code=303)


async def _signed_in(request: Request) -> Viewer | None:
    """Who is signed in, if anyone: an error page keeps the navigation and the sign-out."""
    try:
        return await viewer(request)
    except SignInRequired:
        return None


async def _http_error(request: Request, exc: Exception) -> Response:
    """Pages answer errors with a page; the API keeps its JSON errors."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(API_PATHS):
        return errors.http_error(request, exc)
    response = page(request, "error.html.j2", await _signed_in(request), exc.status_code,
                    code=exc.status_code, detail=str(exc.detail))  # fmt: skip
    response.headers.update(exc.headers or {})
    return response


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith(API_PATHS):
        return errors.validation_error(request, exc)
    reasons = "; ".join(f"{errors.field_name(e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
    return page(request, "error.html.j2", await _signed_in(request), 422, code=422,
                detail=reasons)  # fmt: skip


@functools.cache
def _page_routes() -> tuple[BaseRoute, ...]:
    """The pages' routes, shared by every app of the process (see ``api.app._api_routes``)."""
    pages = APIRouter()
    for module in (login, language, inbox, bulk, card, dashboard, accounts, monitor, thresholds,
                   models, imports, duplicates, settings_page):  # fmt: skip
        pages.include_router(module.router)
    return tuple(pages.routes)


def install(app: FastAPI, settings: Settings, db: Database) -> None:
    app.add_middleware(PageHeaders)
    app.add_middleware(SessionMiddleware, secret_key=_session_key(settings, db),
                       session_cookie="leadq_session", max_age=int(settings.session_hours * 3600),
                       same_site="lax", https_only=settings.secure_cookies)  # fmt: skip
    app.mount("/static", StaticFiles(packages=[("leadq.web", "static")]), name="static")
    app.router.routes.extend(_page_routes())
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
