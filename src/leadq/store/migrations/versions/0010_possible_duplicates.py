"""The e-mail is the identity: a phone no longer has to be unique (colleagues share a
switchboard), and leads that share one are kept apart as possible duplicates for a person to
review, merge (``leads.merged_into_id``, the record of what moved) or dismiss. Imports sent
over HTTP or the web page are runs with their progress, counts, rejects and warnings.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("leads") as table:
        table.drop_constraint("uq_leads_phone", type_="unique")
        table.create_index("ix_leads_phone", ["phone"])
        table.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_table(
        "possible_duplicates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("merge_record", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name="fk_possible_duplicates_lead_id_leads"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["leads.id"], name="fk_possible_duplicates_other_id_leads"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_possible_duplicates"),
        sa.UniqueConstraint("lead_id", "other_id", name="uq_possible_duplicates_lead_id"),
    )
    op.create_index("ix_possible_duplicates_other_id", "possible_duplicates", ["other_id"])
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("done_rows", sa.Integer(), nullable=False),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("rejects", sa.Text(), nullable=True),
        sa.Column("warnings", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_runs"),
    )
    op.create_index("ix_possible_duplicates_status", "possible_duplicates", ["status"])


def downgrade() -> None:
    op.drop_table("import_runs")
    op.drop_table("possible_duplicates")
    with op.batch_alter_table("leads") as table:
        table.drop_column("merged_into_id")
        table.drop_index("ix_leads_phone")
        table.create_unique_constraint("uq_leads_phone", ["phone"])
