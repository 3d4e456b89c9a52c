"""The rescoring queue: intake appends the leads its events touched, and drainers (the
server's own thread, ``leadq worker``) rescore them in micro-batches.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rescore_queue",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("first_event_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_rescore_queue_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_rescore_queue"),
    )
    op.create_index("ix_rescore_queue_lead_id", "rescore_queue", ["lead_id"])


def downgrade() -> None:
    op.drop_table("rescore_queue")
