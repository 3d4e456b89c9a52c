"""Users who sign in: argon2 hashes, roles, and ``leadq user`` with its mistakes."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.services.errors import Conflict, InvalidInput
from leadq.services.people.users import (
    add_user,
    authenticate,
    disable_user,
    set_password,
    set_role,
)
from leadq.services.qualification.inbox import CLOSED
from leadq.store.db import Database
from leadq.store.tables import AppSecret, Lead, User
from tests.cli import Result, invoke, spawn
from tests.web.conftest import PASSWORD, Browser

LEADQ = [sys.executable, "-m", "leadq"]


def test_passwords_are_kept_only_as_argon2_hashes(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        add_user(session, "anna", PASSWORD, "rep", "tests", now)
    with db.reading() as session:
        stored = session.scalars(select(User.password_hash)).one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert authenticate(session, "anna", PASSWORD) is not None
        assert authenticate(session, "anna", PASSWORD + "!") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        assert authenticate(session, "anna", PASSWORD + "x" * 1000) is None
    with db.unit_of_work() as session:
        set_password(session, "anna", "a new long password", "tests", now)
    with db.reading() as session:
        assert authenticate(session, "anna", PASSWORD) is None
        assert authenticate(session, "anna", "a new long password") is not None


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("Anna", PASSWORD, "rep", "username"),
        ("", PASSWORD, "rep", "username"),
        ("a" * 64, PASSWORD, "rep", "username"),
        ("anna\x00", PASSWORD, "rep", "username"),
        ("anna", "short", "rep", "password"),
        ("anna", "x" * 257, "rep", "password"),
        ("anna", PASSWORD, "boss", "role"),
    ],
)
def test_bad_users_are_refused_with_the_field(
    db: Database, now: datetime, username: str, password: str, role: str, field: str
) -> None:
    with db.unit_of_work() as session, pytest.raises(InvalidInput) as refused:
        add_user(session, username, password, role, "tests", now)
    assert refused.value.errors[0].field == field


def test_a_username_is_taken_once(db: Database, now: datetime) -> None:
    with db.unit_of_work() as session:
        add_user(session, "anna", PASSWORD, "rep", "tests", now)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        add_user(session, "anna", PASSWORD, "admin", "tests", now)


def test_every_server_of_a_workspace_signs_sessions_with_the_same_key(
    db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        add_user(session, "anna", PASSWORD, "rep", "tests", now)
    settings = Settings(database_url=db.url)
    with (
        TestClient(create_app(settings, db)) as first,
        TestClient(create_app(settings, db)) as second,
    ):
        person = Browser(first)
        person.sign_in("anna")
        second.cookies.update(first.cookies)  # the next request lands on another worker
        assert second.get("/inbox", follow_redirects=False).status_code == 200
    with db.reading() as session:
        assert len(session.scalars(select(AppSecret)).all()) == 1


def leadq(cwd: Path, *args: str, ok: bool = True, **env: str) -> Result:
    done = invoke(cwd, list(args), {"LEADQ_DATABASE_URL": f"sqlite:///{cwd / 'w.db'}", **env})
    if ok:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert done.stderr.startswith("leadq: "), done.stderr
    return done


def test_the_user_commands_and_their_mistakes(tmp_path: Path) -> None:
    leadq(tmp_path, "init")
    leadq(tmp_path, "user", "add", "anna", "--role", "rep", "--password-env", "PW", PW=PASSWORD)
    assert "anna" in leadq(tmp_path, "user", "list").stdout
    taken = leadq(tmp_path, "user", "add", "anna", "--password-env", "PW", ok=False, PW=PASSWORD)
    assert "taken" in taken.stderr
    for args, reason in [
        (["anna", "--password-env", "NOPE"], "NOPE is not set"),
        (["Bad Name", "--password-env", "PW"], "username"),
        (["ben", "--role", "boss", "--password-env", "PW"], "role"),
        (["ben", "--password-env", "SHORT"], "password"),
    ]:
        failed = leadq(tmp_path, "user", "add", *args, ok=False, PW=PASSWORD, SHORT="abc")
        assert reason in failed.stderr
    prompted = spawn(
        tmp_path,
        ["user", "add", "ben"],
        {"LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"},
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.returncode == 0 and PASSWORD not in prompted.stdout
    leadq(tmp_path, "user", "disable", "anna")
    assert "user zed not found" in leadq(tmp_path, "user", "disable", "zed", ok=False).stderr
    with Database(f"sqlite:///{tmp_path / 'w.db'}").reading() as session:
        disabled = {
            name: at for name, at in session.execute(select(User.username, User.disabled_at))
        }
    assert disabled["anna"] is not None and disabled["ben"] is None


def test_the_demo_opens_on_a_populated_inbox_and_dashboard(tmp_path: Path) -> None:
    shown = leadq(tmp_path, "demo", "--leads", "60", COLUMNS="200").stdout
    found = re.search(r"sign in as demo with password (\S+)", shown)
    assert found, shown[-500:]
    again = leadq(tmp_path, "demo", "--leads", "60", COLUMNS="200").stdout
    assert "with the password shown the first time" in again
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with TestClient(create_app(Settings(database_url=db.url), db)) as client:
        person = Browser(client)
        person.sign_in("demo", found.group(1))
        with db.reading() as session:
            workable = session.scalar(select(func.count()).select_from(Lead)
                                      .where(Lead.stage.not_in(CLOSED)))  # fmt: skip
        assert workable and person.get("/inbox").count('data-lead="') == min(50, workable)
        dashboard = person.get("/dashboard")
        assert dashboard.count('<rect class="bar') > 40 and 'class="muted empty"' not in dashboard
    db.dispose()


@pytest.mark.parametrize("ending", ["sign-out", "password", "role", "disabled"])
def test_ending_a_session_ends_every_copy_of_it(db: Database, now: datetime, ending: str) -> None:
    """A cookie copied before the end (another tab, another device, a thief) stops working."""
    with db.unit_of_work() as session:
        add_user(session, "anna", PASSWORD, "rep", "tests", now)
    settings = Settings(database_url=db.url)
    with (
        TestClient(create_app(settings, db)) as signed,
        TestClient(create_app(settings, db)) as copy,
    ):
        person = Browser(signed)
        person.sign_in("anna")
        copy.cookies.update(signed.cookies)
        assert copy.get("/inbox", follow_redirects=False).status_code == 200
        if ending == "sign-out":
            out = signed.post("/logout", data={"csrf": person.csrf}, follow_redirects=False)
            assert out.status_code == 303
        else:
            with db.unit_of_work() as session:
                if ending == "password":
                    set_password(session, "anna", "a new long passphrase", "admin", now)
                elif ending == "role":
                    set_role(session, "anna", "manager", "admin", now)
                else:
                    disable_user(session, "anna", "admin", now)
        stale = copy.get("/inbox", follow_redirects=False)
        assert stale.status_code in (302, 303, 401) and "/login" in stale.headers.get(
            "location", "/login")  # fmt: skip
        if ending in ("sign-out", "role"):  # signing in again works at once
            again = Browser(copy)
            again.sign_in("anna")
            assert copy.get("/inbox", follow_redirects=False).status_code == 200
