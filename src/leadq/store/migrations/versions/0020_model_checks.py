"""Model checks: each run of ``leadq monitor`` appends the shift and calibration checks of the
active models, and marks the ones that raised an alarm.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_checks",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("model", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("details", JSON, nullable=False),
    )
    op.create_index("ix_model_checks_run_at", "model_checks", ["run_at"])
    op.create_index("ix_model_checks_model_run", "model_checks", ["model", "run_at"])


def downgrade() -> None:
    op.drop_table("model_checks")
