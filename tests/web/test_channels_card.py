"""The lead card says which channels a person wrote or called from, first and last time."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from leadq.domain.channels import Contact, Inbound
from leadq.services.intake.channels import receive
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from tests.web.conftest import Browser


def test_the_card_lists_the_channels_of_the_person(
    db: Database, now: datetime, browser: Browser
) -> None:
    said = [
        Inbound(
            Contact("telegram", "42", "Ola Kot"),
            "chat_message",
            now - timedelta(days=d),
            f"telegram:{d}",
            {"text": "hi"},
        )
        for d in (3, 1)
    ]
    with db.unit_of_work() as session:
        (lead_id, _) = receive(session, said, "telegram", now, IntakePolicy()).leads
    card = html.unescape(browser.get(f"/leads/{lead_id}"))
    assert "<h3>Channels</h3>" in card
    assert "Telegram · Ola Kot · first" in card
