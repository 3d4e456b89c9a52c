"""``leadq privacy`` as a user runs it, on a real SQLite file."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.e2e.test_cli import refused_in_one_line, run


def workspace(tmp_path: Path) -> tuple[Database, int, int]:
    """A fresh lead and one silent for three years."""
    run(tmp_path, "init")
    db = Database(f"sqlite:///{tmp_path / 'leadq.db'}")
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        fresh = upsert_lead(session, LeadInput(email="mila@firma.example", first_name="Mila"),
                            "tests", now, IntakePolicy()).lead.id  # fmt: skip
        silent = upsert_lead(session, LeadInput(email="old@firma.example"), "tests",
                             now - timedelta(days=3 * 365), IntakePolicy()).lead.id  # fmt: skip
    return db, fresh, silent


def test_export_erase_and_retain(tmp_path: Path) -> None:
    db, fresh, silent = workspace(tmp_path)
    exported = json.loads(run(tmp_path, "privacy", "export", str(fresh)).stdout)
    assert exported["profile"]["email"] == "mila@firma.example"
    run(tmp_path, "privacy", "export", str(fresh), "--out", "mila.json")
    written = tmp_path / "mila.json"
    assert json.loads(written.read_text("utf-8"))["lead_id"] == fresh
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # a person's data: owner only

    planned = run(tmp_path, "privacy", "retain", "--dry-run").stdout
    assert f"Dry run: 1 leads would be erased (ids: {silent})" in planned
    erased = run(tmp_path, "privacy", "erase", str(fresh), "--yes", "--reason", "DSR-1").stdout
    assert f"lead {fresh} erased" in erased
    again = run(tmp_path, "privacy", "erase", str(fresh), "--yes").stdout
    assert "already erased" in again
    done = run(tmp_path, "privacy", "retain", "--event-months", "1").stdout
    assert f"1 leads were erased (ids: {silent})" in done
    with db.reading() as session:
        left = session.scalars(select(Lead.email).where(Lead.erased_at.is_(None))).all()
    assert left == []
    db.dispose()


def test_mistakes_are_one_line_without_traceback(tmp_path: Path) -> None:
    db, fresh, _ = workspace(tmp_path)
    cases = [
        ("privacy", "export", "abc"),
        ("privacy", "export", "0"),
        ("privacy", "export", "99999999999"),
        ("privacy", "export", "424242"),
        ("privacy", "export", str(fresh), "--out", str(tmp_path / "no" / "such" / "dir.json")),
        ("privacy", "erase", str(fresh)),
        ("privacy", "erase", "424242", "--yes"),
        ("privacy", "erase", "1e3", "--yes"),
        ("privacy", "retain", "--inactive-months", "-3"),
        ("privacy", "retain", "--inactive-months", "abc"),
        ("privacy", "retain", "--event-months", "0"),
        ("privacy", "retain", "--event-months", "99999"),
    ]
    for args in cases:
        refused_in_one_line(run(tmp_path, *args, ok=False), args)
    refused = run(tmp_path, "privacy", "erase", str(fresh), ok=False).stderr
    assert "--yes" in refused
    with db.reading() as session:
        assert session.scalars(select(Lead.id).where(Lead.erased_at.is_not(None))).all() == []
    db.dispose()
