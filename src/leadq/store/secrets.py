"""Workspace secrets made on first use and kept in the database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from leadq.store.sql import insert_ignoring_conflicts
from leadq.store.tables import AppSecret


def workspace_secret(session: Session, name: str, now: datetime) -> str:
    """The secret called ``name``; the first caller makes it and concurrent first callers
    all end up with the one that was stored."""
    if (kept := session.get(AppSecret, name)) is not None:
        return kept.value  # every request after the first: a read, no write
    made = {"name": name, "value": secrets.token_urlsafe(48), "created_at": now}
    session.execute(insert_ignoring_conflicts(session, AppSecret, "name").values(made))
    row = session.get(AppSecret, name, populate_existing=True)
    assert row is not None
    return row.value
