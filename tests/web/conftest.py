"""The web UI through the real app and database: a person signs in with a session cookie."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.people.users import add_user
from leadq.store.db import Database

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


class Browser:
    """A TestClient that signs in and posts forms with the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.csrf = csrf_of(self.client.get("/login").text)
        reply = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf": self.csrf},
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
        self.csrf = csrf_of(self.client.get("/inbox").text)

    def get(self, url: str) -> str:
        reply = self.client.get(url)
        assert reply.status_code == 200, reply.text[:500]
        return str(reply.text)

    def post(self, url: str, **data: str) -> str:
        """Post a form like the page would and return the page it leads to."""
        reply = self.client.post(url, data={"csrf": self.csrf, **data})
        assert reply.status_code == 200, reply.text[:500]
        return str(reply.text)


@pytest.fixture
def make_user(db: Database, now: datetime) -> Callable[[str, str], None]:
    def make(username: str, role: str) -> None:
        with db.unit_of_work() as session:
            add_user(session, username, PASSWORD, role, "tests", now)

    return make


@pytest.fixture
def web(db: Database) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(database_url=db.url), db), base_url="http://testserver"
    ) as client:
        yield client


@pytest.fixture
def browser(web: TestClient, make_user: Callable[[str, str], None]) -> Browser:
    """Signed in as ``mia``, a sales manager."""
    make_user("mia", "manager")
    person = Browser(web)
    person.sign_in("mia")
    return person
