"""An import of another CRM's history does not set automation off for every old lead: by
default rules react only to rows the file does not date; ``--automation`` and
``LEADQ_IMPORT_AUTOMATION`` say otherwise. Every lead's happenings are still recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadq.store.db import Database
from leadq.store.tables import DomainEvent, FollowUpTask, Lead
from tests.automation.documents import put_in_force
from tests.automation.test_reliability import ROUTED
from tests.cli import invoke

FILE = """email,first_name,created_at
old1@firm.example,Ala,2024-02-01
old2@firm.example,Ola,2025-06-30T10:00:00Z
new1@firm.example,Ela,
new2@firm.example,Iza,
old1@firm.example,Ala,
"""
"""Two leads another CRM dates, two it does not, and a dated lead met again without a date
(still history: once the file dates a person, the rules leave them alone)."""


def _owned_and_tasked(db: Database) -> tuple[set[str | None], set[str | None], int]:
    with db.reading() as session:
        owned = set(session.scalars(select(Lead.email).where(Lead.owner.is_not(None))))
        tasked = set(session.scalars(
            select(Lead.email).join(FollowUpTask, FollowUpTask.lead_id == Lead.id)))  # fmt: skip
        created = session.scalar(select(func.count()).select_from(DomainEvent).where(
            DomainEvent.type == "lead.created")) or 0  # fmt: skip
    return owned, tasked, created


@pytest.mark.parametrize(
    ("option", "env", "heard"),
    [
        ([], {}, {"new1@firm.example", "new2@firm.example"}),
        (["--automation", "all"], {}, {"old1@firm.example", "old2@firm.example",
                                       "new1@firm.example", "new2@firm.example"}),
        (["--automation", "none"], {}, set()),
        ([], {"LEADQ_IMPORT_AUTOMATION": "none"}, set()),
        (["--automation", "new-only"], {"LEADQ_IMPORT_AUTOMATION": "all"},
         {"new1@firm.example", "new2@firm.example"}),
    ],
)  # fmt: skip
def test_rules_react_to_the_rows_the_setting_names(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: list[str],
    env: dict[str, str], heard: set[str],
) -> None:  # fmt: skip
    put_in_force(monkeypatch, tmp_path, ROUTED)
    (tmp_path / "crm.csv").write_text(FILE, encoding="utf-8")
    environment = {"LEADQ_DATABASE_URL": db.url, **env}
    result = invoke(tmp_path, ["import", "leads", "crm.csv", *option], environment)
    assert result.returncode == 0, result.stderr
    owned, tasked, created = _owned_and_tasked(db)
    assert owned == heard and tasked == heard
    assert created == 4  # the facts are kept for every lead
    withheld = 4 - len(heard)
    assert (f"left alone {withheld} lead(s)" in result.stdout) == (withheld > 0)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_chunks_do_not_change_who_is_history(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row per transaction: the dated lead met again undated, chunks later, stays history."""
    monkeypatch.setattr("leadq.services.intake.imports.CHUNK_ROWS", 1)
    put_in_force(monkeypatch, tmp_path, ROUTED)
    (tmp_path / "crm.csv").write_text(FILE, encoding="utf-8")
    result = invoke(tmp_path, ["import", "leads", "crm.csv"], {"LEADQ_DATABASE_URL": db.url})
    assert result.returncode == 0, result.stderr
    owned, _, _ = _owned_and_tasked(db)
    assert owned == {"new1@firm.example", "new2@firm.example"}
