"""Account scores: a company keeps its score, grade, engaged people and breakdown; each of its
leads keeps a copy of the account's grade and score for its own model to read.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ACCOUNT: list[sa.Column[object]] = [
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("grade", sa.String(20), nullable=True),
    sa.Column("engaged", sa.Integer(), nullable=True),
    sa.Column("people", sa.Integer(), nullable=True),
    sa.Column("score_breakdown", JSON, nullable=True),
    sa.Column("scoring_model", sa.String(120), nullable=True),
    sa.Column("scored_at", sa.DateTime(), nullable=True),
]


def upgrade() -> None:
    # plain ADD COLUMN (SQLite 3.35+): leads and companies are referred to by other tables
    for column in ACCOUNT:
        op.add_column("companies", column)
    op.add_column("leads", sa.Column("account_grade", sa.String(20), nullable=True))
    op.add_column("leads", sa.Column("account_score", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE leads DROP COLUMN account_score")
    op.execute("ALTER TABLE leads DROP COLUMN account_grade")
    for column in reversed(ACCOUNT):
        op.execute(f"ALTER TABLE companies DROP COLUMN {column.name}")
