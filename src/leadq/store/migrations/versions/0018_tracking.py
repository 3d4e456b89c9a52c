"""Website tracking: visitors who consented, their hits until they are known, and cookieless
page counts.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "visitors",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("network", sa.String(45), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_visitors_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_visitors"),
    )
    op.create_index("ix_visitors_lead_id", "visitors", ["lead_id"])
    op.create_index("ix_visitors_last_seen_at", "visitors", ["last_seen_at"])
    op.create_table(
        "visitor_hits",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("visitor_id", sa.String(32), nullable=False),
        sa.Column("hit", sa.String(40), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name="fk_visitor_hits_visitor_id_visitors"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_visitor_hits"),
        sa.UniqueConstraint("visitor_id", "hit", name="uq_visitor_hits_visitor_hit"),
    )
    op.create_index("ix_visitor_hits_visitor_id", "visitor_hits", ["visitor_id"])
    op.create_table(
        "page_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "path", name="pk_page_counts"),
    )


def downgrade() -> None:
    op.drop_table("page_counts")
    op.drop_index("ix_visitor_hits_visitor_id", "visitor_hits")
    op.drop_table("visitor_hits")
    op.drop_index("ix_visitors_last_seen_at", "visitors")
    op.drop_index("ix_visitors_lead_id", "visitors")
    op.drop_table("visitors")
