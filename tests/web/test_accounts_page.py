"""Accounts on the web: the list best first, an account's score line by line with its
people, the lead card's link; a rep sees only accounts with a lead of theirs."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.tuning.companies import account, activate, person
from tests.web.conftest import Browser


def test_accounts_list_explain_and_hide_what_a_rep_may_not_see(
    web: TestClient, db: Database, now: datetime, browser: Browser,
    make_user: Callable[[str, str], None],
) -> None:  # fmt: skip
    activate(db, now)
    ceo = person(db, now, "cleo@acme-tools.example", "CEO", visits=2)
    person(db, now, "max@acme-tools.example", "Sales Manager", visits=3)
    person(db, now, "ola@tiny-shop.example", "Owner", visits=0)
    acme = account(db, "acme-tools.example")
    listed = html.unescape(browser.get("/accounts"))
    assert listed.index("acme-tools.example") < listed.index("tiny-shop.example")
    shown = html.unescape(browser.get(f"/accounts/{acme.id}"))
    assert "Engaged C-level" in shown and "Engaged Manager" in shown
    assert f"/leads/{ceo}" in shown and "2 of 2 people engaged" in shown
    card = html.unescape(browser.get(f"/leads/{ceo}"))
    assert f"/accounts/{acme.id}" in card and "Account score 30" in card
    assert "/accounts" in browser.get("/inbox")
    with db.unit_of_work() as session:
        session.execute(update(Lead).where(Lead.email.like("%acme-tools%")).values(owner="bob"))
    make_user("rita", "rep")
    rita = Browser(web)
    rita.sign_in("rita")
    assert "acme-tools.example" not in rita.get("/accounts")
    assert web.get(f"/accounts/{acme.id}").status_code == 404
    for odd in ["0", "-1", "1e3", "abc", "9" * 30]:
        assert web.get(f"/accounts/{odd}").status_code in (404, 422), odd
    assert web.get("/accounts?grade=%00").status_code == 422
