"""The model checks on the web: the dashboard's card names what moved, the history page lists
each run with its alarms; reps see neither."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from leadq.config import Settings
from leadq.services.monitoring import runs
from leadq.store.db import Database
from tests.tuning.watched import RECENT_DAYS, build
from tests.web.conftest import Browser


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the checks run on both elsewhere
def test_a_breach_shows_on_the_dashboard_and_the_history_page(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    model = build(db, now, "meaning")
    settings = Settings(database_url=db.url, monitor_window_days=RECENT_DAYS)
    runs.monitor(db, now - timedelta(days=1), settings)
    runs.monitor(db, now, settings)
    make_user("mia", "manager")
    mia = Browser(web)
    mia.sign_in("mia")
    board = html.unescape(mia.get("/dashboard"))
    assert "Models that need a look" in board and model in board
    assert "The column industry of new leads shifted" in board
    history = html.unescape(mia.get("/monitor"))
    assert history.count("alarm raised") >= 1 and "still off" in history
    assert "company_size" in history  # checked and fine: listed, not raised
    make_user("rita", "rep")
    rita = Browser(web)
    rita.sign_in("rita")
    assert web.get("/monitor").status_code == 403


def test_no_check_yet_says_how_to_run_one(web: TestClient, browser: Browser) -> None:
    page = browser.get("/monitor")
    assert "No check yet" in page and "Models that need a look" not in browser.get("/dashboard")
