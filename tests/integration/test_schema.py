"""The migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from leadq.store.db import Database
from leadq.store.tables import Base


def test_migrated_schema_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_repeatable(db: Database) -> None:
    db.upgrade()  # already at head: nothing to do, nothing broken
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0007"
