"""The audit log: one way to write who did what to which entity, and when, and to read it.

Entries are appended only (database triggers refuse changes), so details name fields, ids
and versions, never a personal value an erasure would have to remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.store.tables import AuditEntry


def record(session: Session, actor: str, action: str, entity: str, entity_id: object,
           details: dict[str, Any], at: datetime) -> None:  # fmt: skip
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                           details=details, at=at))  # fmt: skip


@dataclass(frozen=True)
class AuditQuery:
    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    """Keyset page: entries older than this id."""
    limit: int = 100


def entries(session: Session, query: AuditQuery) -> list[AuditEntry]:
    """Newest first, filtered by every given field."""
    found = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit)
    for name in ("entity", "entity_id", "actor", "action"):
        if (value := getattr(query, name)) is not None:
            found = found.where(getattr(AuditEntry, name) == value)
    if query.since is not None:
        found = found.where(AuditEntry.at >= query.since)
    if query.until is not None:
        found = found.where(AuditEntry.at < query.until)
    if query.before_id is not None:
        found = found.where(AuditEntry.id < query.before_id)
    return list(session.scalars(found))
