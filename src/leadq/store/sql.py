"""Small dialect-aware statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
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


def driver_cursor(session: Session) -> Any:
    """A cursor of the session's own psycopg connection, in its transaction: for COPY, and for
    arrays sent in binary (``%b`` placeholders), which the text format escapes element by
    element (``%s`` sends a list as text: a third of the time of a 30,000-row statement)."""
    return session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]


def update_by_id(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """``UPDATE`` many rows by ``id``, each with the same columns. On PostgreSQL one ``UPDATE …
    FROM unnest(arrays)``, a parameter per column however many rows (an ``UPDATE`` per row costs
    a round of parsing and planning each); elsewhere an executemany."""
    if not rows:
        return
    if not on_postgres(session):
        session.execute(update(model), list(rows))
        return
    names = list(rows[0])
    arrays, unnested = _arrays(session, model, names, rows)
    assigned = ", ".join(f"{n} = s.{n}{_json_cast(model, n)}" for n in names if n != "id")
    cursor = driver_cursor(session)
    cursor.execute(f"UPDATE {model.__tablename__} AS t SET {assigned} FROM unnest({unnested})"
                   f" AS s({', '.join(names)}) WHERE t.id = s.id", arrays)  # fmt: skip


def insert_unnested(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]],
                    unique: str) -> None:  # fmt: skip
    """``INSERT`` many rows in their order, skipping those whose ``unique`` column is taken
    (PostgreSQL: one statement of a parameter per column; elsewhere an executemany)."""
    if not rows:
        return
    if not on_postgres(session):
        session.execute(insert_ignoring_conflicts(session, model, unique), list(rows))
        return
    names = list(rows[0])
    arrays, unnested = _arrays(session, model, names, rows)
    selected = ", ".join(f"s.{n}{_json_cast(model, n)}" for n in names)
    cursor = driver_cursor(session)
    cursor.execute(f"INSERT INTO {model.__tablename__} ({', '.join(names)}) SELECT {selected}"
                   f" FROM unnest({unnested}) WITH ORDINALITY AS s({', '.join(names)}, n)"
                   f" ORDER BY s.n ON CONFLICT ({unique}) DO NOTHING", arrays)  # fmt: skip


def _arrays(session: Session, model: type[Base], names: list[str],
            rows: Sequence[Mapping[str, Any]]) -> tuple[list[list[Any]], str]:  # fmt: skip
    """Each column's values as one array, and the placeholders that send them in binary, typed
    (``%b::integer[], …``; JSON travels as text)."""
    columns, dialect = model.__table__.c, session.get_bind().dialect
    arrays, types = [], []
    for name in names:
        kind = columns[name].type
        if isinstance(kind, JSON):
            arrays.append([None if r[name] is None else json.dumps(r[name]) for r in rows])
            types.append("text")
            continue
        adapt = _copied(kind)
        values = [r[name] for r in rows]
        arrays.append(values if adapt is None else [_or_none(adapt, v) for v in values])
        types.append(kind.compile(dialect=dialect))
    return arrays, ", ".join(f"%b::{t}[]" for t in types)


def _json_cast(model: type[Base], name: str) -> str:
    return "::jsonb" if isinstance(model.__table__.c[name].type, JSON) else ""


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` many rows, each with the same columns, whose ids nobody needs back: on
    PostgreSQL one COPY (an ``INSERT`` of many rows is text the driver must parse whole),
    elsewhere an executemany."""
    if not rows:
        return
    if not on_postgres(session):
        _insert_sqlite(session, model, rows)
        return
    names, columns = list(rows[0]), model.__table__.c
    adapted = [(i, to) for i, name in enumerate(names) if (to := _copied(columns[name].type))]
    cursor = driver_cursor(session)
    listed = _listed(session.get_bind().dialect, names)
    with cursor.copy(f"COPY {model.__tablename__} ({listed}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i, to in adapted:  # most columns go as they are
                if values[i] is not None:
                    values[i] = to(values[i])
            copy.write_row(values)


def _insert_sqlite(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """SQLite: an executemany of values converted as the column types would convert them, a
    converter per column rather than SQLAlchemy's per-row parameter processing (a sixth of an
    events import's time). A column left out that has a default the application computes is
    filled by the table's own insert instead."""
    table: Table = model.__table__  # type: ignore[assignment]
    names = list(rows[0])
    if any(c.name not in rows[0] and c.default is not None for c in table.columns):
        # the table's insert: the ORM's would split rows by NULLs
        session.execute(insert(table), list(rows))
        return
    dialect = session.get_bind().dialect
    binders = [(i, to) for i, name in enumerate(names)
               if (to := _sqlite_binder(table.c[name].type, dialect))]  # fmt: skip
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i, to in binders:
            value[i] = to(value[i])
        values.append(tuple(value))
    marks = ", ".join("?" for _ in names)
    session.connection().exec_driver_sql(
        f"INSERT INTO {table.name} ({_listed(dialect, names)}) VALUES ({marks})", values
    )


def _listed(dialect: Any, names: list[str]) -> str:
    """Column names for a statement, quoted where the database would read a keyword."""
    return ", ".join(dialect.identifier_preparer.quote(name) for name in names)


def _sqlite_binder(kind: TypeEngine[Any], dialect: Any) -> Callable[[Any], Any] | None:
    """How SQLAlchemy would write a value of this type into SQLite; a moment directly as the
    text it stores (its own path takes three calls a value)."""
    if isinstance(kind, UTCDateTime):
        return _sqlite_moment
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _sqlite_moment(value: datetime | None) -> str | None:
    """A moment as SQLAlchemy's SQLite ``DATETIME`` stores it: naive UTC, always with
    microseconds (a moment in UTC already is written without its ``+00:00``)."""
    if value is None:
        return None
    if value.tzinfo is UTC:
        return value.isoformat(" ", "microseconds")[:26]
    return naive_utc(value).isoformat(" ", "microseconds")


def next_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """The ids the database would give ``count`` new rows, in order, so they can be inserted
    without asking for them back: PostgreSQL takes them from the table's sequence; SQLite
    gives the next integers past the largest (the transaction holds the database's write lock
    from its start, ``BEGIN IMMEDIATE``, so no other writer can take them meanwhile)."""
    if count == 0:
        return []
    if on_postgres(session):
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                     " FROM generate_series(1, :n)")  # fmt: skip
        return sorted(session.scalars(query, {"table": model.__tablename__, "n": count}))
    largest = session.scalar(select(func.max(model.__table__.c.id))) or 0
    return list(range(largest + 1, largest + 1 + count))


Rows = dict[type[Base], list[dict[str, Any]]]
"""Rows for several tables that no one reads back before they are inserted together."""


def insert_all(session: Session, rows: Rows) -> None:
    for model, table_rows in rows.items():
        insert_rows(session, model, table_rows)


def _copied(kind: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How a value (not NULL) of a column of this type is written into COPY or a binary
    array: JSON as JSONB, moments as the naive UTC the column stores, a float column's whole
    numbers as floats; None: as it is."""
    if isinstance(kind, JSON):
        return Jsonb
    if isinstance(kind, UTCDateTime):
        return naive_utc
    if isinstance(kind, Float):  # a binary array holds one type: whole numbers too
        return float
    return None


def _or_none(adapt: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else adapt(value)


def refresh_statistics(session: Session, *models: type[Base], columns: Sequence[str] = ()) -> None:
    """PostgreSQL: ``ANALYZE`` the tables, so a bulk load's later statements are planned for
    the rows now there (statistics taken when a table was nearly empty make a join with it a
    scan per row); the autovacuum would do it only minutes later. SQLite plans without them.
    ``columns`` limits it to those (the row count is refreshed all the same): the whole of
    ``leads`` also samples its JSON and its search index's expression, 1.2 s at 36,000 leads
    against 0.06 s for the columns a lookup needs."""
    if on_postgres(session):
        listed = f" ({', '.join(columns)})" if columns else ""
        for model in models:  # our own table and column names, never input
            session.execute(text(f"ANALYZE {model.__tablename__}{listed}"))


def compared_columns(model: type[Base]) -> tuple[str, ...]:
    """The columns a statement can filter, join or sort by: all but JSON (an ``ANALYZE`` of
    these leaves the JSON's statistics, and the search index's, to the next whole one)."""
    return tuple(c.name for c in model.__table__.columns if not isinstance(c.type, JSON))


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
