"""Versioned documents (scoring models, predictive models): numbering and ``name@version``."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.services.errors import NotFound
from leadq.store.tables import PredictiveModelVersion, ScoringModelVersion

MAX_VERSION = 2**31 - 1  # the version column is a 32-bit integer on PostgreSQL
Versioned = TypeVar("Versioned", ScoringModelVersion, PredictiveModelVersion)


def next_version(session: Session, table: type[Versioned], name: str) -> int:
    """Versions count up per name, from 1."""
    latest = session.scalar(select(func.max(table.version)).where(table.name == name))
    return (latest or 0) + 1


def every_version(session: Session, table: type[Versioned]) -> list[Versioned]:
    return list(session.scalars(select(table).order_by(table.name, table.version)))


def find_version(session: Session, table: type[Versioned], reference: str,
                 what: str) -> Versioned:  # fmt: skip
    """``name`` (newest version) or ``name@version``; ``NotFound`` names ``what``."""
    name, _, version = reference.partition("@")
    if "\x00" in name:  # PostgreSQL refuses NUL in text: no such name can exist
        raise NotFound(what, reference.replace("\x00", ""))
    query = select(table).where(table.name == name)
    if version:
        if not version.isdigit() or int(version) > MAX_VERSION:  # beyond the column: none
            raise NotFound(what, reference)
        query = query.where(table.version == int(version))
    row = session.scalars(query.order_by(table.version.desc())).first()
    if row is None:
        raise NotFound(what, reference)
    return row
