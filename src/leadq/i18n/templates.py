"""Jinja2 in the reader's language: ``{% trans %}``, ``_()``, ``ngettext``/``pgettext`` and the
local-form filters read the ``lang`` (a ``Language``) of the page's context, English without
one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from leadq.i18n import Language

_ENGLISH = Language()


def language(context: Context) -> Language:
    found = context.get("lang")
    return found if isinstance(found, Language) else _ENGLISH


@pass_context
def _gettext(context: Context, message: str) -> str:
    return language(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return language(context).ngettext(singular, plural, count)


@pass_context
def _pgettext(context: Context, kind: str, message: str) -> str:
    return language(context).pgettext(kind, message)


def _unbroken(text: str) -> Markup:
    """A figure that never wraps inside itself (``4 534,45 zł`` is one number)."""
    return Markup('<span class="figure">%s</span>') % escape(text)


@pass_context
def _number(context: Context, value: float | None, digits: int = 0) -> Markup:
    return _unbroken(language(context).number(value, digits))


@pass_context
def _percent(context: Context, value: float | None, digits: int = 0) -> Markup:
    return _unbroken(language(context).percent(value, digits))


@pass_context
def _money(context: Context, value: float | None, currency: str | None = None) -> Markup:
    return _unbroken(language(context).money(value, currency))


@pass_context
def _when(context: Context, value: datetime | None) -> str:
    return language(context).when(value)


@pass_context
def _day(context: Context, value: date | datetime | None) -> str:
    return language(context).day(value)


@pass_context
def _label(context: Context, code: Any, kind: str = "", default: str | None = None) -> str:
    return "" if code is None else language(context).label(code, kind, default)


def install(env: Environment) -> None:
    """Give ``env`` the gettext calls and the filters ``number``, ``percent``, ``money``,
    ``when``, ``day`` and ``label``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext
    )
    env.filters.update(number=_number, percent=_percent, money=_money, when=_when, day=_day,
                       label=_label)  # fmt: skip
