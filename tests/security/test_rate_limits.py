"""Sign-in and the public web-form endpoint slow down a client that tries too often."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.http.throttle import Throttle
from leadq.store.db import Database
from tests.web.conftest import PASSWORD, csrf_of


def app_client(db: Database, **limits: str) -> TestClient:
    settings = Settings.model_validate({"database_url": db.url, **limits})
    return TestClient(create_app(settings, db))


def sign_in(client: TestClient, username: str, password: str) -> int:
    csrf = csrf_of(client.get("/login").text)
    data = {"username": username, "password": password, "csrf": csrf}
    status: int = client.post("/login", data=data, follow_redirects=False).status_code
    return status


def test_password_guessing_is_stopped_for_the_name_and_the_address(
    db: Database, make_user: Callable[[str, str], None]
) -> None:
    make_user("ann", "rep")
    with app_client(db, login_rate="3/minute") as client:
        assert [sign_in(client, "ann", f"guess {n}") for n in range(3)] == [401, 401, 401]
        csrf = csrf_of(client.get("/login").text)
        refused = client.post("/login", data={"username": "ann", "password": PASSWORD,
                                              "csrf": csrf})  # fmt: skip
        assert refused.status_code == 429 and "too many sign-in attempts" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # the right password does not get through while the name is throttled
        assert "leadq_session" not in refused.cookies
    with app_client(db, login_rate="3/minute") as fresh:  # a new server: counts start again
        assert sign_in(fresh, "ann", PASSWORD) == 303


def test_web_forms_are_limited_per_address(db: Database) -> None:
    with app_client(db, form_rate="2/minute") as client:
        url = "/api/v1/forms/website"
        sent = [client.post(url, json={"email": f"p{n}@acme.com"}).status_code for n in range(3)]
        assert sent[:2] != [429, 429] and sent[2] == 429
        body = client.post(url, json={"email": "late@acme.com"}).json()
        assert body["error"] == "too_many_requests"
        listed = client.get("/api/v1/health")
        assert listed.status_code == 200  # other endpoints are not throttled


@pytest.mark.parametrize("rate", ["lots", "", "10/fortnight", "-1/minute"])
def test_a_malformed_rate_is_refused_when_settings_load(rate: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        Settings(login_rate=rate)


def test_the_window_moves() -> None:
    throttle = Throttle("2/second")
    assert [throttle.allow("a"), throttle.allow("a"), throttle.allow("a")] == [True, True, False]
    assert throttle.allow("b")  # another key has its own count
    assert throttle.retry_after("a") == 1
