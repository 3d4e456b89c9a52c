"""Messenger and telephony webhooks with the platforms' documented payloads: a valid signature
stores a lead and an event once; a missing or wrong one is 401 and stores nothing; a person
who shares a phone joins the lead of that phone; erasure takes identities and texts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import update_lead, upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.apikeys import create_key
from leadq.services.privacy.subjects import erase_lead, export_lead
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import ChannelIdentity, Event, FollowUpTask, Lead
from tests.automation.documents import put_in_force
from tests.cli import invoke

PUBLIC = "https://leads.example.com"
SECRETS = {
    "zadarma_secret": "zadarma-secret-5",
    "telegram_secret": "tg-secret-123",
    "meta_app_secret": "meta-app-secret",
    "meta_verify_token": "verify-me-please",
    "twilio_auth_token": "twilio-token-1",
    "calls_secret": "calls-secret-9",
}
TELEGRAM = {
    "update_id": 10000,
    "message": {
        "message_id": 1365,
        "date": 1733050000,
        "text": "Hi, how much for 20 seats?",
        "from": {
            "id": 1111111,
            "is_bot": False,
            "first_name": "Anna",
            "last_name": "Nowak",
            "username": "annan",
            "language_code": "pl",
        },
        "chat": {"id": 1111111, "type": "private", "first_name": "Anna"},
    },
}
WHATSAPP = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": "106540352242922",
                        },
                        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551181"}],
                        "messages": [
                            {
                                "from": "16315551181",
                                "id": "wamid.ABGGFlCGg0cvAgo-sJQh43L5Pe4W",
                                "timestamp": "1733050100",
                                "text": {"body": "Do you have a demo?"},
                                "type": "text",
                            }
                        ],
                    },
                }
            ],
        }
    ],
}
MESSENGER = {
    "object": "page",
    "entry": [
        {
            "id": "PAGE_ID",
            "time": 1733050200000,
            "messaging": [
                {
                    "sender": {"id": "6789012345"},
                    "recipient": {"id": "PAGE_ID"},
                    "timestamp": 1733050200000,
                    "message": {
                        "mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8",
                        "text": "hello",
                    },
                },
                {
                    "sender": {"id": "PAGE_ID"},
                    "recipient": {"id": "6789012345"},
                    "timestamp": 1733050201000,
                    "message": {"mid": "m_echo", "text": "thanks!", "is_echo": True},
                },
            ],
        }
    ],
}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    settings = Settings.model_validate({"database_url": db.url, "public_url": PUBLIC, **SECRETS})
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def _meta(body: bytes, secret: str = SECRETS["meta_app_secret"]) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-hub-signature-256": f"sha256={digest}", "content-type": "application/json"}


def _twilio(path: str, params: dict[str, str], token: str = SECRETS["twilio_auth_token"]) -> str:
    signed = PUBLIC + path + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


def _read_lead(client: TestClient, db: Database, lead_id: int) -> dict[str, Any]:
    """The lead as the API gives it to a key's holder."""
    with db.unit_of_work() as session:
        token, _ = create_key(session, "reader", datetime.now(UTC))
    reply = client.get(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _counts(db: Database) -> tuple[int, int, int]:
    with db.reading() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t)) or 0  # type: ignore[return-value]
            for t in (Lead, Event, ChannelIdentity)
        )


def test_a_telegram_message_becomes_a_lead_once(client: TestClient, db: Database) -> None:
    url = "/api/v1/channels/telegram"
    for headers in (
        {},
        {"x-telegram-bot-api-secret-token": "wrong"},
        {"x-telegram-bot-api-secret-token": SECRETS["telegram_secret"] + "x"},
    ):
        assert client.post(url, json=TELEGRAM, headers=headers).status_code == 401
    assert _counts(db) == (0, 0, 0)
    signed = {"x-telegram-bot-api-secret-token": SECRETS["telegram_secret"]}
    first = client.post(url, json=TELEGRAM, headers=signed)
    again = client.post(url, json=TELEGRAM, headers=signed)
    assert first.json() == {"received": 1, "stored": 1} and again.json()["stored"] == 0
    assert _counts(db) == (1, 1, 1)
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
        event = session.scalars(select(Event)).one()
    assert (lead.first_name, lead.last_name, lead.email, lead.phone) == (
        "Anna",
        "Nowak",
        None,
        None,
    )
    channels_read = _read_lead(client, db, lead.id)["channel_identities"]
    assert [(c["channel"], c["external_id"], c["name"]) for c in channels_read] == [
        ("telegram", "1111111", "Anna Nowak")
    ]
    assert (event.type, event.channel, event.properties["text"]) == (
        "chat_message",
        "telegram",
        "Hi, how much for 20 seats?",
    )
    edited = client.post(url, json={"update_id": 10001, "edited_message": {}}, headers=signed)
    assert edited.json() == {"received": 0, "stored": 0}
    for bad in (
        [1, 2],
        {"update_id": 3, "message": {"from": "x", "date": 1}},
        {"update_id": 4, "message": {"from": {"id": 5}, "date": "yesterday"}},
    ):
        assert client.post(url, json=bad, headers=signed).status_code == 422, bad
    assert client.post(url, content=b"{not json", headers=signed).status_code == 400


