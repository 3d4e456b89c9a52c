"""Small dialect-aware statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, ColumnElement, any_, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from leadq.store.tables import Base, UTCDateTime, naive_utc


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


def update_by_id(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """``UPDATE`` many rows by ``id``, each with the same columns. On PostgreSQL the rows are
    copied into a staging table and applied in one ``UPDATE … FROM`` (an ``UPDATE`` per row
    costs a round of parsing and planning each); elsewhere an executemany."""
    if not rows:
        return
    if not on_postgres(session):
        session.execute(update(model), list(rows))
        return
    table, columns = str(model.__tablename__), model.__table__.c
    names = list(rows[0])
    staged = f"staged_{table}"
    listed = ", ".join(names)
    assigned = ", ".join(f"{name} = s.{name}" for name in names if name != "id")
    adapt = [_copied(columns[name].type) for name in names]
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS"
                   f" SELECT {listed} FROM {table} WITH NO DATA")  # fmt: skip
    with cursor.copy(f"COPY {staged} ({listed}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([to(row[name]) for to, name in zip(adapt, names, strict=True)])
    cursor.execute(f"UPDATE {table} AS t SET {assigned} FROM {staged} AS s WHERE t.id = s.id")
    cursor.execute(f"DROP TABLE {staged}")


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` many rows, each with the same columns, whose ids nobody needs back: on
    PostgreSQL one COPY (an ``INSERT`` of many rows is text the driver must parse whole),
    elsewhere an executemany."""
    if not rows:
        return
    if not on_postgres(session):
        session.execute(insert(model), list(rows))
        return
    names, columns = list(rows[0]), model.__table__.c
    adapt = [_copied(columns[name].type) for name in names]
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([to(row[name]) for to, name in zip(adapt, names, strict=True)])


def next_ids(session: Session, model: type[Base], count: int) -> list[int] | None:
    """``count`` ids from the table's sequence on PostgreSQL, in order, so that new rows can be
    inserted without asking for their ids back; None elsewhere (the database assigns them)."""
    if not on_postgres(session) or count == 0:
        return None
    query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    return sorted(session.scalars(query, {"table": model.__tablename__, "n": count}))


def _copied(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    """How a value of a column of this type is written into COPY: JSON as JSONB, moments as
    the naive UTC the column stores."""
    if isinstance(kind, JSON):
        return lambda value: None if value is None else Jsonb(value)
    if isinstance(kind, UTCDateTime):
        return lambda value: None if value is None else naive_utc(value)
    return lambda value: value


def distinct_values(session: Session, column: Any) -> list[Any]:
    """The column's distinct non-null values, read by skipping through its index (a recursive
    query, one index probe per value) instead of scanning every row as ``DISTINCT`` does."""
    table, name = column.table.name, column.name
    query = text(
        f"WITH RECURSIVE found(v) AS ("  # names: our own tables and columns, never input
        f" SELECT min({name}) FROM {table}"
        f" UNION ALL SELECT (SELECT min({name}) FROM {table} WHERE {name} > found.v)"
        f" FROM found WHERE found.v IS NOT NULL"
        f") SELECT v FROM found WHERE v IS NOT NULL"
    )
    return list(session.scalars(query))
