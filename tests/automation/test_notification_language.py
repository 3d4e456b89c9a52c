"""Notifications people read (e-mails, Slack messages) are written in the workspace language;
the JSON of generic webhooks keeps its codes, and English reads as it always did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadq.config import Settings, get_settings
from leadq.domain.automation import Automation, Rule
from leadq.i18n import Language
from leadq.notify import email as smtp_mail
from leadq.notify import webhook
from leadq.notify.webhook import slack_body
from leadq.services.automation import tasks
from leadq.services.automation.reactions import (
    Happening,
    email_body,
    email_subject,
    notification_language,
)  # fmt: skip
from leadq.store.db import Database
from leadq.store.tables import Lead, OutboxMessage
from tests.automation.conftest import Mailbox
from tests.automation.documents import put_in_force
from tests.automation.test_routing import MONDAY_LATE, ROUTING, arrive

BREAKDOWN = [
    {"criterion": "seniority", "label": "Decision-making position", "value": "VP of Sales",
     "points": 9.0},
    {"criterion": "stale", "label": "No visit for a month", "value": 31, "points": -2.5},
]  # fmt: skip
PAYLOAD = {
    "trigger": {"rule": "hot_to_sales", "event": "lead.grade_changed", "details": {},
                "at": "2026-11-23T15:50:00+00:00"},
    "lead": {"id": 7, "first_name": "Ewa", "last_name": "Nowak", "company": "Bank Polski",
             "score": 22.0, "grade": "hot", "stage": "mql", "breakdown": BREAKDOWN},
}  # fmt: skip
RULE = Rule.model_validate(
    {"id": "hot_to_sales", "trigger": "grade_changed", "do": [{"notify": {"email": "owner"}}]}
)
HAPPENING = Happening("lead.grade_changed", 7, {}, datetime(2026, 11, 23, 15, 50, tzinfo=UTC))
POLISH_LABELS = {
    "hot": {"pl": "gorący"},
    "mql": {"pl": "MQL (marketing)"},
    "hot_to_sales": {"pl": "Gorące do sprzedaży"},
}

# What leadq wrote before the texts were translatable, codes now read as the English catalogue
# labels them (an event type with spaces, not its code).
ENGLISH_TEXT = (
    "Ewa Nowak (Bank Polski): grade changed — score 22.0 (hot), stage mql, rule hot_to_sales"
)
ENGLISH_SLACK = {
    "text": ENGLISH_TEXT,
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": ENGLISH_TEXT}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": "• Decision-making position: +9\n"
                                             "• No visit for a month: -2.5"}},
    ],
}  # fmt: skip
ENGLISH_SUBJECT = "[leadq] hot_to_sales: lead 7 (hot)"
ENGLISH_BODY = (
    "Ewa Nowak — Bank Polski\n\nWhy you get this: rule hot_to_sales (grade changed)\n"
    "Score: 22.0 (hot), stage mql\nE-mail: ewa@bank.example\nPhone: -\nJob title: VP of Sales\n\n"
    "Score breakdown:\n  +9  Decision-making position (VP of Sales)\n"
    "  -2.5  No visit for a month (31)\n"
)


def a_lead() -> Lead:
    return Lead(id=7, first_name="Ewa", last_name="Nowak", company="Bank Polski",
                email="ewa@bank.example", phone=None, job_title="VP of Sales", score=22.0,
                grade="hot", stage="mql", score_breakdown=BREAKDOWN)  # fmt: skip


def polish(labels: dict[str, dict[str, str]] | None = None) -> Language:
    return Language("pl", currency="PLN", labels=labels or {})


# -- English is what it was ----------------------------------------------------------------------


def test_english_slack_body_is_unchanged() -> None:
    assert slack_body(PAYLOAD, Language()) == ENGLISH_SLACK
    bare = {"trigger": {"rule": "r", "event": "lead.created"},
            "lead": {"id": 8, "score": 3.5, "grade": "cold", "stage": "iql"}}  # fmt: skip
    assert slack_body(bare, Language())["text"] == (
        "A lead (no company): new lead — score 3.5 (cold), stage iql, rule r"
    )


def test_english_email_is_unchanged() -> None:
    lead = a_lead()
    assert email_subject(lead, RULE, Language()) == ENGLISH_SUBJECT
    assert email_body(lead, RULE, HAPPENING, Language()) == ENGLISH_BODY
    lead.grade = None
    assert email_subject(lead, RULE, Language()) == "[leadq] hot_to_sales: lead 7 (unscored)"


# -- Polish: labels and numbers (no catalogue needed) --------------------------------------------


def test_polish_slack_body_shows_labels_and_polish_numbers() -> None:
    body = slack_body(PAYLOAD, polish(POLISH_LABELS))
    text = body["text"]
    assert "gorący" in text and "MQL (marketing)" in text and "Gorące do sprzedaży" in text
    assert "22,0" in text and "22.0" not in text
    assert "+9" in body["blocks"][1]["text"]["text"] and "-2,5" in body["blocks"][1]["text"]["text"]


def test_polish_email_shows_labels_and_polish_numbers() -> None:
    lead, lang = a_lead(), polish(POLISH_LABELS)
    assert "Gorące do sprzedaży" in email_subject(lead, RULE, lang)
    assert "gorący" in email_subject(lead, RULE, lang)
    body = email_body(lead, RULE, HAPPENING, lang)
    assert "Gorące do sprzedaży" in body and "gorący" in body and "MQL (marketing)" in body
    assert "22,0" in body and "-2,5" in body
    assert "ewa@bank.example" in body and "Decision-making position" in body  # data as it is


def test_notification_language_is_the_workspace_one_with_the_documents_labels() -> None:
    automation = Automation.model_validate({"labels": {"hot_to_sales": {"pl": "Gorące"}}})
    settings = Settings(locale="pl", time_zone="Europe/Warsaw", currency="PLN")
    lang = notification_language(automation, settings)
    assert (lang.code, lang.currency, str(lang.zone)) == ("pl", "PLN", "Europe/Warsaw")
    assert lang.label("hot_to_sales", "rule") == "Gorące"  # an automation id is a rule's
    assert notification_language(Automation(), Settings()).code == "en"


# -- Polish: the sentences (needs the Polish catalogue) ------------------------------------------


def test_polish_slack_text_is_not_english() -> None:
    lang = notification_language(Automation(), Settings(locale="pl", currency="PLN"))
    english = notification_language(Automation(), Settings(locale="en"))
    text = slack_body(PAYLOAD, lang)["text"]
    assert text != slack_body(PAYLOAD, english)["text"]
    assert " — score " not in text and ", stage " not in text
    assert lang.label("hot", "grade") in text and lang.label("mql", "stage") in text


def test_polish_email_is_not_english() -> None:
    lang = notification_language(Automation(), Settings(locale="pl", currency="PLN"))
    english = notification_language(Automation(), Settings(locale="en"))
    lead = a_lead()
    subject, body = email_subject(lead, RULE, lang), email_body(lead, RULE, HAPPENING, lang)
    assert subject != email_subject(lead, RULE, english)
    assert body != email_body(lead, RULE, HAPPENING, english)
    assert "Why you get this" not in body and "Score breakdown" not in body
    assert lang.label("hot", "grade") in subject and lang.label("hot", "grade") in body
    assert lang.label("mql", "stage") in body


# -- the wiring: the rules write e-mails, the worker posts Slack, SMTP carries it ----------------


def test_rules_write_the_email_in_the_workspace_language(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    labels = '\nlabels:\n  sla: {pl: "Przekroczony czas reakcji", en: "SLA missed"}\n'
    put_in_force(monkeypatch, tmp_path, ROUTING + labels)
    monkeypatch.setenv("LEADQ_LOCALE", "pl")
    monkeypatch.setenv("LEADQ_TIME_ZONE", "Europe/Warsaw")
    get_settings.cache_clear()
    lead = arrive(db, MONDAY_LATE, email="late@firm.example", country="PL")
    with db.unit_of_work() as session:
        assert tasks.breach_overdue(session, MONDAY_LATE + timedelta(days=1)) == 1
    with db.reading() as session:
        (mail,) = session.scalars(select(OutboxMessage)).all()
    assert mail.target == "eva@example.com" and mail.lead_id == lead.id
    assert "Przekroczony czas reakcji" in mail.payload["subject"]
    assert "Przekroczony czas reakcji" in mail.payload["body"]
    assert "late@firm.example" in mail.payload["body"]


class _Answer:
    is_success, status_code, text = True, 200, ""


def test_slack_posts_in_the_workspace_language_generic_hooks_keep_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []

    def fake_post(url: str, content: bytes, **_: Any) -> _Answer:
        sent.append(content)
        return _Answer()

    monkeypatch.setattr("leadq.notify.webhook.httpx.post", fake_post)
    monkeypatch.setenv("LEADQ_LOCALE", "pl")
    get_settings.cache_clear()
    webhook.post("http://hook.example", PAYLOAD, "leadq-1", None, "slack", 1, 1.0)
    webhook.post("http://hook.example", PAYLOAD, "leadq-2", None, "json", 1, 1.0)
    webhook.post("http://hook.example", PAYLOAD, "leadq-3", None, "slack", 1, 1.0, Language())
    slack, generic, english = (json.loads(body) for body in sent)
    assert "22,0" in slack["text"]  # the workspace's (Polish) form of numbers
    assert generic == {"id": "leadq-2", **PAYLOAD}  # codes and numbers as they are
    assert english["text"] == ENGLISH_TEXT


def test_email_says_its_language_and_carries_polish_letters(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, locale="pl")
    subject = "[leadq] Gorące do sprzedaży: lead 7 (gorący)"
    body = "Ewa Żółkiewska — Łódź\n\nWynik: 22,0\n"
    smtp_mail.send(settings, "anna@example.com", subject, body, "leadq-abc", 5.0)
    (mail,) = box.messages
    assert mail["Subject"] == subject and mail["Content-Language"] == "pl"
    assert mail.get_content().replace("\r\n", "\n") == body  # SMTP lines end in CRLF
