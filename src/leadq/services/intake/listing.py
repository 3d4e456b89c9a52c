"""Lists of leads read by keyset: a filter, a sort on one column, and cursors that say where a
page ends (or begins), so a page costs the same at lead 50 as at lead 500,000."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import Function

from leadq.domain.ids import canonical_id
from leadq.domain.search import SQL_FUNCTION, pattern
from leadq.services.errors import FieldError, InvalidInput
from leadq.store.tables import Lead

SORTS: dict[str, tuple[Any, bool]] = {
    f"{'-' if descending else ''}{column.key}": (column, descending)
    for column in (Lead.score, Lead.probability, Lead.last_activity_at, Lead.created_at,
                   Lead.owner)
    for descending in (True, False)
}  # fmt: skip
"""Every sort a list offers: a column, highest (``-``) or lowest first; empty values last."""

_MOMENTS = ("created_at", "last_activity_at")


@dataclass(frozen=True)
class LeadFilter:
    stage: str | None = None
    grade: str | None = None
    owner: str | None = None
    source: str | None = None
    text: str | None = None
    visible_to: str | None = None
    """A rep's name: only their leads and unassigned ones."""

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [
            getattr(Lead, name) == value
            for name in ("stage", "grade", "owner", "source")
            if (value := getattr(self, name)) is not None
        ]
        if self.visible_to is not None:
            found.append(or_(Lead.owner.is_(None), Lead.owner == self.visible_to))
        if self.text:
            found.append(text_matches(self.text))
        return found


def text_matches(text: str) -> ColumnElement[bool]:
    """The search box: the typed text anywhere in the lead's folded name, e-mail, phone or
    company (``domain.search``)."""
    typed = pattern(text)
    like = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    parts = (Lead.email, Lead.first_name, Lead.last_name, Lead.company, Lead.phone)
    return Function(SQL_FUNCTION, *parts, type_=String()).like(like, escape="\\")


@dataclass(frozen=True)
class Page:
    leads: list[Lead]
    next_cursor: str | None


def list_leads(
    session: Session,
    where: LeadFilter,
    sort: str = "-score",
    limit: int = 50,
    cursor: str | None = None,
    extra: list[ColumnElement[bool]] | None = None,
) -> Page:
    """Keyset pagination, empty values last: stable pages however many leads arrive."""
    query = select(Lead).where(*where.conditions(), *(extra or []))
    if cursor is not None:
        query = query.where(after(sort, *decode(cursor, sort)))
    leads = list(session.scalars(query.order_by(*ordering(sort)).limit(limit + 1)))
    more = len(leads) > limit
    leads = leads[:limit]
    return Page(leads, encode(sort, leads[-1]) if more else None)


def listing(where: LeadFilter, sort: str, limit: int, cursor: str | None = None) -> Select[Any]:
    """The query of one page (one more lead than shown tells whether another page follows)."""
    query = select(Lead).where(*where.conditions())
    if cursor is not None:
        query = query.where(after(sort, *decode(cursor, sort)))
    return query.order_by(*ordering(sort)).limit(limit)


def ordering(sort: str, backwards: bool = False) -> list[Any]:
    """``ORDER BY`` of a sort, as its list index reads it: empty values last, ties by id; read
    ``backwards`` (empty first) to find the page before a cursor."""
    column, descending = SORTS[sort]
    if backwards:
        return [(column.asc() if descending else column.desc()).nulls_first(),
                Lead.id.asc() if descending else Lead.id.desc()]  # fmt: skip
    return [(column.desc() if descending else column.asc()).nulls_last(),
            Lead.id.desc() if descending else Lead.id.asc()]  # fmt: skip


def after(sort: str, value: Any, last_id: int) -> ColumnElement[bool]:
    """Leads that come after (``value``, ``last_id``) in the sort's order."""
    column, descending = SORTS[sort]
    beyond_id = Lead.id < last_id if descending else Lead.id > last_id
    if value is None:
        return and_(column.is_(None), beyond_id)
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, beyond_id), column.is_(None))


def before(sort: str, value: Any, last_id: int) -> ColumnElement[bool]:
    """Leads that come before (``value``, ``last_id``) in the sort's order."""
    column, descending = SORTS[sort]
    earlier_id = Lead.id > last_id if descending else Lead.id < last_id
    if value is None:
        return or_(column.is_not(None), and_(column.is_(None), earlier_id))
    earlier = column > value if descending else column < value
    return or_(earlier, and_(column == value, earlier_id))


def encode(sort: str, lead: Lead, *prefix: int) -> str:
    """A cursor at ``lead`` in ``sort``; ``prefix`` holds a caller's own place (a bucket)."""
    value = getattr(lead, SORTS[sort][0].key)
    raw = json.dumps([*prefix, value.isoformat() if isinstance(value, datetime) else value,
                      lead.id])  # fmt: skip
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, prefix: int = 0) -> tuple[Any, int]:
    """The (value, id) of a cursor this sort's listing returned; refused as input otherwise."""
    value, lead_id = decode_place(cursor, sort, prefix)[prefix:]
    return value, lead_id


def decode_place(cursor: str, sort: str, prefix: int) -> tuple[Any, ...]:
    """A cursor's ``prefix`` integers, then its value and id."""
    key = SORTS[sort][0].key
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != prefix + 2:
            raise ValueError("not a cursor")
        *place, value, lead_id = raw
        if not all(type(p) is int and 0 <= p <= 1000 for p in place):
            raise ValueError("not a place")
        lead_id = canonical_id(lead_id)
        if value is not None and key in _MOMENTS:
            value = datetime.fromisoformat(value)
        elif key == "owner":
            if value is not None and not isinstance(value, str):
                raise ValueError("not a name")
        elif value is not None:
            value = float(value)  # scores and probabilities are floats; refuses text
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput([FieldError("cursor", "not a cursor this listing returned")]) from None
    return (*place, value, lead_id)
