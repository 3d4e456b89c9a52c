"""The migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from leadq.store.db import Database, alembic_config
from leadq.store.tables import Base


def test_migrated_schema_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        backend = connection.dialect.name

        def on_this_backend(item: Any, name: Any, kind: str, reflected: bool, other: Any) -> bool:
            """An index declared for one backend only (``ddl_if``) is compared there only."""
            only = getattr(getattr(item, "_ddl_if", None), "dialect", None)
            return only is None or only == backend

        options = {"compare_type": True, "include_object": on_this_backend}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_repeatable(db: Database) -> None:
    db.upgrade()  # already at head: nothing to do, nothing broken
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()


OLD_LEAD = (
    "INSERT INTO leads (id, stage, pql, channels, attributes, seniority_inferred, created_at, "
    "updated_at) VALUES (7, 'iql', 0, '[]', '{}', 0, '2026-01-01', '2026-01-01')"
)
OLD_MESSAGE = (
    "INSERT INTO outbox (channel, target, payload, idempotency_key, status, attempts, "
    "next_attempt_at, created_at) VALUES ('webhook', 'crm', :p, :k, 'pending', 0, '2026-01-01', "
    "'2026-01-01')"
)


def test_outbox_messages_from_before_0007_learn_their_lead(tmp_path: Path) -> None:
    """Erasure finds a lead's messages by ``outbox.lead_id``; older rows get it from their
    payload when the migration runs."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    payloads = ['{"lead": {"id": 7, "email": "a@b.pl"}}', '{"subject": "x"}']
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(text(OLD_LEAD))
        for n, payload in enumerate(payloads):
            connection.execute(text(OLD_MESSAGE), {"p": payload, "k": f"k{n}"})
    db.upgrade()
    with db.engine.connect() as connection:
        found = connection.execute(text("SELECT lead_id FROM outbox ORDER BY id")).scalars().all()
    assert found == [7, None]
    db.dispose()
