"""PostgreSQL keeps no statistics of a lead's score breakdown: no statement filters or sorts
by it, and sampling its JSON was a third of every ``ANALYZE leads`` (1.1 of 3.2 s at 36,000
leads), the one an import ends with and each of the autovacuum's.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE leads ALTER COLUMN score_breakdown SET STATISTICS 0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE leads ALTER COLUMN score_breakdown SET STATISTICS -1")
