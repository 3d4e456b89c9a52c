"""Templates, flash messages and redirects shared by the pages."""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from leadq import __version__
from leadq.i18n import (
    LANGUAGE_NAMES,
    LANGUAGES,
    Language,
    negotiate,
    supported,
    time_zone,
)
from leadq.i18n.templates import install
from leadq.services.automation.document import current_automation
from leadq.services.automation.reactions import workspace_labels
from leadq.web.auth import Viewer

_env = Environment(
    loader=FileSystemLoader(str(resources.files("leadq.web") / "templates")),
    autoescape=True,  # every value a lead typed is escaped, whatever the file name
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.do"],
)
install(_env)
templates = Jinja2Templates(env=_env)


def _merge_query(params: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (for page links)."""
    values = {k: v for k, v in params.items() if k not in changes}
    return urlencode({**values, **{k: str(v) for k, v in changes.items()}})


_env.filters.update(merge_query=_merge_query)
_env.globals.update(version=__version__, languages=[(c, LANGUAGE_NAMES[c]) for c in LANGUAGES])


def reader(request: Request, viewer: Viewer | None) -> Language:
    """The viewer's language (their setting, else the one picked in this session, else the
    browser's, else the workspace's), in their time zone, money in the workspace currency."""
    settings = request.app.state.settings
    chosen = request.session.get("language")
    code = ((viewer.language if viewer else None)
            or supported(chosen if isinstance(chosen, str) else None)
            or negotiate(request.headers.get("accept-language"), settings.locale))  # fmt: skip
    zone = time_zone((viewer.time_zone if viewer else None) or settings.time_zone)
    labels = workspace_labels(request.app.state.rules, current_automation())
    return Language(code, zone, settings.currency, labels)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [*request.session.get("flash", [])[-4:], [kind, text[:500]]]


def page(request: Request, name: str, viewer: Viewer | None, status: int = 200,
         **context: Any) -> HTMLResponse:  # fmt: skip
    messages = request.session.pop("flash", [])
    values = {"viewer": viewer, "messages": messages, "path": request.url.path,
              "lang": reader(request, viewer), **context}  # fmt: skip
    return templates.TemplateResponse(request, name, values, status_code=status)


def back(url: str) -> RedirectResponse:
    """After a form: see the result with a GET (a reload does not post twice)."""
    return RedirectResponse(url, status_code=303)
