"""Who is signed in, what their role lets them do, and the CSRF check on every form.

Permissions live in one table shared with the API (``services.access.PERMISSIONS``); every
page and action names the permission it needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from leadq.services.people.access import Access
from leadq.services.people.users import Role, find_user
from leadq.store.db import Database

MAX_FORM_FIELD = 300_000
"""Longest form field: a scoring model document (256 kB) fits; each field has its own
limit besides."""
MAX_FORM_FIELDS = 2_000
"""Fields one form may post: the model editor's rows of a large model fit."""


class SignInRequired(Exception):
    """Raised by pages for a visitor without a session; answered with the login page."""

    def __init__(self, wanted: str) -> None:
        super().__init__(wanted)
        self.wanted = wanted


@dataclass(frozen=True)
class Viewer:
    username: str
    role: Role
    csrf: str
    language: str | None = None
    time_zone: str | None = None

    @property
    def access(self) -> Access:
        return Access(self.username, self.role, self.username)

    def may(self, permission: str) -> bool:
        return self.access.may(permission)


def local_path(value: str | None, fallback: str = "/inbox") -> str:
    """A redirect target on this server only: never another host (open redirect)."""
    if not value or len(value) > 2000 or "\x00" in value or "\\" in value:
        return fallback
    return value if value.startswith("/") and not value.startswith("//") else fallback


def _return_to(request: Request) -> str:
    """Where to go after signing in: this page, or for a form posted after the session ran
    out, the page the form was on (the form's address answers only POST)."""
    address = urlsplit(str(request.url))
    if request.method != "GET":
        address = urlsplit(request.headers.get("referer", ""))
        if address.netloc != request.url.netloc:
            return "/inbox"
    return local_path(address.path + (f"?{address.query}" if address.query else ""))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _user_of(db: Database, username: str,
             generation: int) -> tuple[Role, str | None, str | None] | None:  # fmt: skip
    """The user's role, language and time zone while the session's generation is still the
    user's, else None."""
    with db.reading() as session:
        user = find_user(session, username)
        if user is None or user.session_generation != generation:
            return None
        return Role(user.role), user.language, user.time_zone


def open_session(request: Request, username: str, generation: int) -> None:
    """A new session on sign-in: nothing carried over from before but the language picked
    on the sign-in page."""
    language = request.session.get("language")
    request.session.clear()
    if isinstance(language, str):
        request.session["language"] = language
    request.session["user"] = username
    request.session["generation"] = generation
    csrf_token(request)


async def viewer(request: Request) -> Viewer:
    """The signed-in person, checked against the users table on every request so that a
    disabled user, a new password or role, or a sign-out elsewhere ends the session at once."""
    username, generation = request.session.get("user"), request.session.get("generation")
    found = None
    if isinstance(username, str) and isinstance(generation, int):
        found = await run_in_threadpool(_user_of, request.app.state.db, username, generation)
    if found is None or not isinstance(username, str):
        request.session.pop("user", None)  # the CSRF token stays: the sign-in form needs it
        request.session.pop("generation", None)
        raise SignInRequired(_return_to(request))
    role, language, zone = found
    return Viewer(username, role, csrf_token(request), language, zone)


async def form(request: Request) -> FormData:
    """The posted form, refused unless it carries this session's CSRF token."""
    data = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    sent = data.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not secrets.compare_digest(
            sent, expected):  # fmt: skip
        raise HTTPException(403, "the form expired or did not come from this site; reload the page")
    for value in data.values():
        if isinstance(value, str) and len(value) > MAX_FORM_FIELD:
            raise HTTPException(413, f"a form field is over {MAX_FORM_FIELD} characters")
    return data


def require(permission: str) -> object:
    async def check(person: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if not person.may(permission):
            raise HTTPException(403, f"your role ({person.role}) may not do this")
        return person

    return Depends(check)


Signed = Annotated[Viewer, Depends(viewer)]
Form = Annotated[FormData, Depends(form)]
