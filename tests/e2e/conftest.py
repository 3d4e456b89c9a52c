"""One headless Chromium per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browsing import CHROMIUM, FLAGS, PASSWORD
from tests.e2e.serving import ran


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``leadq demo --leads 150`` with two admins, ``mia`` and ``olga``, built once per test
    process: each module serves its own copy (a demo takes seconds; a copy, none)."""
    where = tmp_path_factory.mktemp("demo")
    env = {"LEADQ_DATABASE_URL": f"sqlite:///{where / 'demo.db'}", "LEADQ_TEST_PASSWORD": PASSWORD}
    ran(where, env, "demo", "--leads", "150")
    for admin in ("mia", "olga"):
        ran(where, env, "user", "add", admin, "--role", "admin", "--password-env",
                "LEADQ_TEST_PASSWORD")  # fmt: skip
    return where / "demo.db"
