"""Templates, flash messages and redirects shared by the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from leadq import __version__
from leadq.web.auth import Viewer

_env = Environment(
    loader=FileSystemLoader(str(resources.files("leadq.web") / "templates")),
    autoescape=True,  # every value a lead typed is escaped, whatever the file name
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
)
templates = Jinja2Templates(env=_env)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def _merge_query(params: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (for page links)."""
    values = {k: v for k, v in params.items() if k not in changes}
    return urlencode({**values, **{k: str(v) for k, v in changes.items()}})


_env.filters.update(when=_when, percent=_percent, number=_number, merge_query=_merge_query)
_env.globals.update(version=__version__)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [*request.session.get("flash", [])[-4:], [kind, text[:500]]]


def page(request: Request, name: str, viewer: Viewer | None, status: int = 200,
         **context: Any) -> HTMLResponse:  # fmt: skip
    messages = request.session.pop("flash", [])
    values = {"viewer": viewer, "messages": messages, "path": request.url.path, **context}
    return templates.TemplateResponse(request, name, values, status_code=status)


def back(url: str) -> RedirectResponse:
    """After a form: see the result with a GET (a reload does not post twice)."""
    return RedirectResponse(url, status_code=303)
