"""Pages in the reader's language, through the real app: which language a reader gets, the
switch in the header (and hostile posts to it), the analytics CSV in the locale's spreadsheet
convention, and no raw code on a page where a label exists."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from leadq.config import Settings
from leadq.domain.automation import Automation
from leadq.i18n import Language
from leadq.i18n.codes import CODES
from leadq.services.analytics.costs import import_cost_data
from leadq.services.automation.reactions import workspace_labels
from leadq.services.people.users import set_reading
from leadq.services.qualification.rules import load_rules
from leadq.store.db import Database
from leadq.store.tables import User
from tests.web.conftest import Browser, csrf_of
from tests.web.workspace import seed

POLISH = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}


class _Text(HTMLParser):
    """The text a person reads on a page: no attributes, no scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._hidden += tag in ("script", "style", "code", "textarea")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style", "code", "textarea")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def test_the_browser_language_decides_until_the_reader_picks_one(
    browser: Browser, db: Database, now: datetime
) -> None:
    seed(db, now)
    english = browser.get("/inbox")
    assert '<html lang="en">' in english and "<h1>Inbox" in english
    polish = browser.client.get("/inbox", headers=POLISH).text
    assert '<html lang="pl">' in polish and "Skrzynka odbiorcza" in polish
    page = browser.post("/language", language="ru", next="/dashboard")
    dashboard = Language("ru").gettext("Dashboard")
    assert '<html lang="ru">' in page and f"<h1>{dashboard}</h1>" in page  # where it was
    with db.reading() as session:
        assert session.scalars(select(User.language).where(User.username == "mia")).one() == "ru"
    assert '<html lang="ru">' in browser.client.get("/inbox", headers=POLISH).text


def test_the_sign_in_page_speaks_the_browsers_language_and_keeps_a_choice(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    make_user("ola", "rep")
    assert '<html lang="ro">' in web.get("/login", headers={"Accept-Language": "ro"}).text
    token = csrf_of(web.get("/login").text)
    web.post("/language", data={"csrf": token, "language": "pl", "next": "/login"})
    signed = web.post("/login", data={"csrf": token, "username": "ola",
                                      "password": "correct horse battery"})  # fmt: skip
    assert '<html lang="pl">' in signed.text  # the choice outlived signing in


@pytest.mark.parametrize(
    ("form", "status"),
    [({"language": "de"}, 422), ({"language": ""}, 422), ({}, 422),
     ({"language": "pl" * 5000}, 422), ({"language": "pl\x00"}, 422),
     ({"language": "<script>"}, 422)],
)  # fmt: skip
def test_a_language_outside_ours_is_refused_and_changes_nothing(
    browser: Browser, db: Database, form: dict[str, str], status: int
) -> None:
    reply = browser.client.post("/language", data={"csrf": browser.csrf, **form})
    assert reply.status_code == status and "must be one of en, pl, ro, ru" in reply.text
    assert "<script>" not in reply.text
    assert 'name="next" value="/inbox"' in reply.text  # a page posted to: the switch goes home
    with db.reading() as session:
        assert session.scalars(select(User.language).where(User.username == "mia")).one() is None


def test_the_switch_needs_the_forms_token_and_returns_only_to_this_site(
    browser: Browser,
) -> None:
    forged = browser.client.post("/language", data={"language": "pl"}, follow_redirects=False)
    assert forged.status_code == 403
    away = browser.client.post("/language", follow_redirects=False, data={
        "csrf": browser.csrf, "language": "pl", "next": "//evil.example/x"})  # fmt: skip
    assert away.status_code == 303 and away.headers["location"] == "/inbox"


def test_a_users_time_zone_shows_their_times(browser: Browser, db: Database, now: datetime) -> None:
    leads = seed(db, now)
    with db.unit_of_work() as session:
        set_reading(session, "mia", "ru", "Asia/Vladivostok", "tests", now)
    card = browser.get(f"/leads/{leads.hot}")
    shown = Language("ru", zone=__import__("zoneinfo").ZoneInfo("Asia/Vladivostok")).when(now)
    assert shown in card and re.search(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}", shown)


@pytest.mark.parametrize("language", ["pl", "ro", "ru", "en"])
def test_the_analytics_csv_opens_in_the_locales_spreadsheet_with_the_apis_figures(
    browser: Browser, client: TestClient, db: Database, now: datetime, language: str
) -> None:
    seed(db, now)
    with db.unit_of_work() as session:
        import_cost_data(session, b"campaign,spent_on,amount\nspring-webinar,"
                         + now.date().isoformat().encode() + b",4534.45\n", now)  # fmt: skip
    reply = browser.client.get("/analytics.csv?by=campaign", headers={"Accept-Language": language})
    assert reply.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the letters right
    reader = Language(language)
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig")),
                               delimiter=reader.csv_delimiter))  # fmt: skip
    api = client.get("/api/v1/analytics", params={"by": "campaign"}).json()["rows"]
    assert len(rows) == len(api) >= 2
    for row, expected in zip(rows, api, strict=True):
        assert row["group"] == expected["group"]
        for name, value in expected.items():
            if isinstance(value, float):
                assert float(row[name].replace(reader.decimal_mark, ".")) == pytest.approx(value)
            elif isinstance(value, int):
                assert int(row[name]) == value
    assert ("4534,45" if language != "en" else "4534.45") in reply.text


def test_no_page_shows_a_raw_code_where_a_label_exists(
    browser: Browser, db: Database, now: datetime
) -> None:
    """In Polish every labelled code (stages, grades, reasons, sources, event types…) reads
    as its label; the code may stay only in attributes."""
    leads = seed(db, now)
    pages = [browser.client.get(url, headers=POLISH).text for url in (
        "/inbox", f"/leads/{leads.hot}", f"/leads/{leads.cold}", f"/leads/{leads.owned}",
        "/dashboard", "/analytics?by=source", "/analytics?by=campaign")]  # fmt: skip
    labels = workspace_labels(load_rules(), Automation())
    polish = Language("pl", labels=labels)
    codes = {code for _, code in CODES} | {k for k, v in labels.items() if "pl" in v}
    labelled = {c for c in codes if "_" in c or c in ("mql", "iql", "sal", "nurture")}
    labelled = {c for c in labelled if polish.label(c) != c}
    assert {"mql", "not_ready", "paid_search", "decision_maker", "c_level"} <= labelled
    for html in pages:
        text = visible(html)
        shown = {c for c in labelled if re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w.-])", text)}
        assert not shown, f"raw codes on a Polish page: {sorted(shown)}"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [("LEADQ_LOCALE", "de", "en, pl, ro, ru"), ("LEADQ_CURRENCY", "ZZZ", "ISO 4217"),
     ("LEADQ_CURRENCY", "złoty", "ISO 4217"), ("LEADQ_TIME_ZONE", "Mars/Base", "IANA"),
     ("LEADQ_TIME_ZONE", "../../etc/passwd", "IANA")],
)  # fmt: skip
def test_bad_language_settings_are_refused_with_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=re.escape(words)):
        Settings()
