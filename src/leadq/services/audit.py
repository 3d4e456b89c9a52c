"""The audit log: one way to write who did what to which entity, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadq.store.tables import AuditEntry


def record(session: Session, actor: str, action: str, entity: str, entity_id: object,
           details: dict[str, Any], at: datetime) -> None:  # fmt: skip
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                           details=details, at=at))  # fmt: skip
