"""The settings page shows the automation document in force, and a broken file plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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
