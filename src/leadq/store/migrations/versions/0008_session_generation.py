"""Sessions that can be ended: a per-user session generation, raised by sign-out, a password
or role change and disabling; a web session carries the generation it was made in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("session_generation", sa.Integer(), nullable=False,
                                   server_default="0"))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("session_generation")
