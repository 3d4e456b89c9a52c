"""The inbox as a work list through the real app and database: bulk actions confirmed, then
done lead by lead with a report and an audit entry each; saved views that are segments,
personal or shared; the list exported as CSV and XLSX, equal to the API's list and never a
formula; a card that says why an action is missing; forms that keep what was typed."""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.apikeys import create_key
from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Lead, SavedSegment
from tests.web.conftest import Browser, csrf_of
from tests.web.workspace import Leads, seed

_serial = itertools.count()


def _many(db: Database, now: datetime, count: int, stage: str = "mql", **fields: object,
          ) -> list[int]:  # fmt: skip
    with db.unit_of_work() as session:
        ids = [upsert_lead(session, LeadInput.model_validate(
            {"email": f"many{next(_serial)}@firm{i % 3}.example", "first_name": f"Person{i}",
             "company": f"Firm {i % 3}", **fields}), "tests", now, IntakePolicy()).lead.id
            for i in range(count)]  # fmt: skip
        for i, lead in enumerate(session.scalars(select(Lead).where(Lead.id.in_(ids)))):
            lead.stage = stage
            lead.score = float(i * 7 % 13)
            lead.last_activity_at = now - timedelta(hours=i % 5) if i % 4 else None
    return ids


def _bulk(browser: Browser, ids: list[int], confirmed: bool = True, **fields: str) -> str:
    data = {"csrf": browser.csrf, "lead": [str(i) for i in ids], "next": "/inbox", **fields}
    if confirmed:
        data["confirmed"] = "yes"
    reply = browser.client.post("/inbox/bulk", data=data)
    assert reply.status_code == 200, reply.text[:800]
    return str(reply.text)


def _audited(db: Database, action: str) -> dict[str, dict[str, object]]:
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return {str(row.entity_id): row.details for row in rows}


