"""SQLite's bulk insert (``store.sql.insert_rows``) converts values itself instead of through
SQLAlchemy's per-row processing: every table's rows must be stored as the same text, numbers and
NULLs as the table's own insert stores them, whatever the values and whichever columns are left
out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    Table,
    create_engine,
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadq.store.sql import insert_rows
from leadq.store.tables import Base, UTCDateTime

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
MODELS = sorted(Base.__subclasses__(), key=lambda model: model.__tablename__)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _values(column: Column[Any]) -> st.SearchStrategy[Any]:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        found: st.SearchStrategy[Any] = MOMENTS
    elif isinstance(kind, JSON):
        found = JSON_VALUES
    elif isinstance(kind, Boolean):
        found = st.booleans()
    elif isinstance(kind, Float):
        found = st.floats(allow_nan=False) | st.integers(-(2**53), 2**53)
    elif isinstance(kind, Integer):
        found = st.integers(-(2**62), 2**62)
    elif isinstance(kind, Date):
        found = st.dates()
    elif isinstance(kind, LargeBinary):
        found = st.binary(max_size=8)
    else:
        found = st.text(max_size=8)
    return st.none() | found if column.nullable else found


@st.composite
def _table_rows(draw: st.DrawFn) -> tuple[type[Base], list[dict[str, Any]]]:
    model = draw(st.sampled_from(MODELS))
    columns = list(_table(model).columns)
    may_go = [c for c in columns if _may_be_left_out(c)]
    gone = (
        set(draw(st.lists(st.sampled_from([c.name for c in may_go]), unique=True)))
        if may_go
        else set()
    )
    kept = [c for c in columns if c.name not in gone]
    rows = draw(
        st.lists(st.fixed_dictionaries({c.name: _values(c) for c in kept}), min_size=1, max_size=4)
    )
    return model, rows


def _may_be_left_out(column: Column[Any]) -> bool:
    """Nullable, or with a default SQLite or a constant gives (a computed one, like the time of
    the insert, is tested on its own)."""
    computed = column.default is not None and not column.default.is_scalar
    numbered = column is column.table.autoincrement_column
    given = column.default is not None or column.server_default is not None
    return not computed and (column.nullable or given or numbered)


def _stored(session: Session, model: type[Base]) -> list[tuple[Any, ...]]:
    """Each value as SQLite holds it: its storage class and its text."""
    names = [f'"{c.name}"' for c in model.__table__.columns]
    listed = ", ".join(f"typeof({n}), quote({n})" for n in names)
    cursor = session.connection().exec_driver_sql(
        f"SELECT {listed} FROM {model.__tablename__} ORDER BY rowid"
    )
    return [tuple(row) for row in cursor]


ENGINE = create_engine("sqlite://")  # one in-memory database, each example rolled back
Base.metadata.create_all(ENGINE)


def _outcome(insert_with: Any, model: type[Base], rows: list[dict[str, Any]]) -> Any:
    with Session(ENGINE) as session:
        try:
            insert_with(session, model, rows)
        except IntegrityError as exc:  # a NOT NULL or unique value the rows break: both must
            return type(exc.orig).__name__, str(exc.orig)
        return _stored(session, model)


def _the_tables_insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    session.execute(insert(_table(model)), rows)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table_rows())
def test_rows_are_stored_as_the_tables_own_insert_stores_them(
    table_rows: tuple[type[Base], list[dict[str, Any]]],
) -> None:
    model, rows = table_rows
    assert _outcome(insert_rows, model, rows) == _outcome(_the_tables_insert, model, rows)


def test_a_left_out_column_with_a_computed_default_gets_it() -> None:
    events = next(m for m in MODELS if m.__tablename__ == "events")
    before = datetime.now(UTC).replace(tzinfo=None)
    with Session(ENGINE) as session:
        row = {"lead_id": 1, "type": "page_view", "occurred_at": datetime(2026, 1, 2, tzinfo=UTC)}
        insert_rows(session, events, [row])
        received, properties = session.connection().exec_driver_sql(
            "SELECT received_at, properties FROM events").one()  # fmt: skip
    assert datetime.fromisoformat(received) >= before
    assert properties == "{}"
