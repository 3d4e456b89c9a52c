"""Lists of leads read their first page from an index in their own order on PostgreSQL
(highest first, empty last, newest lead first on a tie), instead of sorting every lead.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERS = {
    "ix_leads_by_score": "score",
    "ix_leads_by_probability": "probability",
    "ix_leads_by_created": "created_at",
    "ix_leads_by_activity": "last_activity_at",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in ORDERS.items():
        op.create_index(name, "leads", [sa.text(f"{column} DESC NULLS LAST"), sa.text("id DESC")])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ORDERS:
        op.drop_index(name, "leads")
