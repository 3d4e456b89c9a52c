"""The web UI in a real browser (Debian's Chromium, headless, driven by Playwright) against a
real server on the demo workspace: sign in, find a lead, open its card, fill BANT, accept it,
see its stage change, see the dashboard's charts drawn with data. Every page is captured at
1280 and 390 pixels wide into test-artifacts/screenshots, and nothing may come from another
host or overflow the screen sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browsing import PASSWORD, SHOTS, skip_without_chromium
from tests.e2e.serving import demo_copy, serving

skip_without_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[str]:
    """The demo with an admin to sign in as, and ``leadq serve`` on a free port."""
    where = tmp_path_factory.mktemp("browser")
    env = demo_copy(demo_database, where)
    with serving(where, env) as base:
        yield base


class Visit:
    """One signed-in browser tab that records every address it asks for."""

    def __init__(self, browser: Browser, base: str, width: int) -> None:
        self.base, self.width = base, width
        self.context = browser.new_context(viewport={"width": width, "height": 900}, base_url=base)
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.goto("/inbox")
        assert "/login" in self.page.url  # not signed in yet
        self.shoot("login")
        self.page.fill("input[name=username]", "mia")
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_url("**/inbox")

    def shoot(self, name: str) -> None:
        """Save the whole page, and check it fits the screen's width."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}-{self.width}.png"), full_page=True)
        fits = self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{name} is wider than {self.width} px"

    def foreign(self) -> list[str]:
        return [url for url in self.requested if not url.startswith((self.base, "data:"))]

    def close(self) -> None:
        self.context.close()


def test_sign_in_qualify_and_accept_a_lead_then_read_the_dashboard(
    server: str,
    chromium: Browser,
) -> None:
    visit = Visit(chromium, server, 1280)
    page = visit.page
    rows = page.locator("table.leads tbody tr")
    assert rows.count() == 50  # the demo's first page is full
    visit.shoot("inbox")

    page.select_option("select[name=stage]", "mql")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert rows.count() > 0, "the demo has marketing-qualified leads"
    last_name = rows.first.locator("a.open").inner_text().split()[-1]
    page.fill("#search", last_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert last_name in rows.first.inner_text()
    page.keyboard.press("o")  # the keyboard opens the selected lead
    page.wait_for_url("**/leads/*")
    assert page.locator("#stage").inner_text().strip() == "MQL"  # the stage's label

    page.click("#fw-bant summary")
    page.fill("#fw-bant input[name='answer.budget']", "40000")
    page.select_option("#fw-bant select[name='answer.authority']", "decision_maker")
    page.select_option("#fw-bant select[name='answer.need']", "yes")
    page.fill("#fw-bant input[name='answer.timing']", "2")
    with page.expect_navigation():
        page.click("#fw-bant button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("BANT saved: qualified")
    visit.shoot("card")
    with page.expect_navigation():
        page.click("#accept")
    expect(page.locator(".flash")).to_contain_text("accepted")
    assert page.locator("#stage").inner_text().strip() == "SQL"  # accepted + qualified → SQL
    assert "MQL → SAL" in page.locator(".history").inner_text().replace("\n", " ")

    page.goto("/dashboard")
    charts = page.locator("figure.chart")
    assert charts.count() >= 8
    for index in range(charts.count()):
        drawn = charts.nth(index).locator("svg.chart .bar")
        title = charts.nth(index).locator("figcaption").inner_text()
        if "Speed" not in title and "Campaigns" not in title:
            assert drawn.count() > 0, f"{title}: nothing drawn"
    widths = page.eval_on_selector_all(
        "svg.chart rect.bar", "bars => bars.map(b => b.getBBox().width)"
    )
    assert max(widths) > 100  # really drawn, not zero-width placeholders
    visit.shoot("dashboard")

    page.goto("/analytics?by=campaign")
    assert page.locator("table.metrics tbody tr").count() >= 2
    visit.shoot("analytics")
    page.goto("/models")
    page.click("#model-form button[value=preview]")
    assert page.locator("#preview").is_visible()
    visit.shoot("models")
    assert visit.foreign() == []
    visit.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_fits_a_phone_and_a_laptop(server: str, chromium: Browser, width: int) -> None:
    visit = Visit(chromium, server, width)
    visit.shoot("inbox-fit")
    visit.page.locator("a.open").first.click()
    visit.page.wait_for_url("**/leads/*")
    visit.shoot("card-fit")
    for name in ("dashboard", "analytics", "models", "imports", "duplicates", "settings", "docs"):
        visit.page.goto(f"/{name}")
        visit.page.wait_for_load_state("networkidle")
        visit.shoot(f"{name}-fit")
    assert visit.foreign() == []
    visit.close()


IMPORT_CSV = (
    "Record ID,First Name,Last Name,Email,Phone Number,Job Title,Lifecycle Stage,Create Date,"
    "Country/Region,Favourite colour\n"
    "901,Zofia,Nowak,zofia@import.example,601 234 567,CEO,Marketing Qualified Lead,"
    "2025-03-04 10:15,Poland,blue\n"
    "902,Ion,Popescu,ion@import.example,not a number,CTO,lead,2025-03-05 11:00,Romania,red\n"
    "903,Nobody,,,,,lead,,,green\n"
)


def test_import_a_crm_export_adjust_a_mapping_and_see_the_counts(
    server: str, chromium: Browser, tmp_path: Path
) -> None:
    export = tmp_path / "hubspot-crm-exports-all-contacts.csv"
    export.write_text(IMPORT_CSV, encoding="utf-8")
    visit = Visit(chromium, server, 1280)
    page = visit.page
    page.goto("/imports")
    page.set_input_files("input[name=file]", str(export))
    page.click("form[action='/imports'] button[type=submit]")
    page.wait_for_url("**/imports/*/mapping")
    assert "HubSpot" in page.locator("#preset").inner_text()
    colour = page.locator("tr", has_text="Favourite colour").locator("select")
    assert colour.input_value() == "attributes.Favourite colour"
    colour.select_option("-")  # leave the column out
    page.click("button[formaction$='/mapping']")
    assert "Zofia" in page.locator("#preview").inner_text()
    visit.shoot("import-mapping")
    page.click("#run")
    page.wait_for_url("**/imports/*")
    page.wait_for_selector("#counts", timeout=30_000)
    counts = page.locator("#counts").inner_text()
    assert "Created\n2" in counts and "Rejected\n1" in counts and "set aside\n1" in counts
    assert "Favourite colour" in page.locator("main").inner_text()  # listed as left out
    visit.shoot("import-done")
    page.goto("/inbox?q=zofia%40import.example")
    page.locator("a.open").first.click()
    page.wait_for_url("**/leads/*")
    assert "MQL" in page.locator(".history").inner_text()  # the CRM's stage, then the rules
    assert visit.foreign() == []
    visit.close()
