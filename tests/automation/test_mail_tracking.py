"""A nurture e-mail leadq sends a lead, through a real SMTP server: its open pixel and
links record ``email_opened`` / ``email_clicked`` once each however often they are fetched,
a proxy's open is marked as a machine's, a changed link is refused without redirecting, and
the one-click unsubscribe (RFC 8058) withdraws marketing e-mail consent."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.domain.mail_links import MAIL_SECRET, Link, sign
from leadq.services.automation import outbox
from leadq.services.automation.document import current_automation
from leadq.services.intake.duplicates import merge
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.secrets import workspace_secret
from leadq.store.tables import Event, Lead, OutboxMessage, PossibleDuplicate
from tests.automation.conftest import Mailbox
from tests.automation.documents import put_in_force

DOCUMENT = """
tracks:
  welcome:
    content: [guide]
    email:
      subject: "Your lead scoring guide"
      body: |
        Hello,
        the guide is at https://www.example.com/guide.pdf?from=mail and the price list
        at https://www.example.com/pricing.
rules:
  - id: welcome_new
    trigger: lead_created
    do: [{nurture: welcome}]
"""


def _part(mail: Message, kind: str) -> str:
    found = next(p for p in mail.walk() if p.get_content_type() == kind)
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _granted(db: Database, lead_id: int) -> object:
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.consents is not None
        return lead.consents["marketing_email"]["granted"]


def _events(db: Database, kind: str) -> list[Event]:
    with db.reading() as session:
        return list(session.scalars(select(Event).where(Event.type == kind)))


def test_a_nurture_email_tracks_opens_clicks_and_one_click_unsubscribe(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mailbox: tuple[Mailbox, int],
) -> None:  # fmt: skip
    box, port = mailbox
    monkeypatch.setenv("LEADQ_PUBLIC_URL", "http://testserver")  # where the links point
    put_in_force(monkeypatch, tmp_path, DOCUMENT)
    now = datetime.now(UTC)
    consent = {"purpose": "marketing_email", "granted": True, "at": now.isoformat(),
               "source": "signup form"}  # fmt: skip
    lead_id = client.post("/api/v1/leads", json={"email": "ola@firm.example",
                                                 "consents": [consent]}).json()["id"]  # fmt: skip
    settings = Settings(database_url=db.url, smtp_port=port)
    # the clock of now, not of the test's start: the message is due from its own time
    assert outbox.deliver_due(db, current_automation(), settings, lambda: datetime.now(UTC)
                              ).delivered == 1  # fmt: skip
    (mail,) = box.messages
    assert mail["To"] == "ola@firm.example" and mail["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click")  # fmt: skip
    html, text = _part(mail, "text/html"), _part(mail, "text/plain")
    assert "example.com/guide.pdf" not in re.sub(r">[^<]*<", "><", html)  # only signed hrefs
    pixel = re.search(r'<img src="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    guide = re.search(r"(http://testserver/m/c/\S+)", text).group(1)  # type: ignore[union-attr]

    for _ in range(3):  # a mail client fetching the image again: one open
        answer = client.get(_path(pixel), headers={"User-Agent": "Mozilla/5.0 Thunderbird/128"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    client.get(_path(pixel), headers={"User-Agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"})
    opens = _events(db, "email_opened")
    assert sorted(e.properties["machine"] for e in opens) == [False, True]
    assert all(e.lead_id == lead_id and e.channel == "email" for e in opens)

    for _ in range(2):
        went = client.get(_path(guide), follow_redirects=False)
        assert went.status_code == 302
        assert went.headers["location"] == "https://www.example.com/guide.pdf?from=mail"
    # the sentence's full stop after an address is not part of it
    prices = re.search(r"at (http://testserver/m/c/\S+)\.\r?\n", text).group(1)  # type: ignore[union-attr]
    went = client.get(_path(prices), follow_redirects=False)
    assert went.headers["location"] == "https://www.example.com/pricing"
    clicked, _ = sorted(_events(db, "email_clicked"), key=lambda e: e.id)
    assert clicked.properties["url"] == "https://www.example.com/guide.pdf?from=mail"

    body, mac = _path(guide).removeprefix("/m/c/").split(".")
    middle = len(body) // 2  # not the last characters: their spare bits may decode alike
    changed = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1 :]
    last = "x" if mac[-1] != "x" else "y"  # one in 64 macs ends in x already
    pixel_as_click = _path(pixel).replace("/m/o/", "/m/c/").removesuffix(".gif")
    for forged in (f"/m/c/{changed}.{mac}", f"/m/c/{body}.{mac[:-1]}{last}",
                   "/m/c/" + "a" * 3000, pixel_as_click):  # fmt: skip
        refused = client.get(forged, follow_redirects=False)
        assert refused.status_code in (400, 422) and "location" not in refused.headers
    assert len(_events(db, "email_clicked")) == 2

    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert "Unsubscribe" in client.get(_path(unsubscribe)).text  # a page with a button
    assert _granted(db, lead_id) is True  # a GET (a scanner following links) changes nothing
    done = client.post(_path(unsubscribe), content="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert done.status_code == 200
    assert _granted(db, lead_id) is False
    with db.reading() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.nurture_track is None  # off the track it left
        message = session.scalars(select(OutboxMessage)).one()
        assert message.lead_id == lead_id
    assert len(_events(db, "unsubscribed")) == 1


def test_without_a_public_address_no_email_goes_out_with_dead_links(
    client: TestClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADQ_PUBLIC_URL", raising=False)
    put_in_force(monkeypatch, tmp_path, DOCUMENT)
    consent = {"purpose": "marketing_email", "granted": True,
               "at": datetime.now(UTC).isoformat(), "source": "signup form"}  # fmt: skip
    client.post("/api/v1/leads", json={"email": "ola@firm.example", "consents": [consent]})
    with db.reading() as session:
        message = session.scalars(select(OutboxMessage)).one()
    assert message.status == "dead" and "LEADQ_PUBLIC_URL" in (message.last_error or "")


def test_links_of_an_email_to_a_lead_merged_since_reach_the_kept_lead(
    client: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        ids = [upsert_lead(session, LeadInput.model_validate(
            {"email": e, "phone": "+48 22 123 45 67", "consents": [{
                "purpose": "marketing_email", "granted": True, "at": now.isoformat(),
                "source": "form"}]}), "tests", now, IntakePolicy()).lead.id
            for e in ("kept@acme.example", "gone@acme.example")]  # fmt: skip
        secret = workspace_secret(session, MAIL_SECRET, now)
    kept, gone = ids
    with db.unit_of_work() as session:
        merge(session, session.scalars(select(PossibleDuplicate.id)).one(), "tests", now,
              keep=kept)  # fmt: skip
    click = sign(secret, Link("leadq-old", gone, "click", "https://x.example/"))
    scanner = {"User-Agent": "Mimecast URL protection"}
    assert client.get(f"/m/c/{click}", headers=scanner, follow_redirects=False).status_code == 302
    assert client.get(f"/m/c/{click}", follow_redirects=False).status_code == 302
    clicks = _events(db, "email_clicked")
    assert {(e.lead_id, e.properties["machine"]) for e in clicks} == {(kept, True), (kept, False)}
    unsubscribe = sign(secret, Link("leadq-old", gone, "unsubscribe"))
    assert client.post(f"/m/u/{unsubscribe}").status_code == 200
    assert _granted(db, kept) is False  # the person stops getting e-mail, not the old record
