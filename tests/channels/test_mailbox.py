"""The monitored inbox against a real IMAP server: a new sender becomes a lead, a reply to a
nurture e-mail is ``email_replied`` on its lead, an out-of-office and a bounce create no lead
(the bounce is ``email_bounced`` on the address's lead), handled mail is moved, and a restart
or a message read twice stores nothing twice."""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.services.automation.reactions import enqueue
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.users import add_user
from leadq.store.db import Database
from leadq.store.tables import ConnectorStatus, Event, Lead
from tests.channels.imap_server import PASSWORD, Imap, available, dovecot
from tests.cli import invoke
from tests.web.conftest import PASSWORD as WEB_PASSWORD
from tests.web.conftest import Browser

USERS = [f"leads{i}@example.com" for i in range(8)]
_next = itertools.count()
NEW = (
    b"""From: Jan Kowalski <Jan@NewCo.example>
To: leads@example.com
Subject: Pricing for 40 seats
Date: Tue, 01 Dec 2026 10:00:00 +0100
Message-ID: <m1@newco.example>

Hello, what would 40 seats cost?
"""
    + b"-- \nJan Kowalski\n+48 601 234 567\n"
)
REPLY = b"""From: Known Person <known@firm.example>
To: leads@example.com
Subject: Re: Our guide
Date: Tue, 01 Dec 2026 11:00:00 +0100
Message-ID: <m2@firm.example>
In-Reply-To: <leadq-nurture-1@leadq>
References: <leadq-nurture-1@leadq>

Thanks, interesting.
"""
AWAY = b"""From: Boss <boss@other.example>
To: leads@example.com
Subject: Automatic reply
Message-ID: <m3@other.example>
Auto-Submitted: auto-replied

Back next week.
"""
BOUNCE = b"""From: MAILER-DAEMON@mx.example.net
To: leads@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <m4@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; known@firm.example
Action: failed
Status: 5.1.1

--B--
"""


@pytest.fixture(scope="module")
def imap() -> Iterator[Imap]:
    if reason := available():
        pytest.skip(reason)
    with dovecot(USERS) as server:
        yield server


def _events(db: Database) -> list[tuple[str | None, str]]:
    with db.reading() as session:
        rows = session.execute(
            select(Lead.email, Event.type)
            .join(Lead, Lead.id == Event.lead_id)
            .order_by(Lead.email, Event.type)
        ).all()
    return [(email, kind) for email, kind in rows]


def test_the_inbox_makes_leads_records_replies_and_bounces_once(
    imap: Imap, db: Database, now: datetime, tmp_path: Path
) -> None:
    user = USERS[next(_next)]
    with db.unit_of_work() as session:
        known = upsert_lead(
            session, LeadInput(email="known@firm.example"), "api", now, IntakePolicy()
        ).lead.id
        enqueue(
            session,
            "email",
            "known@firm.example",
            {"subject": "Our guide", "body": "…"},
            now,
            lead_id=known,
            key="leadq-nurture-1",
        )
    imap.deliver(user, NEW, REPLY, AWAY, BOUNCE)
    env = {"LEADQ_DATABASE_URL": db.url, **imap.env(user)}
    first = invoke(tmp_path, ["mailbox"], env)
    assert first.returncode == 0, first.stderr
    assert "4 read: 2 from people (1 replies), 1 automatic replies, 1 bounces" in first.stdout
    expected = [
        ("jan@newco.example", "email_received"),
        ("known@firm.example", "email_bounced"),
        ("known@firm.example", "email_replied"),
    ]
    assert _events(db) == expected
    with db.reading() as session:
        names = session.execute(select(Lead.email, Lead.first_name, Lead.last_name)).all()
    with db.reading() as session:
        phone = session.scalar(select(Lead.phone).where(Lead.email == "jan@newco.example"))
    assert phone == "+48601234567", "the one international number of the signature"
    assert sorted(names) == [
        ("jan@newco.example", "Jan", "Kowalski"),
        ("known@firm.example", None, None),
    ]
    assert imap.count(user, "INBOX") == 0 and imap.count(user, "leadq-done") == 4
    again = invoke(tmp_path, ["mailbox"], env)
    assert "0 read" in again.stdout and _events(db) == expected
    imap.deliver(user, NEW)  # as if a crash had come between storing it and moving it
    crashed = invoke(tmp_path, ["mailbox"], env)
    assert "1 read" in crashed.stdout and _events(db) == expected


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # no database difference to see
def test_a_refused_login_is_one_line_and_kept_for_health(
    imap: Imap, db: Database, tmp_path: Path
) -> None:
    env = {"LEADQ_DATABASE_URL": db.url, **imap.env(USERS[0], password="wrong-password")}
    refused = invoke(tmp_path, ["mailbox"], env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "the inbox 127.0.0.1" in refused.stderr
    with db.reading() as session:
        status = session.get(ConnectorStatus, "imap")
    assert status is not None and status.last_error and status.last_success_at is None
    unset = invoke(tmp_path, ["mailbox"], {"LEADQ_DATABASE_URL": db.url})
    assert unset.returncode != 0 and "LEADQ_IMAP_HOST" in unset.stderr


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # no database difference to see
@pytest.mark.parametrize(("password", "said"), [
    (PASSWORD, "The inbox answered"), ("wrong-password", "the inbox 127.0.0.1"),
])  # fmt: skip
def test_the_settings_page_lists_connectors_and_tests_the_inbox(
    imap: Imap, db: Database, now: datetime, password: str, said: str
) -> None:
    environment = {**imap.env(USERS[1], password=password), "LEADQ_DATABASE_URL": db.url,
                   "LEADQ_CALLS_SECRET": "calls-secret-9"}  # fmt: skip
    settings = Settings.model_validate({k.removeprefix("LEADQ_").lower(): v
                                        for k, v in environment.items()})  # fmt: skip
    with db.unit_of_work() as session:
        add_user(session, "mia", WEB_PASSWORD, "manager", "tests", now)
    with TestClient(create_app(settings, db), base_url="http://testserver") as client:
        mia = Browser(client)
        mia.sign_in("mia")
        page = html.unescape(mia.get("/settings"))
        assert (
            "http://testserver/api/v1/channels/calls/generic" in page and "Test the inbox" in page
        )
        tested = html.unescape(mia.post("/settings/inbox"))
    assert said in tested
