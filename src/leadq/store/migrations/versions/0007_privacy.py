"""Privacy and security: API keys with a role, consent records and their cache on the lead,
erased leads, the lead an outbox message is about, and an append-only audit log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
APPEND_ONLY = "audit log entries are never changed or removed"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False,
                                   server_default="admin"))  # fmt: skip
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("consents", JSON, nullable=True))
        batch.add_column(sa.Column("do_not_email", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))  # fmt: skip
        batch.add_column(sa.Column("do_not_call", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))  # fmt: skip
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_lead_id", ["lead_id"])
    _outbox_leads()
    op.create_table(
        "consents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("wording_version", sa.String(60), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_consents_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_lead_id", "consents", ["lead_id"])
    _append_only_audit()


def _outbox_leads() -> None:
    """Messages written before the column existed name their lead in the payload."""
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("payload", JSON),
                      sa.column("lead_id", sa.Integer()))  # fmt: skip
    bind = op.get_bind()
    for message_id, payload in bind.execute(sa.select(outbox.c.id, outbox.c.payload)).all():
        lead = payload.get("lead") if isinstance(payload, dict) else None
        lead_id = lead.get("id") if isinstance(lead, dict) else None
        if isinstance(lead_id, int):
            bind.execute(outbox.update().where(outbox.c.id == message_id).values(lead_id=lead_id))


def _append_only_audit() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for change in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{change.lower()} BEFORE {change} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    op.drop_index("ix_consents_lead_id", table_name="consents")
    op.drop_table("consents")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_lead_id")
        batch.drop_column("lead_id")
    with op.batch_alter_table("leads") as batch:
        for column in ("erased_at", "do_not_call", "do_not_email", "consents"):
            batch.drop_column(column)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("role")
