"""Saved views: a segment remembers how the inbox shows it (sort, columns, closed leads) and
whose it is (a personal view names its user; a shared one names nobody); lists sort by owner
from an index on PostgreSQL.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # plain ADD / DROP COLUMN (SQLite 3.35+): a copied table could not be dropped while
    # segment_members refer to it
    op.add_column("segments", sa.Column("owner", sa.String(100), nullable=True))
    op.add_column("segments", sa.Column("view", JSON, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_leads_by_owner", "leads",
                        [sa.text("owner DESC NULLS LAST"), sa.text("id DESC")])  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_leads_by_owner", "leads")
    op.execute("ALTER TABLE segments DROP COLUMN view")
    op.execute("ALTER TABLE segments DROP COLUMN owner")