def test_whatsapp_joins_the_lead_of_that_phone_and_messenger_makes_one(
    client: TestClient, db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        known = upsert_lead(
            session, LeadInput(phone="+16315551181", first_name="Kerry"), "api", now, IntakePolicy()
        ).lead.id
    url = "/api/v1/channels/meta"
    body = json.dumps(WHATSAPP).encode()
    assert client.post(url, content=body, headers=_meta(body, "other-secret")).status_code == 401
    assert (
        client.post(url, content=body, headers={"content-type": "application/json"}).status_code
        == 401
    )
    assert client.post(url, content=body, headers=_meta(body)).json()["stored"] == 1
    assert client.post(url, content=body, headers=_meta(body)).json()["stored"] == 0
    body = json.dumps(MESSENGER).encode()
    assert client.post(url, content=body, headers=_meta(body)).json() == {
        "received": 1,
        "stored": 1,
    }
    with db.reading() as session:
        identities = {i.channel: i.lead_id for i in session.scalars(select(ChannelIdentity))}
        leads = session.scalar(select(func.count()).select_from(Lead))
    assert identities["whatsapp"] == known and leads == 2
    with db.unit_of_work() as session:  # a lead known only by Messenger can still be edited
        update_lead(session, identities["messenger"], {"company": "Acme"}, "anna", now)
    status = {
        "object": "whatsapp_business_account",
        "entry": [
            {"changes": [{"value": {"statuses": [{"id": "wamid.X", "status": "delivered"}]}}]}
        ],
    }
    body = json.dumps(status).encode()
    assert client.post(url, content=body, headers=_meta(body)).json()["received"] == 0
    check = client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": SECRETS["meta_verify_token"],
        },
    )
    assert check.status_code == 200 and check.text == "1158201444"
    assert (
        client.get(
            url, params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"}
        ).status_code
        == 403
    )


def test_calls_land_on_the_lead_of_the_number(client: TestClient, db: Database) -> None:
    path = "/api/v1/channels/calls/twilio"
    missed = {
        "CallSid": "CA1234567890abcdef1234567890abcdef",
        "From": "+48601234567",
        "To": "+48221234567",
        "CallStatus": "no-answer",
        "Direction": "inbound",
        "CallDuration": "0",
        "AccountSid": "AC123",
    }
    assert client.post(path, data=missed, headers={"x-twilio-signature": "bad"}).status_code == 401
    assert _counts(db) == (0, 0, 0)
    signed = {"x-twilio-signature": _twilio(path, missed)}
    assert client.post(path, data=missed, headers=signed).json()["stored"] == 1
    answered = {**missed, "CallSid": "CA2", "CallStatus": "completed", "CallDuration": "95"}
    assert (
        client.post(
            path, data=answered, headers={"x-twilio-signature": _twilio(path, answered)}
        ).json()["stored"]
        == 1
    )
    generic = json.dumps(
        {
            "id": "c-77",
            "from": "+48601234567",
            "status": "missed",
            "at": "2026-12-01T09:30:00+01:00",
        }
    ).encode()
    sig = (
        "sha256=" + hmac.new(SECRETS["calls_secret"].encode(), generic, hashlib.sha256).hexdigest()
    )
    headers = {"x-leadq-signature": sig, "content-type": "application/json"}
    assert (
        client.post("/api/v1/channels/calls/generic", content=generic, headers=headers).json()[
            "stored"
        ]
        == 1
    )
    with db.reading() as session:
        kinds = sorted(e.type for e in session.scalars(select(Event)))
        lead = session.scalars(select(Lead)).one()
    assert kinds == ["call_inbound", "call_missed", "call_missed"] and lead.phone == "+48601234567"
    odd = json.dumps({"id": "c-78", "from": "+48601234567", "status": "maybe", "at": "x"}).encode()
    sig = "sha256=" + hmac.new(SECRETS["calls_secret"].encode(), odd, hashlib.sha256).hexdigest()
    refused = client.post(
        "/api/v1/channels/calls/generic",
        content=odd,
        headers={"x-leadq-signature": sig, "content-type": "application/json"},
    )
    assert refused.status_code == 422
    health = {c["name"]: c for c in client.get("/api/v1/health").json()["connectors"]}
    assert health["calls"]["last_error"] == "status: answered or missed"
    assert health["twilio"]["last_success_at"] and health["telegram"]["configured"]


def _zadarma(params: dict[str, str]) -> str:
    signed = params["caller_id"] + params["called_did"] + params["call_start"]
    digest = hmac.new(SECRETS["zadarma_secret"].encode(), signed.encode(), hashlib.sha1)
    return base64.b64encode(digest.hexdigest().encode()).decode()


