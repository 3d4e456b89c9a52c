"""Predictive scoring: the model registry, and each lead's probability, score and reasons.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LEAD_COLUMNS = ("probability", "predictive_score", "predictive_reasons", "predictive_model")


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("predictive_score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("predictive_reasons", JSON, nullable=True))
        batch.add_column(sa.Column("predictive_model", sa.String(120), nullable=True))
    op.create_table(
        "predictive_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("role", sa.String(10), nullable=True),
        sa.Column("share", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_predictive_models"),
        sa.UniqueConstraint("name", "version", name="uq_predictive_models_name_version"),
    )


def downgrade() -> None:
    op.drop_table("predictive_models")
    with op.batch_alter_table("leads") as batch:
        for column in reversed(LEAD_COLUMNS):
            batch.drop_column(column)
