"""The web UI end to end through HTTP: sign-in, CSRF, the inbox, the lead card and its
actions, roles, and what hostile or broken input does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.domain.automation import Automation
from leadq.domain.leads import LeadInput
from leadq.i18n import Language
from leadq.services.automation.reactions import workspace_labels
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.users import disable_user
from leadq.services.qualification.rules import load_rules
from leadq.store.db import Database
from leadq.store.tables import Lead, Note, SalesFeedback
from tests.web.conftest import PASSWORD, Browser, csrf_of
from tests.web.workspace import seed


def stage_of(db: Database, lead_id: int) -> str:
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead.stage


# -- signing in ---------------------------------------------------------------------------------


def test_pages_send_a_visitor_to_sign_in_and_back(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    make_user("mia", "manager")
    reply = web.get("/leads/7?x=1", follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (
        303,
        "/login?next=%2Fleads%2F7%3Fx%3D1",
    )
    token = csrf_of(web.get("/login").text)
    wrong = web.post(
        "/login", data={"username": "mia", "password": "nope", "csrf": token, "next": "/dashboard"}
    )
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert web.get("/inbox", follow_redirects=False).status_code == 303  # still signed out
    right = web.post(
        "/login",
        data={"username": "mia", "password": PASSWORD, "csrf": token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert (right.status_code, right.headers["location"]) == (303, "/dashboard")
    assert web.get("/inbox").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "\\\\evil", ""])
def test_sign_in_never_redirects_to_another_site(
    web: TestClient, target: str, make_user: Callable[[str, str], None]
) -> None:
    make_user("mia", "manager")
    token = csrf_of(web.get("/login").text)
    reply = web.post(
        "/login",
        data={"username": "mia", "password": PASSWORD, "csrf": token, "next": target},
        follow_redirects=False,
    )
    assert reply.headers["location"] == "/inbox"


def test_forms_without_this_sessions_csrf_token_are_refused(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    for token in (None, "forged", browser.csrf + "x"):
        data = {"body": "hello"} | ({"csrf": token} if token else {})
        reply = browser.client.post(f"/leads/{leads.hot}/notes", data=data)
        assert reply.status_code == 403 and "did not come from this site" in reply.text
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 0
    logout = browser.client.post("/logout", data={}, follow_redirects=False)
    assert logout.status_code == 403  # signing someone out needs the token too


def test_a_disabled_user_is_out_at_the_next_request(
    browser: Browser, db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        disable_user(session, "mia", "tests", now)
    assert browser.client.get("/inbox", follow_redirects=False).status_code == 303
    token = csrf_of(browser.client.get("/login").text)
    again = browser.client.post(
        "/login", data={"username": "mia", "password": PASSWORD, "csrf": token}
    )
    assert again.status_code == 401


def test_sign_out_ends_the_session(browser: Browser) -> None:
    browser.post("/logout")
    assert browser.client.get("/inbox", follow_redirects=False).status_code == 303


def test_pages_allow_nothing_from_other_hosts(browser: Browser) -> None:
    reply = browser.client.get("/inbox")
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in reply.text.split("<main>")[0].replace("http-equiv", "")  # no CDN links
    assert "content-security-policy" not in browser.client.get("/api/v1/health").headers


# -- the inbox ----------------------------------------------------------------------------------


def test_the_inbox_puts_the_best_lead_first_and_filters(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    page = browser.get("/inbox")
    assert page.index("Grażyna Wiśniewska") < page.index("Olaf Berg") < page.index("Sam Student")
    assert "Grażyna" in browser.get("/inbox?q=wi%C5%9Bniewska")
    assert "Sam Student" not in browser.get("/inbox?q=wi%C5%9Bniewska")
    assert "No leads match" in browser.get("/inbox?q=nobody-here")
    by_source = browser.get("/inbox?source=social")
    assert "Sam Student" in by_source and "Olaf" not in by_source
    overdue = browser.get("/inbox?overdue=true")
    assert "Olaf Berg" in overdue and "Grażyna" not in overdue and "overdue" in overdue
    mql = browser.get("/inbox?stage=mql")
    assert f"/leads/{leads.hot}/accept" in mql and "Sam Student" not in mql


def test_a_rep_starts_on_their_own_leads(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    make_user("rob", "rep")
    rob = Browser(web)
    rob.sign_in("rob")
    mine = rob.get("/inbox")
    assert "my leads" in mine and "Olaf Berg" in mine and "Grażyna" not in mine
    assert "Grażyna" in rob.get("/inbox?mine=false")


def test_a_rep_never_sees_or_works_another_reps_lead(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    data = LeadInput.model_validate({"email": "vip@bigcorp.com", "first_name": "Valentina",
                                     "owner": "vera"})  # fmt: skip
    with db.unit_of_work() as session:
        theirs = upsert_lead(session, data, "tests", now, IntakePolicy()).lead.id
    make_user("rob", "rep")
    rob = Browser(web)
    rob.sign_in("rob")
    assert "Valentina" not in rob.get("/inbox?mine=false")
    assert "Valentina" not in rob.get("/inbox?mine=false&q=bigcorp&closed=true")
    card = web.get(f"/leads/{theirs}")
    assert card.status_code == 404 and "Valentina" not in card.text
    after = rob.post(f"/leads/{theirs}/notes", body="let me in")
    assert "not found" in after
    assert "not found" in rob.post(f"/leads/{theirs}/assign", owner="rob")
    with db.reading() as session:
        lead = session.get(Lead, theirs)
        assert lead is not None and lead.owner == "vera"
        assert session.scalar(select(func.count()).select_from(Note)) == 0


@pytest.mark.parametrize(
    "query",
    [
        "overdue=maybe",
        "back=maybe",
        "cursor=" + "x" * 501,
        "columns=score&" + "&".join(["columns=grade"] * 21),
        "q=" + "x" * 201,
        "q=a%00b",
        "grade=%00",
        "segment=x%00",
        "owner=%00",
    ],
)
def test_a_broken_inbox_address_gets_a_page_that_says_why(browser: Browser, query: str) -> None:
    reply = browser.client.get(f"/inbox?{query}")
    assert reply.status_code == 422 and "Cannot read that" in reply.text


def test_an_unknown_segment_says_so(browser: Browser) -> None:
    assert "segment nope not found" in browser.get("/inbox?segment=nope")


def test_quick_actions_accept_reject_and_assign_from_the_inbox(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    page = browser.post(f"/leads/{leads.hot}/accept", next="/inbox?stage=mql")
    assert f"Lead {leads.hot} accepted: now SAL" in page and stage_of(db, leads.hot) == "sal"
    page = browser.post(f"/leads/{leads.hot}/reject", reason="no_budget", next="/inbox")
    assert "now Unqualified" in page and stage_of(db, leads.hot) == "unqualified"
    browser.post(f"/leads/{leads.cold}/assign", owner="rob", next="/inbox")
    with db.reading() as session:
        assert session.get(Lead, leads.cold).owner == "rob"  # type: ignore[union-attr]
        decisions = session.scalars(select(SalesFeedback.decision).order_by(SalesFeedback.id))
        assert list(decisions) == ["accepted", "rejected"]


# -- the lead card ------------------------------------------------------------------------------


def test_the_card_shows_breakdown_timeline_stages_and_tasks(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    card = browser.get(f"/leads/{leads.hot}")
    with db.reading() as session:
        lead = session.get(Lead, leads.hot)
        assert lead is not None and lead.score_breakdown
    for line in lead.score_breakdown:
        assert line["label"] in card
    assert "classic@1" in card and "webinar attended" in card and "/pricing" in card
    rule = Language("en", labels=workspace_labels(load_rules(), Automation())).label("mql_by_grade")
    assert f"rule {rule}" in card and "Acme Logistics" in card and "BANT" in card
    owned = browser.get(f"/leads/{leads.owned}")
    assert "call · rob" in owned and "overdue" in owned


def test_bant_answers_qualify_and_acceptance_moves_on_to_sql(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    card = browser.post(
        f"/leads/{leads.hot}/frameworks/bant",
        **{
            "answer.budget": "25 000",
            "answer.authority": "decision_maker",
            "answer.need": "yes",
            "answer.timing": "3",
        },
    )
    assert "BANT saved: qualified" in card
    card = browser.post(f"/leads/{leads.hot}/accept", comment="called, real project")
    assert stage_of(db, leads.hot) == "sql"  # accepted and qualified: the lifecycle moves on
    assert "sal" in card and "sql" in card


def test_a_wrong_answer_is_explained_and_stores_nothing(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    card = browser.post(
        f"/leads/{leads.hot}/frameworks/bant",
        **{"answer.budget": "lots", "answer.authority": "king"},
    )
    assert "expected a number" in card and "expected one of" in card
    assert 'BANT <span class="verdict v-incomplete">' in card.replace("\n", "")


def test_notes_are_kept_escaped_and_refused_when_empty_or_huge(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    card = browser.post(
        f"/leads/{leads.hot}/notes", body="<script>alert(1)</script> asked for a quote"
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt; asked" in card and "<script>alert" not in card
    assert "body: required" in browser.post(f"/leads/{leads.hot}/notes", body="   ")
    assert "at most" in browser.post(f"/leads/{leads.hot}/notes", body="x" * 10_001)
    assert "at most" in browser.post(f"/leads/{leads.hot}/notes", body="a\x00b")
    too_big = browser.client.post(
        f"/leads/{leads.hot}/notes", data={"csrf": browser.csrf, "body": "x" * 300_001}
    )
    assert too_big.status_code == 413
    with db.reading() as session:
        assert list(session.scalars(select(Note.author))) == ["mia"]


def test_overrides_need_a_reason_and_a_role_that_may(
    browser: Browser,
    web: TestClient,
    db: Database,
    now: datetime,
    make_user: Callable[[str, str], None],
) -> None:
    leads = seed(db, now)
    assert "reason: an override needs a reason" in browser.post(
        f"/leads/{leads.cold}/overrides", kind="points", points="10", reason=""
    )
    assert "not a number" in browser.post(
        f"/leads/{leads.cold}/overrides", kind="points", points="ten", reason="x"
    )
    card = browser.post(  # a decimal comma, as Polish, Romanian and Russian readers write
        f"/leads/{leads.cold}/overrides", kind="points", points="14,5", reason="met at the fair"
    )
    assert "Override 1 added" in card and "met at the fair" in card
    with db.reading() as session:
        assert session.get(Lead, leads.cold).score == 14.5  # type: ignore[union-attr]
    make_user("rob", "rep")
    rob = Browser(TestClient(web.app))
    rob.sign_in("rob")
    refused = rob.client.post(
        f"/leads/{leads.cold}/overrides",
        data={"csrf": rob.csrf, "kind": "points", "points": "5", "reason": "mine"},
    )
    assert refused.status_code == 403 and "may not" in refused.text


def test_moving_a_stage_needs_an_allowed_move_and_its_reason(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    assert "needs a reason" in browser.post(f"/leads/{leads.cold}/stage", stage="disqualified")
    assert "is not allowed" in browser.post(f"/leads/{leads.cold}/stage", stage="customer")
    assert "unknown stage" in browser.post(f"/leads/{leads.cold}/stage", stage="king")
    browser.post(f"/leads/{leads.cold}/stage", stage="disqualified", reason="student")
    assert stage_of(db, leads.cold) == "disqualified"


def test_closing_a_task_from_the_card(browser: Browser, db: Database, now: datetime) -> None:
    leads = seed(db, now)
    card = browser.post(f"/leads/{leads.owned}/tasks/1/done")
    assert "Task call done" in card and "overdue" not in card.split("Open tasks")[1][:300]
    assert "task 1" in browser.post(f"/leads/{leads.owned}/tasks/1/done")  # already done
    assert "task 1 not found" in browser.post(f"/leads/{leads.hot}/tasks/1/done")


@pytest.mark.parametrize(
    ("url", "status"),
    [("/leads/999999", 404), ("/leads/abc", 422), ("/leads/0", 422), ("/leads/1" + "0" * 30, 422)],
)
def test_missing_or_malformed_lead_addresses(browser: Browser, url: str, status: int) -> None:
    reply = browser.client.get(url)
    assert reply.status_code == status and "<h1>" in reply.text


def test_actions_on_a_missing_lead_say_so(browser: Browser) -> None:
    assert "lead 999 not found" in browser.post("/leads/999/accept")


# -- roles --------------------------------------------------------------------------------------


def test_a_rep_may_not_open_the_dashboard_or_the_models(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    make_user("rob", "rep")
    rob = Browser(web)
    rob.sign_in("rob")
    for url in ("/dashboard", "/analytics", "/models"):
        reply = rob.client.get(url)
        assert reply.status_code == 403 and "Not allowed" in reply.text
    assert 'href="/dashboard"' not in rob.get("/inbox")


def test_the_api_docs_are_served_from_this_server(web: TestClient) -> None:
    html = web.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in html and "cdn." not in html
    assert web.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert web.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def test_analytics_tables_and_their_csv(browser: Browser, db: Database, now: datetime) -> None:
    seed(db, now)
    page = browser.get("/analytics?by=source")
    assert "<th>Referral</th>" in page and "<th>Social</th>" in page
    reply = browser.client.get("/analytics.csv?by=campaign")
    lines = reply.text.splitlines()
    assert reply.headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("\ufeffgroup,leads,qualified") and "spring-webinar,1,1" in reply.text
    assert browser.client.get("/analytics?by=nonsense").status_code == 422


@pytest.mark.parametrize(
    "form",
    [{}, {"username": "mia"}, {"username": "x" * 101, "password": PASSWORD},
     {"username": "mia", "password": "x" * 5000}, {"username": "mia\x00", "password": PASSWORD},
     {"username": "' OR 1=1 --", "password": "' OR 1=1 --"}],
)  # fmt: skip
def test_malformed_sign_ins_are_refused_plainly(
    web: TestClient, form: dict[str, str], make_user: Callable[[str, str], None]
) -> None:
    make_user("mia", "manager")
    token = csrf_of(web.get("/login").text)
    reply = web.post("/login", data={"csrf": token, **form}, follow_redirects=False)
    assert reply.status_code == 401 and "Wrong username or password" in reply.text
    assert web.get("/inbox", follow_redirects=False).status_code == 303


def test_signing_in_returns_to_the_whole_address_or_the_page_a_form_was_on(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    make_user("mia", "manager")
    wanted = web.get("/inbox?q=a&grade=hot&order=both", follow_redirects=False)
    login = web.get(wanted.headers["location"]).text
    assert 'name="next" value="/inbox?q=a&amp;grade=hot&amp;order=both"' in login
    expired = web.post(
        "/leads/1/accept",
        data={},
        follow_redirects=False,
        headers={"referer": "http://testserver/leads/1?tab=x"},
    )
    assert expired.headers["location"] == "/login?next=%2Fleads%2F1%3Ftab%3Dx"
    elsewhere = web.post(
        "/leads/1/accept",
        data={},
        follow_redirects=False,
        headers={"referer": "https://evil.example/leads/1"},
    )
    assert elsewhere.headers["location"] == "/login?next=%2Finbox"


def test_a_tampered_return_address_falls_back_to_the_card(
    browser: Browser, db: Database, now: datetime
) -> None:
    leads = seed(db, now)
    for target in ("/inbox\x00", "/" + "x" * 2001, "https://evil.example/"):
        reply = browser.client.post(
            f"/leads/{leads.hot}/notes",
            follow_redirects=False,
            data={"csrf": browser.csrf, "body": "hi", "next": target},
        )
        assert reply.headers["location"] == f"/leads/{leads.hot}"


def test_an_error_page_keeps_the_navigation_and_the_sign_out(
    browser: Browser, web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    bad = browser.client.get("/inbox?overdue=maybe")
    assert bad.status_code == 422 and "overdue:" in bad.text
    assert 'action="/logout"' in bad.text and 'href="/dashboard"' in bad.text  # still signed in
    make_user("rob", "rep")
    rob = Browser(TestClient(web.app))
    rob.sign_in("rob")
    refused = rob.client.get("/dashboard")
    assert refused.status_code == 403 and 'action="/logout"' in refused.text
    assert 'href="/dashboard"' not in refused.text  # a rep's navigation, without the dashboard
    anonymous = TestClient(web.app).get("/nowhere")
    assert anonymous.status_code == 404 and 'action="/logout"' not in anonymous.text


def test_a_filter_naming_nothing_or_a_page_past_the_last_says_so(
    browser: Browser, db: Database, now: datetime
) -> None:
    seed(db, now)
    bogus = browser.get("/inbox?grade=bogus&stage=nowhere")
    assert "No lead has the grade “bogus”." in bogus and "There is no stage “nowhere”." in bogus
    assert "No lead has the grade" not in browser.get("/inbox?grade=hot")
    polish = browser.client.get("/inbox?grade=bogus", headers={"Accept-Language": "pl"}).text
    assert "Żaden lead nie ma oceny „bogus”." in polish
