"""The settings page shows the automation document in force, and a broken file plainly."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.tracking import Collected
from leadq.services.intake.policy import IntakePolicy
from leadq.services.intake.tracking import collect
from leadq.store.db import Database
from tests.automation.documents import put_in_force
from tests.web.conftest import Browser

DOCUMENT = """
teams:
  desk: {members: [{name: anna, email: anna@example.com}]}
endpoints:
  crm: {url: "https://crm.example.com/hook"}
rules:
  - id: route_new
    trigger: lead_created
    do: [{assign: {round_robin: desk}}, {notify: {webhook: crm}}]
"""


def test_settings_show_the_rules_in_force_and_a_broken_file(
    browser: Browser, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = put_in_force(monkeypatch, tmp_path, DOCUMENT)
    page = browser.get("/settings")
    assert "route_new" in page and "lead_created" in page and "assign" in page and "crm" in page
    assert "broken" not in page
    path.write_text(DOCUMENT.replace("lead_created", "nope"))
    page = browser.get("/settings")
    assert "The automation file is broken since" in page and "trigger" in page
    assert "route_new" in page  # the last valid document, still in force
    assert str(tmp_path) not in page


def test_settings_are_not_for_reps(browser: Browser, make_user: Callable[[str, str], None]) -> None:
    assert 'href="/settings"' in browser.get("/inbox")
    make_user("rex", "rep")
    browser.client.post("/logout", data={"csrf": browser.csrf})
    browser.sign_in("rex")
    assert 'href="/settings"' not in browser.get("/inbox")
    assert browser.client.get("/settings").status_code == 403


def test_the_tracking_section_gives_the_snippet_and_the_browsers_seen_last(
    db: Database, make_user: Callable[[str, str], None], now: datetime
) -> None:
    settings = Settings(database_url=db.url, tracking_origins=["https://www.example.com"])
    with TestClient(create_app(settings, db), base_url="http://leadq.test") as client:
        make_user("mia", "manager")
        person = Browser(client)
        person.sign_in("mia")
        before = person.get("/settings")
        assert "No browser has sent hits with consent yet." in before
        assert "https://www.example.com" in before
        assert 'src="http://leadq.test/t.js?v=2"' in html.unescape(before)  # escaped, copyable
        with db.unit_of_work() as session:
            batch = Collected.model_validate({"visitor": "a" * 32, "consent": True, "events": [
                {"id": "hit000001", "type": "page_view", "at": now.isoformat(), "path": "/"},
                {"id": "hit000002", "type": "identify", "at": now.isoformat(), "path": "/c",
                 "email": "ann@firm.example"}]})  # fmt: skip
            lead_id = collect(session, batch, None, now, IntakePolicy()).lead_id
        after = person.get("/settings")
        assert f'href="/leads/{lead_id}"' in after and "<script" not in after.split("snippet")[1]
