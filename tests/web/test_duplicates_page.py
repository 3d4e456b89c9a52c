"""The review list of possible duplicates: merge, undo, dismiss, through the real app."""

from __future__ import annotations

from datetime import datetime

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.web.conftest import Browser

SWITCHBOARD = "+1 512 757 6000"


def _lead(db: Database, now: datetime, email: str, first_name: str) -> int:
    with db.unit_of_work() as session:
        arrival = LeadInput(email=email, phone=SWITCHBOARD, first_name=first_name)
        return upsert_lead(session, arrival, "tests", now, IntakePolicy()).lead.id


def test_a_pair_is_merged_undone_and_dismissed_from_the_list(
    browser: Browser, db: Database, now: datetime
) -> None:
    rose, sean = (
        _lead(db, now, "rose@acme.example", "Rose"),
        _lead(db, now, "sean@acme.example", "Sean"),
    )
    listed = browser.get("/duplicates")
    assert "Rose" in listed and "Sean" in listed and "same phone" in listed
    assert 'href="/duplicates"' in browser.get("/inbox")
    card = browser.get(f"/leads/{rose}")
    assert f'href="/leads/{sean}"' in card and "Possibly the same person" in card
    merged = browser.post("/duplicates/1/merge", keep=str(sean))
    assert "merged: one person" in merged and "Recently merged" in merged
    with db.reading() as session:
        assert session.get(Lead, rose).merged_into_id == sean  # type: ignore[union-attr]
    undone = browser.post("/duplicates/1/unmerge")
    assert "unmerged" in undone
    dismissed = browser.post("/duplicates/1/dismiss")
    assert "dismissed: two people" in dismissed and "Nothing to review" in dismissed
    again = browser.post("/duplicates/1/dismiss")
    assert "is dismissed, not open" in again
    assert (
        browser.client.post("/duplicates/abc/merge", data={"csrf": browser.csrf}).status_code == 422
    )
    assert browser.client.post("/duplicates/1/merge", data={}).status_code == 403  # no CSRF
