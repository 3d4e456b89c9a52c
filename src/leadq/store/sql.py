"""Small dialect-aware statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from leadq.store.tables import Base


def on_postgres(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (the statements that differ ask this)."""
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` that can take ``ON CONFLICT`` on the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"unsupported database: {dialect}")


def insert_ignoring_conflicts(session: Session, model: type[Base],
                              unique: str | tuple[str, ...]) -> Insert:  # fmt: skip
    """``INSERT … ON CONFLICT (cols) DO NOTHING``: the database settles races on unique keys."""
    columns = [unique] if isinstance(unique, str) else list(unique)
    return dialect_insert(session, model).on_conflict_do_nothing(index_elements=columns)


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter however many values
    (a thousand placeholders cost more to send and parse than the lookup itself)."""
    if not on_postgres(session):
        return column.in_(values)  # type: ignore[no-any-return]
    array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
    return column == any_(array)  # type: ignore[no-any-return]
