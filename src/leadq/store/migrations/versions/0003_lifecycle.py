"""Lifecycle: stage timing, acceptance and PQL on leads; overrides, framework answers, sales
feedback.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("stage_changed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("pql", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("pql_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("overrides", JSON, nullable=True))
    op.execute("UPDATE leads SET stage_changed_at = created_at")
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(20), nullable=True),
        sa.Column("stage", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(100), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_overrides_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_overrides"),
    )
    op.create_index("ix_overrides_lead_id", "overrides", ["lead_id"])
    op.create_table(
        "framework_answers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(40), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("value", JSON, nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_framework_answers_lead_id_leads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_framework_answers"),
    )
    op.create_index(
        "ix_framework_answers_lead_framework", "framework_answers", ["lead_id", "framework"]
    )
    op.create_table(
        "sales_feedback",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(60), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(20), nullable=True),
        sa.Column("model", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_sales_feedback_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_sales_feedback"),
    )
    op.create_index("ix_sales_feedback_lead_id", "sales_feedback", ["lead_id"])


def downgrade() -> None:
    for table in ("sales_feedback", "framework_answers", "overrides"):
        op.drop_table(table)
    with op.batch_alter_table("leads") as batch:
        for column in ("overrides", "pql_at", "pql", "accepted_at", "stage_changed_at"):
            batch.drop_column(column)
