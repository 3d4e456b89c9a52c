"""The benchmark workspace generator (bench/populate.py) stores what leadq itself would: every
lead's stored score, and the engagement points and purchases analytics reads, are what a fresh
evaluation of its events gives."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.tables import Event, Lead
from tests.conftest import fresh_database

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "populate.py"


def _populate() -> Any:
    spec = importlib.util.spec_from_file_location("populate_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_generated_workspace_holds_true_scores(request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:  # fmt: skip
    db = fresh_database("postgresql", request, tmp_path)
    url = db.engine.url.render_as_string(hide_password=False)
    _populate().main(["--url", url, "--leads", "600", "--events", "6000", "--chunk", "250"])
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 600
        assert session.scalar(select(func.count()).select_from(Event)) == 6000
        stored = {lead: score for lead, score in session.execute(select(Lead.id, Lead.score))}
        grades = set(session.scalars(select(Lead.grade).distinct()))
        engagement = dict(session.execute(select(Lead.id, Lead.engagement_points)).all())
        bought = session.scalar(select(func.count()).where(Lead.revenue > 0))
    assert len(grades) > 1 and len(set(stored.values())) > 5
    assert bought and set(engagement.values()) != {None}
    with db.unit_of_work() as session:
        changed = rescore_leads(session, list(stored), datetime.now(UTC), "check")
        rescored = dict(session.execute(select(Lead.id, Lead.engagement_points)).all())
        session.rollback()
    assert changed == 0 and rescored == engagement
