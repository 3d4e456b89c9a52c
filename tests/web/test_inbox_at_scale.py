"""The inbox stays fast on a big workspace: it counts leads only up to a cap (then says "N+"
and still pages on), and the filter menus read each field's distinct values through its index;
both must say the same as a full count and a plain DISTINCT would."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.domain.worklist import SORTS
from leadq.services.errors import InvalidInput
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
    shown = browser.get("/inbox")
    assert "3+ leads" in shown
    seen = shown.count('data-lead="')
    while 'rel="next"' in shown:  # past the counted leads: still paged on to the last
        link = html.unescape(re.search(r'href="\?([^"]+)" rel="next"', shown)[1])  # type: ignore[index]
        shown = browser.get(f"/inbox?{link}")
        seen += shown.count('data-lead="')
    assert seen == 7


def test_distinct_values_are_what_distinct_says(db: Database, now: datetime) -> None:
    _leads(db, now, 12)
    with db.reading() as session:
        plain = {str(v) for v in session.scalars(
            select(Lead.source).where(Lead.source.is_not(None)).distinct())}  # fmt: skip
        assert sorted(distinct_values(session, Lead.source)) == sorted(plain)
        assert len(plain) >= 3
        assert distinct_values(session, Lead.owner) == []  # nobody owns a lead yet


ORDERS = list(SORTS)  # every order the inbox offers


def _expected(everyone: list[Lead], sort: str) -> list[int]:
    """The order each sort promises, computed apart from SQL: empty values last, ties by id
    in the sort's direction; by grade, the model's grades best first, then the rest."""
    if sort == "grade":
        rank = {"hot": 0, "warm": 1, "cold": 2}
        return [x.id for x in sorted(everyone, key=lambda x: (
            rank.get(x.grade or "", 3), x.probability is None, -(x.probability or 0),
            -x.id))]  # fmt: skip
    name, descending = sort.lstrip("-"), sort.startswith("-")
    present = sorted((x for x in everyone if getattr(x, name) is not None),
                     key=lambda x: (getattr(x, name), x.id), reverse=descending)  # fmt: skip
    empty = sorted((x for x in everyone if getattr(x, name) is None), key=lambda x: x.id,
                   reverse=descending)  # fmt: skip
    return [x.id for x in present + empty]


def test_pages_read_forward_and_back_are_slices_of_one_sorted_list(
    db: Database, now: datetime
) -> None:
    """Each order, page after page by the next cursor, is one sorted list cut in pages (ties
    and empty values included); read back from the last page by the previous cursors, the same
    pages come back, down to the first."""
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
            lead.owner = [None, "ala", "bartek", "ala"][lead.id % 4]
            lead.last_activity_at = None if lead.id % 3 == 0 else now - timedelta(
                days=lead.id % 5)  # fmt: skip
            lead.created_at = now - timedelta(hours=lead.id % 4)
    for sort in ORDERS:
        _walk(db, now, sort)


def _walk(db: Database, now: datetime, sort: str) -> None:
    """Every page of one order, forward then back, against the order worked out apart."""
    with db.reading() as session:
        expected = _expected(list(session.scalars(select(Lead))), sort)
        pages: list[list[int]] = []
        found = inbox.inbox(session, inbox.InboxQuery(sort=sort, closed=True), now, 4)
        while True:
            pages.append([x.id for x in found.leads])
            assert (found.previous_cursor is None) == (len(pages) == 1)
            if found.next_cursor is None:
                break
            onward = inbox.InboxQuery(sort=sort, closed=True, cursor=found.next_cursor)
            found = inbox.inbox(session, onward, now, 4)
        assert [i for page in pages for i in page] == expected, sort
        assert len(pages) == 6, sort
        back = [pages[-1]]
        while found.previous_cursor is not None:
            query = inbox.InboxQuery(sort=sort, closed=True, cursor=found.previous_cursor,
                                     backwards=True)  # fmt: skip
            found = inbox.inbox(session, query, now, 4)
            back.append([x.id for x in found.leads])
        assert list(reversed(back)) == pages, sort


def test_a_cursor_not_made_by_the_list_is_refused_as_input(db: Database, now: datetime) -> None:
    _leads(db, now, 3)
    made = ([0, "text", 1], [0, 1.5], ["x", 1.0, 1], [0, 1.0, 0], [5000, 1.0, 1], {"a": 1})
    forged = [base64.urlsafe_b64encode(json.dumps(raw).encode()).decode() for raw in made]
    with db.reading() as session:
        for cursor in [*forged, "%%%", "", "A" * 400]:
            with pytest.raises(InvalidInput):
                inbox.inbox(session, inbox.InboxQuery(cursor=cursor or "="), now)
        owner = base64.urlsafe_b64encode(json.dumps([0, 7, 1]).encode()).decode()
        with pytest.raises(InvalidInput):  # an owner is a name, not a number
            inbox.inbox(session, inbox.InboxQuery(sort="owner", cursor=owner), now)
