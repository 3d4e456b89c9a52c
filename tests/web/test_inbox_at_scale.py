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
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
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


@pytest.mark.parametrize("order", ["both", "probability", "score"])
def test_every_page_in_each_order_is_the_next_slice_of_one_sorted_list(
    db: Database, now: datetime, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """Grades best first (then leads of no or another model's grade), by probability within a
    grade: read grade by grade, page after page, it must be one sorted list cut in pages."""
    _, document = read_model("classic")
    with db.unit_of_work() as session:
        activate(session, add_model(session, document, "classic.yaml", now).name, now)
    _leads(db, now, 23)
    grades = ["hot", "warm", "cold", None, "gold"]  # "gold": a grade of no model in force
    with db.unit_of_work() as session:
        for lead in session.scalars(select(Lead).order_by(Lead.id)):
            lead.grade = grades[lead.id % 5]
            lead.probability = None if lead.id % 4 == 0 else round((lead.id * 37 % 11) / 11, 2)
            lead.score = lead.id % 7 * 10 if lead.id % 6 else None
    monkeypatch.setattr(inbox, "PER_PAGE", 4)
    with db.reading() as session:
        everyone = list(session.scalars(select(Lead)))
        rank = {"hot": 0, "warm": 1, "cold": 2}
        key = {
            "both": lambda x: (rank.get(x.grade, 3), x.probability is None,
                               -(x.probability or 0), -x.id),
            "probability": lambda x: (x.probability is None, -(x.probability or 0), -x.id),
            "score": lambda x: (x.score is None, -(x.score or 0), -x.id),
        }[order]  # fmt: skip
        expected = [x.id for x in sorted(everyone, key=key)]
        asked = [inbox.InboxQuery(order=inbox.Priority(order), page=p, closed=True)
                 for p in range(1, 7)]  # fmt: skip
        pages = [inbox.inbox(session, query, now) for query in asked]
    assert [lead.id for page in pages for lead in page.leads] == expected
    assert pages[0].pages == 6 and not pages[5].has_next
