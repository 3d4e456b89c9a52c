"""The inbox as a work list in a real browser (Debian's Chromium) against ``leadq serve`` on
the demo workspace: twenty leads assigned in one action, a saved view reopened and exported
(equal to the API's list), each column sorted across pages, an accept undone, the phone list,
and axe-core's accessibility rules on every page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from leadq.domain.scoring.model import parse_model
from leadq.services.scoring.documents import read_model
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Lead
from tests.e2e.browsing import PASSWORD, SHOTS, skip_without_chromium
from tests.e2e.serving import demo_copy, ran, serving

skip_without_chromium()
pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Workspace:
    def __init__(self, base: str, database: Path, token: str) -> None:
        self.base, self.database, self.token = base, database, token

    def db(self) -> Database:
        return Database(f"sqlite:///{self.database}")

    def api(self, **params: str) -> list[int]:
        """Every lead id the API lists for these parameters, page after page."""
        found: list[int] = []
        cursor = None
        while True:
            asked = {**params, "limit": "500", **({"cursor": cursor} if cursor else {})}
            page = httpx.get(
                f"{self.base}/api/v1/leads",
                params=asked,
                headers={"Authorization": f"Bearer {self.token}"},
            ).json()
            found += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, demo_database: Path,
              ) -> Iterator[Workspace]:  # fmt: skip
    """The demo with an admin ``mia`` and an API key, and ``leadq serve``."""
    where = tmp_path_factory.mktemp("worklist")
    env = demo_copy(demo_database, where)
    token = ran(where, env, "apikey", "create", "checks").split()[-1]
    with serving(where, env) as base:
        yield Workspace(base, where / "demo.db", token)


def _signed_in(chromium: Browser, workspace: Workspace, width: int = 1280) -> Page:
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, base_url=workspace.base, accept_downloads=True
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/inbox")
    return page


def _ids(page: Page) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all(
            "table.leads tbody tr[data-lead]", "rows => rows.map(r => r.dataset.lead)"
        )
    ]


def test_twenty_leads_selected_and_assigned_in_one_action(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace)
    page.goto("/inbox?mine=false&sort=-created_at&closed=true")
    boxes = page.locator("table.leads tbody input[name=lead]")
    for index in range(20):
        boxes.nth(index).check()
    chosen = _ids(page)[:20]
    expect(page.locator("#selected-count")).to_have_text("20 ✓")
    page.select_option("#bulk-action", "assign")
    expect(page.locator("#bulk select[name=reason]")).to_be_hidden()  # the fields of assign only
    page.select_option("#bulk select[name=owner]", "mia")
    page.click("#bulk button[type=submit]:not(.secondary)")
    expect(page.locator("h1")).to_contain_text("20 leads")  # asked first, nothing done yet
    page.click("#confirm")
    expect(page.locator("#bulk-done")).to_have_text("Done for 20 leads.")
    with workspace.db().reading() as session:
        owners = dict(session.execute(select(Lead.id, Lead.owner).where(Lead.id.in_(chosen))).all())
        audited = [
            row.entity_id
            for row in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "lead.assigned", AuditEntry.actor == "mia"
                )
            )
        ]
    assert set(owners.values()) == {"mia"}
    assert sorted(int(x or 0) for x in audited if int(x or 0) in chosen) == sorted(chosen)
    page.context.close()


SORTS = ["score", "probability", "last_activity_at", "created_at", "owner"]


def test_each_column_sorts_both_ways_across_pages_as_the_api_lists(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace)
    for column in SORTS:
        page.goto("/inbox?mine=false&closed=true&columns=" + ",".join(SORTS))
        for _ in range(2):  # first click: its first order; second: the other way round
            with page.expect_navigation():
                page.click(f"th.col a[href*='sort=']:has-text('{_header(column)}')")
            sort = re.search(r"sort=([^&]+)", page.url)[1]  # type: ignore[index]
            assert sort.lstrip("-") == column
            header = page.locator("th[aria-sort]")
            way = "descending" if sort[0] == "-" else "ascending"
            expect(header).to_have_attribute("aria-sort", way)
            shown = _ids(page)
            with page.expect_navigation():
                page.click("a[rel=next]")
            shown += _ids(page)
            assert shown == workspace.api(sort=sort)[:100], sort
            if column == SORTS[0]:  # back a page, once: every order pages the same way
                with page.expect_navigation():
                    page.click("a[rel=prev]")
                assert _ids(page) == shown[:50], sort
                with page.expect_navigation():
                    page.click("a[rel=next]")
    page.context.close()


def _header(column: str) -> str:
    return {
        "score": "Score",
        "probability": "Predictive",
        "last_activity_at": "Last activity",
        "created_at": "Created",
        "owner": "Owner",
    }[column]


def test_a_saved_view_reopened_and_exported_is_the_api_list(
    chromium: Browser, workspace: Workspace, tmp_path: Path
) -> None:
    page = _signed_in(chromium, workspace)
    page.goto("/inbox?mine=false")
    page.select_option("select[name=stage]", "sql")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    with page.expect_navigation():
        page.click("th.col a:has-text('Last activity')")
    page.click("details.save-view summary")
    page.fill("details.save-view input[name=name]", "recent-sql")
    page.check("details.save-view input[name=shared]")
    with page.expect_navigation():
        page.click("details.save-view button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("View “recent-sql” saved")
    page.goto("/inbox?mine=false")
    with page.expect_navigation():
        page.click("aside.views a:has-text('recent-sql')")  # reopened from the sidebar
    expect(page.locator("th[aria-sort]")).to_contain_text("Last activity")
    assert set(
        page.eval_on_selector_all(
            "table.leads tbody tr .c-stage .stage", "s => s.map(x => x.title)"
        )
    ) == {"sql"}
    with page.expect_download() as waiting:
        page.click("a:has-text('Export CSV')")
    saved = tmp_path / "view.csv"
    waiting.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    listed = workspace.api(segment="recent-sql", sort="-last_activity_at")
    assert [int(r["id"]) for r in rows] == listed and len(listed) > 0
    page.context.close()


def test_an_accept_waits_a_few_seconds_and_can_be_undone(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace)
    page.goto("/inbox?mine=false&stage=mql")
    first, second = _ids(page)[:2]
    with workspace.db().reading() as session:
        before = session.get(Lead, second)
        owner = before.owner if before else None
    page.locator(f"tr[data-lead='{first}'] form.quick button.accept").click()
    expect(page.locator("#undo")).to_be_visible()
    page.click("#undo button")
    expect(page.locator("#undo .what")).to_contain_text("Undone")
    page.wait_for_timeout(6000)  # past the moment the accept would have been sent
    with workspace.db().reading() as session:
        assert session.get(Lead, first).stage == "mql"  # type: ignore[union-attr]
    with page.expect_navigation(timeout=15_000):  # not undone: sent after the few seconds
        page.locator(f"tr[data-lead='{second}'] form.quick button.accept").click()
    expect(page.locator(".flash")).to_contain_text("accepted")
    with workspace.db().reading() as session:
        accepted = session.get(Lead, second)
        assert accepted is not None and accepted.stage == "sal"
        assert accepted.owner == (owner or "mia")  # kept, or the person accepting
    page.context.close()


def test_the_phone_inbox_is_a_list_of_two_lines_a_lead(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace, 390)
    page.goto("/inbox?mine=false")
    heights = page.eval_on_selector_all(
        "table.leads tbody tr", "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert len(heights) == 50 and max(heights) <= 120, max(heights)
    expect(page.locator(".hints")).to_be_hidden()
    expect(page.locator("table.leads form.quick").first).to_be_hidden()  # actions in the menu
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-phone-list-390.png"))
    page.goto(f"/leads/{_first_lead(page)}")
    profile = page.locator("section.profile-section").bounding_box()
    score = page.locator("h2:has-text('Score breakdown')").bounding_box()
    assert profile and score and profile["y"] < score["y"]  # the profile first
    page.context.close()


def _first_lead(page: Page) -> int:
    page.goto("/inbox?mine=false")
    return _ids(page)[0]


PAGES = [
    "/inbox?mine=false",
    "/inbox?mine=false&stage=mql",
    "/dashboard",
    "/analytics",
    "/models",
    "/imports",
    "/duplicates",
    "/settings",
    "/leads/999999",
    "/inbox?overdue=maybe",
]


PHONE_PAGES = ["/inbox?mine=false", "/dashboard", "/models", "/settings"]


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_a_serious_accessibility_violation(
    chromium: Browser, workspace: Workspace, width: int
) -> None:
    axe = Axe()
    signed_out = chromium.new_context(
        base_url=workspace.base, viewport={"width": width, "height": 900}
    ).new_page()
    signed_out.goto("/login")
    found = {"/login": _serious(axe, signed_out)}
    page = _signed_in(chromium, workspace, width)
    lead = _first_lead(page)
    pages = PAGES if width > 400 else PHONE_PAGES  # the phone: the pages its layout changes
    for path in [*pages, f"/leads/{lead}"]:
        page.goto(path)
        found[path] = _serious(axe, page)
    page.goto("/inbox?mine=false")
    page.locator("table.leads tbody input[name=lead]").first.check()
    page.select_option("#bulk-action", "add_to_segment")
    with page.expect_navigation():  # axe reads the confirmation, not the page being left
        page.click("#bulk button[type=submit]:not(.secondary)")
    found["bulk confirmation"] = _serious(axe, page)
    assert {path: said for path, said in found.items() if said} == {}
    page.context.close()
    signed_out.context.close()


def _serious(axe: Axe, page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, each with where it is."""
    results = axe.run(page)
    return [
        f"{v['id']}: {v['help']} at {v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


CLASSIC_LABELS = {
    "decision_maker": ("Decision-making position", "Stanowisko decyzyjne", "Funcție de decizie",
                       "Должность ЛПР"),
    "company_size": ("Company size", "Wielkość firmy", "Mărimea companiei", "Размер компании"),
    "whitepaper": ("Whitepaper downloads", "Pobrania whitepaperów", "Descărcări de whitepaper",
                   "Скачивания white paper"),
    "webinar": ("Webinar attendance", "Udział w webinarach", "Participare la webinare",
                "Участие в вебинарах"),
    "pricing_page": ("Pricing-page visits", "Wizyty na stronie cennika",
                     "Vizite pe pagina de prețuri", "Посещения страницы цен"),
    "cold": ("Cold", "Zimny", "Rece", "Холодный"),
    "warm": ("Warm", "Ciepły", "Cald", "Тёплый"),
    "hot": ("Hot", "Gorący", "Fierbinte", "Горячий"),
}  # fmt: skip


class ModelForm:
    """The model editor driven as a person does: type, then press the form's buttons (each
    press is a round trip that must keep what was typed)."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def fill(self, name: str, value: str) -> None:
        self.page.fill(f"#model-form [name='{name}']", value)

    def translate(self, prefix: str, key: str) -> None:
        """The label in the four languages, typed into the row's (folded) translations."""
        self.page.locator(f"#model-form [name='{prefix}.tr.en']").locator(
            "xpath=ancestor::details").locator("summary").click()  # fmt: skip
        for code, text in zip(("en", "pl", "ro", "ru"), CLASSIC_LABELS[key], strict=True):
            self.fill(f"{prefix}.tr.{code}", text)

    def press(self, action: str) -> None:
        with self.page.expect_navigation():
            self.page.click(f"#model-form button[value='{action}']")

    def condition(self, at: str, field: str, op: str, value: str) -> None:
        self.fill(f"{at}.field", field)
        self.page.select_option(f"#model-form select[name='{at}.op']", op)
        self.fill(f"{at}.value", value)


def test_a_model_built_in_the_form_from_scratch_is_the_classic_one(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace)
    page.goto("/models?new=true")
    form = ModelForm(page)
    classic = parse_model(read_model("classic")[1], "classic")
    form.fill("name", "classic")
    form.fill("description", classic.description or "")
    # c.0: decision-making position, three levels
    form.fill("c.0.id", "decision_maker")
    form.fill("c.0.label", "Decision-making position")
    form.fill("c.0.weight", "3")
    for k, (level, op, value) in enumerate([("3", "in", "c_level, owner, vp"),
                                            ("2", "in", "director, head"),
                                            ("1", "eq", "manager")]):  # fmt: skip
        form.press("add_level:0")
        form.fill(f"c.0.level.{k}.level", level)
        form.condition(f"c.0.level.{k}.when.0", "seniority", op, value)
    form.translate("c.0", "decision_maker")
    # c.1: whitepaper downloads, counted, capped
    form.fill("c.1.id", "whitepaper")
    form.fill("c.1.label", "Whitepaper downloads")
    form.fill("c.1.event", "content_download")
    form.condition("c.1.when.0", "asset_type", "eq", "whitepaper")
    page.check("#model-form [name='c.1.count']")
    form.fill("c.1.cap", "3")
    form.translate("c.1", "whitepaper")
    # c.2: company size, three levels
    form.press("add_criterion:fit:profile")
    form.fill("c.2.id", "company_size")
    form.fill("c.2.label", "Company size")
    form.fill("c.2.weight", "2")
    for k, floor in enumerate(["250", "50", "10"]):
        form.press("add_level:2")
        form.fill(f"c.2.level.{k}.level", str(3 - k))
        form.condition(f"c.2.level.{k}.when.0", "company_size", "gte", floor)
    form.translate("c.2", "company_size")
    # c.3 and c.4: webinars and pricing-page visits
    for i, (key, label, weight, event) in enumerate([
            ("webinar", "Webinar attendance", "2", "webinar_attended"),
            ("pricing_page", "Pricing-page visits", "3", "page_view")], start=3):  # fmt: skip
        form.press("add_criterion:engagement:event")
        form.fill(f"c.{i}.id", key)
        form.fill(f"c.{i}.label", label)
        form.fill(f"c.{i}.weight", weight)
        form.fill(f"c.{i}.event", event)
        page.check(f"#model-form [name='c.{i}.count']")
        form.fill(f"c.{i}.cap", "3")
        form.translate(f"c.{i}", key)
    form.press("add_condition:4")
    form.condition("c.4.when.0", "path", "starts_with", "/pricing")
    for i, (grade, line) in enumerate([("cold", "0"), ("warm", "11"), ("hot", "21")]):
        form.fill(f"grade.{i}.name", grade)
        form.fill(f"grade.{i}.threshold", line)
        form.translate(f"grade.{i}", grade)
    page.click("#model-form details.matrix summary")
    for name, value in zip(["A", "B", "C", "D", "1", "2", "3", "4"],
                           ["12", "8", "4", "0", "15", "9", "3", "0"], strict=True):  # fmt: skip
        form.fill(f"matrix.{'fit' if name.isalpha() else 'engagement'}.{name}", value)
    form.press("yaml")
    built = parse_model(page.locator("textarea[name=document]").input_value(), "form")
    assert built.content() == classic.content()
    form_again = page.locator("button[value=form]")
    with page.expect_navigation():
        form_again.click()
    form.press("save")  # the workspace runs classic@1: the same model is not added twice
    expect(page.locator(".flash")).to_contain_text("Nothing added: this is what classic@1")
    page.context.close()


def test_the_preview_lists_the_leads_that_would_change_grade(
    chromium: Browser, workspace: Workspace
) -> None:
    page = _signed_in(chromium, workspace)
    page.goto("/models")
    page.fill("#model-form [name='name']", "eager")
    page.fill("#model-form [name='grade.2.threshold']", "12")
    with page.expect_navigation():
        page.click("#model-form button[value=preview]")
    expect(page.locator("#preview h2")).to_contain_text("Preview of eager: valid")
    expect(page.locator("#changes-summary")).to_contain_text("would move up a grade")
    assert page.locator("#moves tbody tr.up").count() >= 1
    first = page.locator("#examples li").first
    expect(first).to_contain_text("→ Hot")
    moved = int(first.locator("a").get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]
    with workspace.db().reading() as session:
        lead = session.get(Lead, moved)
        assert lead is not None and lead.grade != "hot" and (lead.score or 0) >= 12
    page.context.close()
