"""Small dialect-aware statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from leadq.store.tables import Base


def insert_ignoring_conflicts(session: Session, model: type[Base], unique_column: str) -> Insert:
    """``INSERT … ON CONFLICT (col) DO NOTHING``: the database settles races on unique keys."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=[unique_column])
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing(index_elements=[unique_column])
    raise NotImplementedError(f"unsupported database: {dialect}")