def test_twenty_leads_assigned_in_one_confirmed_action_each_audited(
    browser: Browser, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    make_user("rob", "rep")
    ids = _many(db, now, 20)
    asked = _bulk(browser, ids, confirmed=False, action="assign", owner="rob")
    assert "20 leads" in asked and "Person19" in asked and 'name="confirmed"' in asked
    with db.reading() as session:  # asking changed nothing
        assert not list(session.scalars(select(Lead).where(Lead.owner == "rob")))
    done = _bulk(browser, ids, action="assign", owner="rob")
    assert "Done for 20 leads." in done and "bulk-refused" not in done
    with db.reading() as session:
        assert {x.owner for x in session.scalars(select(Lead).where(Lead.id.in_(ids)))} == {"rob"}
    audited = _audited(db, "lead.assigned")
    assert {int(i) for i in audited} == set(ids)
    assert all(d == {"before": None, "after": "rob"} for d in audited.values())


def test_a_bulk_accept_reports_each_lead_it_could_not_accept_and_why(
    browser: Browser, db: Database, now: datetime
) -> None:
    mqls = _many(db, now, 3)
    nurtured = _many(db, now, 2, stage="nurture", source="web")
    done = _bulk(browser, [*mqls, *nurtured, 999_999], action="accept")
    assert "Done for 3 leads." in done and "Not done for 3 leads" in done
    refused = dict(re.findall(r'<tr data-lead="(\d+)"><td>.*?</td><td>(.*?)</td>', done))
    assert set(refused) == {str(i) for i in [*nurtured, 999_999]}
    assert all("only a mql can be accepted" in refused[str(i)] for i in nurtured)
    assert "not found" in refused["999999"]
    with db.reading() as session:
        leads = {x.id: x for x in session.scalars(select(Lead).where(Lead.id.in_(mqls + nurtured)))}
    assert all(leads[i].stage == "sal" and leads[i].owner == "mia" for i in mqls)  # the accepter
    assert all(leads[i].stage == "nurture" and leads[i].owner is None for i in nurtured)
    assert {int(i) for i in _audited(db, "lead.accepted")} == set(mqls)


def test_a_rep_bulk_changes_only_leads_they_may_see(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    make_user("rob", "rep")
    theirs = _many(db, now, 2, owner="olga")
    free = _many(db, now, 1)
    rep = Browser(web)
    rep.sign_in("rob")
    done = _bulk(rep, [*theirs, *free], action="move", stage="nurture", move_reason="bad_timing")
    assert "Done for 1 lead." in done
    assert all(f'data-lead="{i}"' in done for i in theirs) and "not found" in done
    with db.reading() as session:
        stages = dict(
            session.execute(select(Lead.id, Lead.stage).where(Lead.id.in_(theirs + free))).all()
        )
    assert stages == {theirs[0]: "mql", theirs[1]: "mql", free[0]: "nurture"}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
@pytest.mark.parametrize(("fields", "said"), [
    ({"action": "explode"}, "choose an action"),
    ({"action": "reject"}, "choose a rejection reason"),
    ({"action": "reject", "reason": "no_such_reason"}, "choose a rejection reason"),
    ({"action": "add_to_segment"}, "choose a segment"),
    ({"action": "add_to_segment", "segment": "nobody-made-this"}, "not found"),
    ({"action": "assign", "owner": "x" * 101}, "at most 100"),
    ({"action": "move", "stage": "superhot"}, ""),
])  # fmt: skip
def test_a_bulk_action_it_cannot_do_changes_nothing_and_says_why(
    browser: Browser, db: Database, now: datetime, fields: dict[str, str], said: str
) -> None:
    ids = _many(db, now, 2)
    data = {"csrf": browser.csrf, "confirmed": "yes", "lead": [str(i) for i in ids], **fields}
    reply = browser.client.post("/inbox/bulk", data=data)
    if fields.get("stage") == "superhot":  # refused per lead: an unknown stage for each
        assert reply.status_code == 200 and "Not done for 2 leads" in reply.text
        assert "unknown stage" in reply.text
    else:
        assert reply.status_code == 422 and "Nothing was done" in reply.text and said in reply.text
    with db.reading() as session:
        assert {x.stage for x in session.scalars(select(Lead).where(Lead.id.in_(ids)))} == {"mql"}
        assert not _audited(db, "lead.assigned") and not _audited(db, "segment.member_added")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
@pytest.mark.parametrize("ids", [["abc"], ["0"], ["-3"], ["1e3"], [""], [], ["7"] * 1001])
def test_bulk_lead_ids_that_are_not_ids_are_refused(browser: Browser, ids: list[str]) -> None:
    reply = browser.client.post("/inbox/bulk", data={"csrf": browser.csrf, "action": "accept",
                                                     "lead": ids})  # fmt: skip
    assert reply.status_code in (400, 422), reply.status_code  # 400: more fields than a form has
    assert "Nothing was done" in reply.text or reply.status_code == 400


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_a_bulk_action_without_the_form_token_is_refused(browser: Browser, db: Database,
                                                         now: datetime) -> None:  # fmt: skip
    ids = _many(db, now, 1)
    reply = browser.client.post("/inbox/bulk", data={"action": "accept", "confirmed": "yes",
                                                     "lead": [str(ids[0])]})  # fmt: skip
    assert reply.status_code == 403
    with db.reading() as session:
        assert session.get(Lead, ids[0]).stage == "mql"  # type: ignore[union-attr]


def test_segments_take_and_lose_members_by_hand_but_not_against_their_filter(
    browser: Browser, db: Database, now: datetime
) -> None:
    ids = _many(db, now, 3)
    _many(db, now, 1, source="partner")
    browser.post("/inbox/views", name="partners", source="partner", mine="false",
                 sort="-score", columns="grade,score", shared="on")  # fmt: skip
    added = _bulk(browser, ids[:2], action="add_to_segment", segment="partners")
    assert "Done for 2 leads." in added
    listed = browser.get("/inbox?segment=partners&mine=false")
    assert listed.count('data-lead="') == 3  # the filter's lead and the two added by hand
    with db.reading() as session:
        partner = session.scalars(select(Lead.id).where(Lead.source == "partner")).one()
    removed = _bulk(browser, [ids[0], ids[2], partner], action="remove_from_segment",
                    segment="partners")  # fmt: skip
    assert "Done for 1 lead." in removed
    assert "is not in partners" in removed and "matches the filter of partners" in removed
    assert browser.get("/inbox?segment=partners&mine=false").count('data-lead="') == 2
    assert {int(i) for i in _audited(db, "segment.member_removed")} == {ids[0]}


def test_a_personal_view_is_its_owners_and_a_shared_one_everyones(
    web: TestClient, browser: Browser, db: Database, now: datetime,
    make_user: Callable[[str, str], None],
) -> None:  # fmt: skip
    _many(db, now, 4)
    _many(db, now, 2, stage="nurture")
    opened = browser.post("/inbox/views", name="my-nurture", stage="nurture", mine="false",
                          sort="-last_activity_at", columns="stage,last_activity_at")  # fmt: skip
    assert "View “my-nurture” saved" in opened and opened.count('data-lead="') == 2
    assert 'aria-sort="descending"' in opened and "Last activity ↓" in opened
    assert ">Score</a>" not in opened  # the columns the view keeps
    browser.post("/inbox/views", name="everything", mine="false", sort="owner", columns="owner",
                 shared="on")  # fmt: skip
    assert browser.get("/inbox?segment=everything&mine=false").count('data-lead="') == 6
    kept = _bulk(browser, [_many(db, now, 1)[0]], action="remove_from_segment",
                 segment="everything")  # fmt: skip
    assert "everything lists every lead; the lead stays a member" in kept
    make_user("rob", "rep")
    rep = Browser(web)
    rep.sign_in("rob")
    sidebar = rep.get("/inbox")
    assert "everything" in sidebar and "my-nurture" not in sidebar
    assert "not found" in rep.get("/inbox?segment=my-nurture&mine=false")
    refused = rep.post("/inbox/views", name="team", mine="true", sort="-score", columns="score",
                       shared="on")  # fmt: skip
    assert "only managers, marketing and admins share views" in refused
    taken = rep.post("/inbox/views", name="my-nurture", mine="true", sort="-score",
                     columns="score")  # fmt: skip
    assert "someone&#39;s personal view" in taken or "someone's personal view" in taken
    with db.reading() as session:
        views = {s.name: s.owner for s in session.scalars(select(SavedSegment))}
    assert views == {"my-nurture": "mia", "everything": None}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
@pytest.mark.parametrize("name", ["", "Big Name", "a" * 64, "1st", "bad\x00", "../x"])
def test_a_view_name_that_is_not_a_name_is_refused(browser: Browser, db: Database,
                                                   name: str) -> None:  # fmt: skip
    page = browser.post("/inbox/views", name=name, mine="false", sort="-score", columns="score")
    assert 'class="flash error"' in page
    with db.reading() as session:
        assert not list(session.scalars(select(SavedSegment)))


def _api_list(client: TestClient, token: str, **params: str) -> list[dict[str, object]]:
    found, cursor = [], None
    while True:
        asked = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/leads", params=asked,
                          headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


@pytest.mark.parametrize("sort", ["-last_activity_at", "owner", "-score", "created_at"])
def test_a_saved_view_exported_is_the_api_list_every_page_and_never_a_formula(
    browser: Browser, db: Database, now: datetime, sort: str
) -> None:
    _many(db, now, 30)
    _many(db, now, 3, company='=HYPERLINK("http://evil.example","x")', owner="@SUM(1)")
    with db.unit_of_work() as session:
        token, _ = create_key(session, "export-check", now)
    browser.post("/inbox/views", name="all-open", mine="false", sort=sort, columns="score")
    reply = browser.client.get(f"/inbox/export.csv?segment=all-open&mine=false&sort={sort}")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    text = reply.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    listed = _api_list(browser.client, token, segment="all-open", sort=sort)
    assert [int(r["id"]) for r in rows] == [x["id"] for x in listed] and len(rows) == 33
    assert [r["email"] for r in rows] == [x["email"] for x in listed]
    evil = [r for r in rows if "HYPERLINK" in r["company"]]
    assert len(evil) == 3 and all(r["company"].startswith("'=") for r in evil)
    assert all(r["owner"] == "'@SUM(1)" for r in evil)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_the_excel_export_holds_text_as_text_and_every_lead(
    browser: Browser, db: Database, now: datetime
) -> None:
    _many(db, now, 12)
    _many(db, now, 1, company="=cmd|' /C calc'!A0")
    reply = browser.client.get("/inbox/export.xlsx?mine=false&sort=-score")
    assert reply.status_code == 200 and "spreadsheetml" in reply.headers["content-type"]
    with zipfile.ZipFile(io.BytesIO(reply.content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in \
            book.namelist() else sheet  # fmt: skip
    assert "<f>" not in sheet and "<f " not in sheet  # no cell is a formula
    assert sheet.count("<row ") == 14  # the header and every lead
    assert "=cmd|" in strings  # kept as the text it is


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_the_selected_leads_alone_are_exported(browser: Browser, db: Database,
                                               now: datetime) -> None:  # fmt: skip
    ids = _many(db, now, 6)
    asked = {"mine": "false", "sort": "-score", "lead": [str(ids[1]), str(ids[4])]}
    reply = browser.client.get("/inbox/export.csv", params=asked)
    rows = list(csv.DictReader(io.StringIO(reply.content.decode().lstrip("\ufeff"))))
    assert sorted(int(r["id"]) for r in rows) == sorted([ids[1], ids[4]])


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_a_polish_reader_gets_semicolons_and_decimal_commas(
    browser: Browser, db: Database, now: datetime
) -> None:
    ids = _many(db, now, 2)
    with db.unit_of_work() as session:
        session.get(Lead, ids[0]).probability = 0.25  # type: ignore[union-attr]
    browser.client.post("/language", data={"csrf": browser.csrf, "language": "pl",
                                           "next": "/inbox"})  # fmt: skip
    text = browser.client.get("/inbox/export.csv?mine=false").content.decode().lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[0] == "id" and any(r[header.index("probability")] == "0,25" for r in rows)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_an_unknown_order_or_a_forged_cursor_opens_the_list_with_a_notice(
    browser: Browser, db: Database, now: datetime
) -> None:
    _many(db, now, 3)
    odd = browser.get("/inbox?sort=loudest&mine=false")
    assert "There is no order “loudest”" in odd and odd.count('data-lead="') == 3
    forged = browser.client.get("/inbox?cursor=bm90IGEgY3Vyc29y&mine=false")
    assert forged.status_code == 200 and "This page link no longer works" in forged.text
    assert browser.client.get("/inbox/export.csv?cursor=x").status_code == 200  # ignored there


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_the_card_says_why_there_is_no_accept_and_accept_gives_the_lead_an_owner(
    browser: Browser, db: Database, now: datetime, seeded: Leads
) -> None:
    with db.unit_of_work() as session:
        session.get(Lead, seeded.cold).stage = "nurture"  # type: ignore[union-attr]
    card = browser.get(f"/leads/{seeded.cold}")
    assert 'id="accept"' not in card
    assert "No Accept: only a MQL is accepted, and this lead is Nurture." in card
    assert "Move it to MQL first" in card and "No Reject" in card
    hot = browser.get(f"/leads/{seeded.hot}")
    assert 'id="why-not"' not in hot and '<option value="mia" selected>' in hot
    browser.client.post(f"/leads/{seeded.hot}/accept", data={"csrf": browser.csrf})
    with db.reading() as session:
        assert session.get(Lead, seeded.hot).owner == "mia"  # type: ignore[union-attr]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_a_refused_framework_answer_comes_back_open_with_what_was_typed(
    browser: Browser, seeded: Leads
) -> None:
    reply = browser.client.post(f"/leads/{seeded.hot}/frameworks/bant", data={
        "csrf": browser.csrf, "answer.budget": "lots", "answer.timing": "3"})  # fmt: skip
    assert reply.status_code == 200
    assert str(reply.url).endswith(f"/leads/{seeded.hot}#fw-bant")
    card = reply.text
    panel = card[card.index('id="fw-bant"') : card.index("</details>", card.index('id="fw-bant"'))]
    assert panel.split(">", 1)[0].endswith("open")
    assert 'value="lots"' in panel and 'aria-invalid="true"' in panel and 'value="3"' in panel
    assert 'class="field-error"' in panel
    again = browser.get(f"/leads/{seeded.hot}")  # shown once: a reload reads what is stored
    assert 'value="lots"' not in again


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_the_override_form_offers_the_models_grades_and_the_stages(
    browser: Browser, seeded: Leads
) -> None:
    card = browser.get(f"/leads/{seeded.hot}")
    grades = re.search(r'<select name="grade">(.*?)</select>', card, re.S)
    assert grades and re.findall(r'value="(\w+)"', grades[1]) == ["hot", "warm", "cold"]
    assert '<select name="stage">' in card and 'name="points" type="number"' in card
    assert csrf_of(card)


@pytest.fixture
def seeded(db: Database, now: datetime) -> Leads:
    return seed(db, now)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # about the page, not the SQL
def test_another_persons_view_is_not_exported(
    web: TestClient, browser: Browser, db: Database, now: datetime,
    make_user: Callable[[str, str], None],
) -> None:  # fmt: skip
    _many(db, now, 2)
    browser.post("/inbox/views", name="mine-only", mine="false", sort="-score", columns="score")
    make_user("rob", "rep")
    rep = Browser(web)
    rep.sign_in("rob")
    for kind in ("csv", "xlsx"):
        refused = web.get(f"/inbox/export.{kind}?segment=mine-only&mine=false")
        assert refused.status_code == 404 and "not found" in refused.text
        assert 'href="/inbox"' in refused.text  # inside the layout, navigation kept


def test_the_dashboard_shows_the_days_asked_for_and_says_when_it_cannot(
    browser: Browser, db: Database, now: datetime
) -> None:
    ids = _many(db, now, 5)
    with db.unit_of_work() as session:
        for lead_id, days in zip(ids, (400, 200, 40, 10, 1), strict=True):
            session.get(Lead, lead_id).created_at = now - timedelta(days=days)  # type: ignore[union-attr]
    today = now.date()
    last_month = browser.get(f"/dashboard?since={today - timedelta(days=29)}&until={today}")
    assert re.search(r"<dt>Leads</dt><dd>(?:<span[^>]*>)?2<", last_month)
    assert "Leads created" in last_month and 'aria-current="true">Last 30 days' in last_month
    everything = browser.get("/dashboard")
    assert re.search(r"<dt>Leads</dt><dd>(?:<span[^>]*>)?5<", everything)
    for bad in ("since=2026-13-01", "since=yesterday", "since=2026-05-01&until=2026-04-01",
                "since=2000-01-01&until=2026-01-01"):  # fmt: skip
        refused = browser.get(f"/dashboard?{bad}")
        assert 'class="flash error"' in refused
        assert re.search(r"<dt>Leads</dt><dd>(?:<span[^>]*>)?5<", refused)  # all time instead
    assert browser.client.get("/dashboard?since=" + "9" * 11).status_code == 422
    trend = everything[everything.index("Score of new leads by week") :]
    assert 'class="gridline"' in trend[:4000]  # the trend chart has its y-axis
