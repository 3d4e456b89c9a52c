"""The main flow in each language, in a real browser: the browser asks for the language
(``Accept-Language``), the pages answer in it, with its figures, money and dates; a user's
own choice in the header outlives the browser's. Screenshots of each page in each language go
to test-artifacts/screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from leadq.domain.automation import Automation
from leadq.i18n import LANGUAGES, Language
from leadq.services.automation.reactions import workspace_labels
from leadq.services.qualification.rules import load_rules
from tests.e2e.browsing import PASSWORD, SHOTS, skip_without_chromium
from tests.e2e.serving import demo_copy, serving

skip_without_chromium()

NBSP = "\xa0"
BROWSER_LOCALES = {"en": "en-GB", "pl": "pl-PL", "ro": "ro-RO", "ru": "ru-RU"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[str]:
    """The demo with money in złoty, times in Warsaw, and two admins who chose no language."""
    where = tmp_path_factory.mktemp("languages")
    env = {**demo_copy(demo_database, where), "LEADQ_CURRENCY": "PLN",
           "LEADQ_TIME_ZONE": "Europe/Warsaw"}  # fmt: skip
    with serving(where, env) as base:
        yield base


def _signed_in(chromium: Browser, server: str, language: str, user: str = "mia",
               width: int = 1280) -> Page:  # fmt: skip
    context = chromium.new_context(locale=BROWSER_LOCALES[language], base_url=server,
                                   viewport={"width": width, "height": 900})  # fmt: skip
    page = context.new_page()
    page.goto("/inbox")
    assert page.get_attribute("html", "lang") == language
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/inbox")
    return page


def _shoot(page: Page, language: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{language}-{name}.png"), full_page=True)


def _one_line(page: Page, selector: str) -> list[str]:
    """The texts of the matching figures that the browser broke over more than one line."""
    broken = page.eval_on_selector_all(
        selector, "els => els.filter(e => e.getClientRects().length > 1).map(e => e.textContent)"
    )
    return list(broken)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_main_flow_reads_in_the_browsers_language(
    server: str,
    chromium: Browser,
    language: str,
) -> None:
    words = Language(language, labels=workspace_labels(load_rules(), Automation()))
    if language != "en":
        assert words.gettext("Score breakdown") != "Score breakdown", f"no {language} catalogue"
    page = _signed_in(chromium, server, language)
    assert page.get_attribute("html", "lang") == language
    expect(page.locator("h1")).to_contain_text(words.gettext("Inbox"))
    expect(page.locator("header.top nav")).to_contain_text(words.gettext("Dashboard"))
    _shoot(page, language, "inbox")

    page.select_option("select[name=stage]", "mql")  # the option's value stays the code
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    page.locator("a.open").first.click()
    page.wait_for_url("**/leads/*")
    expect(page.locator("#stage")).to_have_text(words.label("mql", "stage"))
    expect(page.locator("main")).to_contain_text(words.gettext("Score breakdown"))
    page.click("#fw-bant summary")
    page.fill("#fw-bant input[name='answer.budget']", "40000")
    page.select_option("#fw-bant select[name='answer.authority']", "decision_maker")
    page.select_option("#fw-bant select[name='answer.need']", "yes")
    page.fill("#fw-bant input[name='answer.timing']", "2")
    with page.expect_navigation():
        page.click("#fw-bant button[type=submit]")
    expect(page.locator("#fw-bant summary .verdict")).to_have_text(
        words.label("qualified", "verdict")
    )
    with page.expect_navigation():
        page.click("#accept")
    expect(page.locator("#stage")).to_have_text(words.label("sql", "stage"))
    history = page.locator(".history").inner_text()
    if language == "ru":  # a Russian date: day.month.year, in Warsaw's time
        assert re.search(r"\b\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}\b", history), history
    assert words.label("sal", "stage") in history
    _shoot(page, language, "card")

    page.goto("/dashboard")
    expect(page.locator("h1")).to_have_text(words.gettext("Dashboard"))
    cost = page.locator("dl.kpis div", has_text=words.gettext("Cost per lead")).locator("dd")
    if language == "pl":  # złoty the Polish way: 4 534,45 zł, unbreakable spaces
        shown = cost.inner_text()
        assert re.fullmatch(r"\d{1,3}(\xa0\d{3})*,\d{2}\xa0zł", shown), shown
    assert "PLN" in cost.inner_text() or "zł" in cost.inner_text()
    value = page.locator("dl.kpis div", has_text=words.gettext("Customer lifetime value"))
    if language == "pl":  # thousands apart by an unbreakable space, on one line
        shown = value.locator("dd").inner_text()
        assert re.fullmatch(r"\d{1,3}(\xa0\d{3})+,\d{2}\xa0zł", shown), shown
    assert _one_line(page, "dl.kpis .figure") == []
    _shoot(page, language, "dashboard")

    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/analytics?by=campaign")
    expect(page.locator("h1")).to_contain_text(words.gettext("Analytics"))
    assert page.locator("table.metrics tbody tr").count() >= 2
    assert _one_line(page, "table.metrics .figure") == []
    _shoot(page, language, "analytics-phone")
    page.context.close()


def test_a_language_picked_in_the_header_stays_with_the_user(
    server: str,
    chromium: Browser,
) -> None:
    page = _signed_in(chromium, server, "en", user="olga")
    with page.expect_navigation():
        page.select_option("#language", "ru")  # the switch submits itself
    assert page.get_attribute("html", "lang") == "ru"
    assert page.url.endswith("/inbox")  # back on the page it was switched on
    page.context.close()
    again = _signed_in(chromium, server, "en", user="olga")  # an English browser, later
    again.goto("/dashboard")
    assert again.get_attribute("html", "lang") == "ru"
    again.context.close()
