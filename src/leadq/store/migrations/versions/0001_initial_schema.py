"""Initial schema: companies, leads, events, stage history, audit log, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(60), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_entity", "audit_log", ["entity", "entity_id"])
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        _text("name", 255),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_companies"),
        sa.UniqueConstraint("domain", name="uq_companies_domain"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("email", 320),
        _text("phone", 40),
        _text("first_name", 100),
        _text("last_name", 100),
        _text("company", 255),
        _text("job_title", 255),
        _text("seniority", 20),
        sa.Column("seniority_inferred", sa.Boolean(), nullable=False),
        _text("department", 100),
        _text("industry", 100),
        sa.Column("company_size", sa.Integer(), nullable=True),
        sa.Column("annual_revenue", sa.Float(), nullable=True),
        sa.Column("company_founded_year", sa.Integer(), nullable=True),
        _text("funding_stage", 100),
        sa.Column("product_users", sa.Integer(), nullable=True),
        _text("country", 100),
        _text("region", 100),
        _text("city", 100),
        sa.Column("age", sa.Integer(), nullable=True),
        _text("gender", 100),
        _text("education", 100),
        _text("source", 100),
        _text("campaign", 255),
        _text("utm_source", 255),
        _text("utm_medium", 255),
        _text("utm_campaign", 255),
        _text("owner", 100),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        _text("grade", 20),
        _text("fit_grade", 2),
        _text("engagement_grade", 2),
        _text("scoring_model", 120),
        sa.Column("scored_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name="fk_leads_company_id_companies"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_leads"),
        sa.UniqueConstraint("email", name="uq_leads_email"),
        sa.UniqueConstraint("phone", name="uq_leads_phone"),
    )
    for column in ("company_id", "grade", "owner", "source", "stage"):
        op.create_index(f"ix_leads_{column}", "leads", [column])
    op.create_index("ix_leads_score_id", "leads", ["score", "id"])
    op.create_table(
        "events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        _text("channel", 100),
        _text("idempotency_key", 200),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_events_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("idempotency_key", name="uq_events_idempotency_key"),
    )
    op.create_index("ix_events_lead_occurred", "events", ["lead_id", "occurred_at"])
    op.create_table(
        "stage_history",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        _text("from_stage", 20),
        sa.Column("to_stage", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_stage_history_lead_id_leads"),
        sa.PrimaryKeyConstraint("id", name="pk_stage_history"),
    )
    op.create_index("ix_stage_history_lead_id", "stage_history", ["lead_id"])


def downgrade() -> None:
    for table in ("stage_history", "events", "leads", "companies", "audit_log", "api_keys"):
        op.drop_table(table)
