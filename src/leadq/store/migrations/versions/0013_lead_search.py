"""Search finds a lead by any part of its e-mail, name, company or phone, folded (lower case,
no accents) by ``leadq_search_text``; on PostgreSQL a trigram index answers it, so an address
among a million leads is found without reading them all. SQLite gets the same function from
the application when it connects.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from leadq.domain.search import ACCENTED, PLAIN, SQL_FUNCTION

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = "email, first_name, last_name, company, phone"


def _function() -> str:
    joined = " || ' ' || ".join(f"coalesce(${n}, '')" for n in range(1, 6))
    accented, plain = (text.replace("'", "''") for text in (ACCENTED, PLAIN))
    return (
        f"CREATE OR REPLACE FUNCTION {SQL_FUNCTION}(text, text, text, text, text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        f" AS $$ SELECT lower(translate({joined}, '{accented}', '{plain}')) $$"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(_function())
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        f"CREATE INDEX ix_leads_search ON leads USING gin ({SQL_FUNCTION}({PARTS}) gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_leads_search")
    op.execute(f"DROP FUNCTION {SQL_FUNCTION}(text, text, text, text, text)")
