"""Leads carry what analytics counts (first event, conversion, revenue, furthest stage,
engagement points), filled here from each lead's history and current score.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    sa.Column("first_event_at", sa.DateTime(), nullable=True),
    sa.Column("converted_at", sa.DateTime(), nullable=True),
    sa.Column("revenue", sa.Float(), nullable=True),
    sa.Column("furthest_stage", sa.String(length=20), nullable=True),
    sa.Column("engagement_points", sa.Float(), nullable=True),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("leads", column)
    from leadq.services.qualification import outcomes  # the same statements the services run

    session = Session(bind=op.get_bind())
    outcomes.refresh(session, None)
    outcomes.engagement_from_breakdowns(session)
    session.flush()


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("leads", column.name)  # SQLite drops a plain column in place
