"""The tracked links of e-mails leadq sends to leads: ``/m/o/…gif`` (the open pixel),
``/m/c/…`` (a click, redirected to the address leadq signed) and ``/m/u/…`` (unsubscribe:
a page with a button, and the one-click POST of RFC 8058). No key: the signature is the
permission; a changed link is refused and never redirects."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from leadq.api.deps import Db, Now, Policy
from leadq.domain.mail_links import MAX_TOKEN, Link, machine_open
from leadq.services.intake import mail_tracking
from leadq.store.db import Database

router = APIRouter(prefix="/m", include_in_schema=False)
Token = Annotated[str, Path(max_length=MAX_TOKEN, pattern=r"^[A-Za-z0-9_.-]+$")]
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}
REFUSED = ("<!doctype html><html lang=en><meta charset=utf-8><title>leadq</title>"
           "<p>This link is not valid: it was changed, or it is not from us.</p>"
           "</html>")  # fmt: skip


async def _checked(db: Database, token: str, now: datetime,
                   step: Callable[[Session, Link], None] | None = None) -> Link | None:  # fmt: skip
    """The link, verified; ``step`` then runs in the same unit of work."""

    def work(session: Session) -> Link | None:
        link = mail_tracking.link_of(session, token, now)
        if link is not None and step is not None:
            step(session, link)
        return link

    return await run_in_threadpool(db.run, work)


@router.get("/o/{token}.gif")
async def open_pixel(request: Request, token: Token, db: Db, now: Now, policy: Policy) -> Response:
    machine = machine_open(request.headers.get("user-agent"))
    await _checked(db, token, now, lambda s, link: mail_tracking.opened(
        s, link, machine, now, policy) if link.kind == "open" else None)  # fmt: skip
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)  # a pixel whatever the link


@router.get("/c/{token}")
async def click(request: Request, token: Token, db: Db, now: Now, policy: Policy) -> Response:
    machine = machine_open(request.headers.get("user-agent"))

    def step(session: Session, link: Link) -> None:
        if link.kind == "click" and link.url:
            mail_tracking.clicked(session, link, machine, now, policy)

    link = await _checked(db, token, now, step)
    if link is None or link.kind != "click" or not link.url:  # never a redirect
        return HTMLResponse(REFUSED, status_code=400, headers=NO_STORE)
    return RedirectResponse(link.url, status_code=302, headers=NO_STORE)


@router.get("/u/{token}")
async def unsubscribe_page(token: Token, db: Db, now: Now) -> HTMLResponse:
    """A page with a button: a mail scanner following links must not unsubscribe anyone."""
    link = await _checked(db, token, now)
    if link is None or link.kind != "unsubscribe":
        return HTMLResponse(REFUSED, status_code=400, headers=NO_STORE)
    page = ("<!doctype html><html lang=en><meta charset=utf-8><title>Unsubscribe</title>"
            f'<form method="post" action="/m/u/{token}"><button name="List-Unsubscribe"'
            ' value="One-Click">Unsubscribe from these e-mails</button></form></html>')  # fmt: skip
    return HTMLResponse(page, headers=NO_STORE)


@router.post("/u/{token}")
async def unsubscribe(token: Token, db: Db, now: Now,
                      policy: Policy) -> HTMLResponse:  # fmt: skip
    """RFC 8058 one-click (the mail client's POST) or the page's button: marketing e-mail
    consent withdrawn."""

    def step(session: Session, link: Link) -> None:
        if link.kind == "unsubscribe":
            mail_tracking.unsubscribed(session, link, now, policy)

    link = await _checked(db, token, now, step)
    if link is None or link.kind != "unsubscribe":
        return HTMLResponse(REFUSED, status_code=400, headers=NO_STORE)
    done = ("<!doctype html><html lang=en><meta charset=utf-8><title>Unsubscribed</title>"
            "<p>You will get no more marketing e-mails from us.</p></html>")  # fmt: skip
    return HTMLResponse(done, headers=NO_STORE)
