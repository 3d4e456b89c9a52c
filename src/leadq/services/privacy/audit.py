"""The audit log: one way to write who did what to which entity, and when, and to read it.

Entries are appended only (database triggers refuse changes), so an erasure could not remove a
personal value from them: details hold ids, numbers, yes/no, codes (``consent.recorded``,
``classic@2``, ``webform:website``) and digests. Any other text (a reason someone typed, a
consent's source) is stored as ``sha256:`` and its digest, so an entry still proves which text
it was without showing it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.privacy import text_digest
from leadq.store.tables import AuditEntry

CODE = re.compile(r"[a-z0-9_.:/-]{1,80}(@[0-9]{1,9})?")
"""Text kept as it is in details: lower-case tokens without spaces or ``@`` (field names, stages,
rule ids, ``name@version``); an e-mail address or a sentence never matches."""


digest = text_digest
"""The digest details keep of free text: the one erasure writes too."""


class Code(str):
    """Text of our own vocabulary (a refusal reason leadq wrote, a rule id): kept as it is."""

    __slots__ = ()


def coded(value: Any) -> Any:
    """The value with every text that is not a code replaced by its digest, nested included."""
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, str):
        return value if CODE.fullmatch(value) or value.startswith("sha256:") else digest(value)
    if isinstance(value, dict):
        return {str(k): coded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [coded(v) for v in value]
    return value


def record(session: Session, actor: str, action: str, entity: str, entity_id: object,
           details: dict[str, Any], at: datetime) -> None:  # fmt: skip
    session.add(AuditEntry(**entry(actor, action, entity, entity_id, details, at)))


def entry(actor: str, action: str, entity: str, entity_id: object, details: dict[str, Any],
          at: datetime) -> dict[str, Any]:  # fmt: skip
    """An entry as a row, for a caller that inserts many together (``store.sql.insert_rows``)."""
    return {"actor": actor, "action": action, "entity": entity, "entity_id": str(entity_id),
            "details": coded(details), "at": at}  # fmt: skip


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
