"""The inbox stays fast on a big workspace: it counts leads only up to a cap (then says "N+"
and still pages on), and the filter menus read each field's distinct values through its index;
both must say the same as a full count and a plain DISTINCT would."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.qualification import inbox
from leadq.store.db import Database
from leadq.store.sql import distinct_values
from leadq.store.tables import Lead
from tests.web.conftest import Browser


def _leads(db: Database, now: datetime, count: int) -> None:
    with db.unit_of_work() as session:
        for i in range(count):
            source = [None, "web", "event", "Événement", "web"][i % 5]
            upsert_lead(session, LeadInput(email=f"p{i}@firm.example", source=source),
                        "tests", now, IntakePolicy())  # fmt: skip


def test_past_the_cap_the_count_says_plus_and_next_pages_on(
    browser: Browser, db: Database, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _leads(db, now, 7)
    assert "7 leads" in browser.get("/inbox")
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    monkeypatch.setattr(inbox, "PER_PAGE", 2)
    first = browser.get("/inbox")
    assert "3+ leads" in first and "page 1 of 2+" in first and "Next →" in first
    fourth = browser.get("/inbox?page=4")  # past the counted pages: still served
    assert fourth.count('data-lead="') == 1 and "Next →" not in fourth


def test_distinct_values_are_what_distinct_says(db: Database, now: datetime) -> None:
    _leads(db, now, 12)
    with db.reading() as session:
        plain = {str(v) for v in session.scalars(
            select(Lead.source).where(Lead.source.is_not(None)).distinct())}  # fmt: skip
        assert sorted(distinct_values(session, Lead.source)) == sorted(plain)
        assert len(plain) >= 3
        assert distinct_values(session, Lead.owner) == []  # nobody owns a lead yet