def test_zadarma_notifications_of_a_call_end(client: TestClient, db: Database) -> None:
    path = "/api/v1/channels/calls/zadarma"
    assert client.get(path, params={"zd_echo": "abc123"}).text == "abc123"
    end = {
        "event": "NOTIFY_END",
        "call_start": "2026-12-01 09:30:00",
        "pbx_call_id": "in_1a2b",
        "caller_id": "48601234567",
        "called_did": "48221234567",
        "internal": "100",
        "duration": "0",
        "disposition": "no answer",
        "status_code": "19",
        "is_recorded": "0",
        "call_id_with_rec": "",
    }
    assert client.post(path, data=end, headers={"signature": "bad"}).status_code == 401
    assert client.post(path, data=end).status_code == 401
    signed = {"signature": _zadarma(end)}
    assert client.post(path, data=end, headers=signed).json()["stored"] == 1
    assert client.post(path, data=end, headers=signed).json()["stored"] == 0
    start = {**end, "event": "NOTIFY_START"}
    assert client.post(path, data=start, headers={"signature": _zadarma(start)}).json() == {
        "received": 0,
        "stored": 0,
    }
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
        event = session.scalars(select(Event)).one()
    assert (lead.phone, event.type, event.properties["status"]) == (
        "+48601234567",
        "call_missed",
        "no answer",
    )


def test_unconfigured_connectors_are_not_there(db: Database) -> None:
    with TestClient(create_app(Settings(database_url=db.url), db)) as bare:
        assert bare.post("/api/v1/channels/telegram", json=TELEGRAM).status_code == 404
        health = bare.get("/api/v1/health").json()["connectors"]
    assert not any(c["configured"] for c in health)


def test_erasure_takes_the_identities_and_the_texts(
    client: TestClient, db: Database, now: datetime
) -> None:
    signed = {"x-telegram-bot-api-secret-token": SECRETS["telegram_secret"]}
    client.post("/api/v1/channels/telegram", json=TELEGRAM, headers=signed)
    with db.unit_of_work() as session:
        lead_id = session.scalars(select(Lead.id)).one()
        exported = export_lead(session, lead_id, "dpo", now)
        report = erase_lead(session, lead_id, "dpo", now)
    assert exported["channel_identities"][0]["external_id"] == "1111111"
    assert report.channel_identities == 1
    with db.reading() as session:
        event = session.scalars(select(Event)).one()
        left = session.scalar(select(func.count()).select_from(ChannelIdentity))
    assert left == 0 and "text" not in event.properties


def test_connector_secrets_that_cannot_be_right_are_refused(tmp_path: Path, db: Database) -> None:
    for name, value in [
        ("LEADQ_TELEGRAM_SECRET", "short"),
        ("LEADQ_TELEGRAM_SECRET", "a b c d e f"),
        ("LEADQ_META_APP_SECRET", "x" * 300),
        ("LEADQ_CALLS_SECRET", ""),
    ]:
        refused = invoke(tmp_path, ["monitor"], {"LEADQ_DATABASE_URL": db.url, name: value})
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert name.removeprefix("LEADQ_").lower() in refused.stderr.lower(), refused.stderr


RULES = """\
rules:
  - id: missed_call_from_hot
    trigger: event_recorded
    when: {event: [call_missed], channel: [phone]}
    where: {grade: hot}
    do: [{task: {kind: call_back, due_minutes: 15}}]
"""
HOT = """\
name: callers
fit:
  - {id: boss, points: 30, when: {seniority: c_level}}
grades: {cold: 0, warm: 10, hot: 20}
"""


def test_a_missed_call_from_a_hot_lead_fires_its_rule(
    client: TestClient,
    db: Database,
    now: datetime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    put_in_force(monkeypatch, tmp_path, RULES)
    with db.unit_of_work() as session:
        row = add_model(session, HOT, "tests", now)
        activate(session, f"{row.name}@{row.version}", now)
        for phone, title in (("+48601000001", "CEO"), ("+48601000002", "Intern")):
            upsert_lead(
                session,
                LeadInput(phone=phone, first_name="P", job_title=title),
                "api",
                now,
                IntakePolicy(),
            )
    for n, phone in enumerate(("+48601000001", "+48601000002")):
        for status in ("missed", "answered"):
            body = json.dumps(
                {"id": f"c{n}{status}", "from": phone, "status": status, "at": now.isoformat()}
            ).encode()
            sig = hmac.new(SECRETS["calls_secret"].encode(), body, hashlib.sha256).hexdigest()
            client.post(
                "/api/v1/channels/calls/generic",
                content=body,
                headers={"x-leadq-signature": f"sha256={sig}", "content-type": "application/json"},
            )
    with db.reading() as session:
        tasks = session.execute(
            select(Lead.phone, FollowUpTask.kind).join(
                FollowUpTask, FollowUpTask.lead_id == Lead.id
            )
        ).all()
    assert tasks == [("+48601000001", "call_back")]
