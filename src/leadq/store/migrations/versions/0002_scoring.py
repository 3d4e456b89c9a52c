"""Scoring: model versions, score history, domain events, the breakdown cache on leads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Real-time rescoring reads a lead's events of a few types: index them that way.
    op.drop_index("ix_events_lead_occurred", table_name="events")
    op.create_index("ix_events_lead_type_occurred", "events", ["lead_id", "type", "occurred_at"])
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("score_breakdown", JSON, nullable=True))
    op.create_table(
        "scoring_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_models"),
        sa.UniqueConstraint("name", "version", name="uq_scoring_models_name_version"),
    )
    op.create_table(
        "score_history",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_score_history_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_score_history"),
    )
    op.create_index("ix_score_history_lead_id", "score_history", ["lead_id"])
    op.create_table(
        "domain_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_domain_events_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_domain_events"),
    )
    op.create_index("ix_domain_events_type", "domain_events", ["type"])
    op.create_index("ix_domain_events_lead_id", "domain_events", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_events_lead_type_occurred", table_name="events")
    op.create_index("ix_events_lead_occurred", "events", ["lead_id", "occurred_at"])
    for table in ("domain_events", "score_history", "scoring_models"):
        op.drop_table(table)
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("score_breakdown")
