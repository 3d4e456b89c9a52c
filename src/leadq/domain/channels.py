"""Messages and calls from messengers and telephony, as the platforms send them: who wrote
(a channel identity: the platform and its id for the person, a name, a phone when the
platform gives one) and what happened (an event with a key the platform's own id makes, so a
retried delivery is stored once), and the signatures that prove the platform sent it.

Pure: the caller reads the request, checks the signature here, then stores what this returns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CHANNELS = ("telegram", "whatsapp", "messenger", "instagram", "phone")
MISSED = frozenset({"no-answer", "busy", "canceled", "failed", "missed", "no answer", "cancel"})
MAX_TEXT = 4000


class PayloadError(ValueError):
    """A signed payload that does not read as the platform documents it."""


@dataclass(frozen=True)
class Contact:
    channel: str
    external_id: str
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One thing a person did on a channel: an event of ``kind`` for the lead ``contact`` is."""

    contact: Contact
    kind: str
    occurred_at: datetime
    key: str
    properties: dict[str, Any] = field(default_factory=dict)


# -- signatures --------------------------------------------------------------------------------


def _same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def telegram_signed(secret: str, header: str | None) -> bool:
    """Telegram sends the bot's ``secret_token`` back in ``X-Telegram-Bot-Api-Secret-Token``."""
    return _same(secret, header)


def meta_signed(app_secret: str, body: bytes, header: str | None) -> bool:
    """WhatsApp Cloud API, Messenger and Instagram: ``X-Hub-Signature-256: sha256=<hex>``, the
    HMAC-SHA256 of the raw body with the app secret."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return _same(f"sha256={digest}", header)


def twilio_signed(auth_token: str, url: str, params: Mapping[str, str], header: str | None) -> bool:
    """Twilio: ``X-Twilio-Signature``, the base64 HMAC-SHA1 of the full URL followed by each
    posted parameter's name and value, sorted by name."""
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return _same(base64.b64encode(digest).decode(), header)


def zadarma_signed(secret: str, params: Mapping[str, str], header: str | None) -> bool:
    """Zadarma: ``Signature``, as its documentation's example computes it for incoming-call
    notifications: base64 of the hex HMAC-SHA1 of caller, called number and call start."""
    signed = "".join(params.get(name, "") for name in ("caller_id", "called_did", "call_start"))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return _same(base64.b64encode(digest.encode()).decode(), header)


def generic_signed(secret: str, body: bytes, header: str | None) -> bool:
    """Any other telephony: ``X-Leadq-Signature: sha256=<hex>`` of the raw body."""
    return meta_signed(secret, body, header)


# -- payloads ----------------------------------------------------------------------------------


def _text(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"expected text, got {type(value).__name__}")
    text = str(value).replace("\x00", "").strip()
    return text[:limit] or None


def _moment(value: Any) -> datetime:
    """A Unix time in seconds (Telegram, WhatsApp) or milliseconds (Messenger)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PayloadError(f"not a time: {str(value)[:40]!r}") from None
    if number > 1e11:
        number /= 1000
    if not 0 < number < 1e10:
        raise PayloadError(f"not a time: {str(value)[:40]!r}")
    return datetime.fromtimestamp(number, UTC)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected a list")
    return value


def telegram_update(update: Any) -> list[Inbound]:
    """A bot's update: a private message becomes a ``chat_message``; anything else (edits,
    group chatter, button presses) is not a lead's message."""
    update = _object(update, "update")
    message = update.get("message")
    if message is None:
        return []
    message = _object(message, "message")
    person = _object(message.get("from"), "message.from")
    chat = _object(message.get("chat") or {}, "message.chat")
    if person.get("is_bot") or chat.get("type", "private") != "private":
        return []
    names = [_text(person.get("first_name")), _text(person.get("last_name"))]
    contact_card = message.get("contact")
    phone = None
    if isinstance(contact_card, dict) and contact_card.get("user_id") == person.get("id"):
        phone = _text(contact_card.get("phone_number"), 40)  # the person shared their own number
    who = Contact(
        "telegram",
        _id(person.get("id"), "message.from.id"),
        " ".join(n for n in names if n) or _text(person.get("username")),
        phone,
    )
    text = _text(message.get("text") or message.get("caption"), MAX_TEXT)
    properties = {"text": text} if text else {}
    key = f"telegram:{_id(update.get('update_id'), 'update_id')}"
    return [Inbound(who, "chat_message", _moment(message.get("date")), key, properties)]


def meta_notification(payload: Any) -> list[Inbound]:
    """WhatsApp Cloud API (``whatsapp_business_account``), Messenger (``page``) and Instagram
    (``instagram``) webhooks: each incoming message; statuses, echoes of our own messages and
    read receipts are left out."""
    payload = _object(payload, "payload")
    kind = payload.get("object")
    found: list[Inbound] = []
    for n, entry in enumerate(_list(payload.get("entry"), "entry")):
        entry = _object(entry, f"entry[{n}]")
        if kind == "whatsapp_business_account":
            for m, change in enumerate(_list(entry.get("changes"), f"entry[{n}].changes")):
                found += _whatsapp(_object(change, f"entry[{n}].changes[{m}]").get("value") or {})
        elif kind in ("page", "instagram"):
            channel = "messenger" if kind == "page" else "instagram"
            for m, event in enumerate(_list(entry.get("messaging"), f"entry[{n}].messaging")):
                found += _messaging(channel, _object(event, f"entry[{n}].messaging[{m}]"))
        else:
            raise PayloadError(
                f"object {str(kind)[:40]!r}: expected whatsapp_business_account, page or instagram"
            )
    return found


def _whatsapp(value: Any) -> list[Inbound]:
    value = _object(value, "value")
    names = {}
    for contact in _list(value.get("contacts"), "contacts"):
        contact = _object(contact, "contacts[]")
        profile = _part(contact, "profile")
        names[_text(contact.get("wa_id"), 40)] = _text(profile.get("name"))
    found = []
    for message in _list(value.get("messages"), "messages"):
        message = _object(message, "messages[]")
        sender = _id(message.get("from"), "messages[].from")
        body = _part(message, "text")
        text = _text(body.get("body"), MAX_TEXT)
        properties = {"text": text} if text else {"kind": _text(message.get("type"), 40)}
        who = Contact("whatsapp", sender, names.get(sender), f"+{sender.lstrip('+')}")
        found.append(
            Inbound(
                who,
                "chat_message",
                _moment(message.get("timestamp")),
                f"whatsapp:{_id(message.get('id'), 'messages[].id')}",
                {k: v for k, v in properties.items() if v},
            )
        )
    return found


def _messaging(channel: str, event: dict[str, Any]) -> list[Inbound]:
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo"):
        return []
    sender = _id(_object(event.get("sender"), "sender").get("id"), "sender.id")
    text = _text(message.get("text"), MAX_TEXT)
    return [
        Inbound(
            Contact(channel, sender),
            "chat_message",
            _moment(event.get("timestamp")),
            f"{channel}:{_id(message.get('mid'), 'message.mid')}",
            {"text": text} if text else {},
        )
    ]


def twilio_call(params: Mapping[str, str]) -> list[Inbound]:
    """A Twilio status callback of an inbound call: answered (``completed`` with a duration)
    or missed (no answer, busy, cancelled, failed); ringing and the like say nothing yet."""
    if params.get("Direction", "inbound") != "inbound":
        return []
    status = (params.get("CallStatus") or "").lower()
    seconds = _whole(params.get("CallDuration"))
    if status == "completed" and seconds:
        kind = "call_inbound"
    elif status in MISSED or (status == "completed" and not seconds):
        kind = "call_missed"
    else:
        return []
    caller = _text(params.get("From"), 40)
    if not caller:
        raise PayloadError("From: the caller's number is missing")
    properties = {"status": status, "duration_seconds": seconds or 0, "provider": "twilio"}
    at = datetime.now(UTC)  # a status callback carries no time of its own: it is sent at once
    return [
        Inbound(
            Contact("phone", caller, None, caller),
            kind,
            at,
            f"twilio:{_id(params.get('CallSid'), 'CallSid')}:{kind}",
            properties,
        )
    ]


def zadarma_call(params: Mapping[str, str]) -> list[Inbound]:
    """Zadarma's ``NOTIFY_END`` of an incoming call: answered or missed by its disposition
    (the start, internal and recording notifications say nothing final)."""
    if params.get("event") != "NOTIFY_END":
        return []
    disposition = (params.get("disposition") or "").lower()
    kind = "call_inbound" if disposition == "answered" else "call_missed"
    caller = _text(params.get("caller_id"), 40)
    if not caller:
        raise PayloadError("caller_id: the caller's number is missing")
    try:
        at = datetime.fromisoformat(str(params.get("call_start"))).replace(tzinfo=UTC)
    except ValueError:
        raise PayloadError(
            "call_start: a time as Zadarma writes it (YYYY-MM-DD HH:MM:SS)"
        ) from None
    properties = {
        "status": disposition,
        "duration_seconds": _whole(params.get("duration")) or 0,
        "provider": "zadarma",
    }
    phone = caller if caller.startswith("+") else f"+{caller}"
    key = f"zadarma:{_id(params.get('pbx_call_id'), 'pbx_call_id')}:{kind}"
    return [Inbound(Contact("phone", phone, None, phone), kind, at, key, properties)]


def generic_call(payload: Any) -> list[Inbound]:
    """``{"id", "from", "status": answered|missed, "at", "duration_seconds"?, "name"?}``."""
    payload = _object(payload, "call")
    status = _text(payload.get("status"), 20)
    if status not in ("answered", "missed"):
        raise PayloadError("status: answered or missed")
    caller = _text(payload.get("from"), 40)
    if not caller:
        raise PayloadError("from: the caller's number is missing")
    try:
        at = datetime.fromisoformat(str(payload.get("at")))
    except ValueError:
        raise PayloadError("at: an ISO-8601 time with its zone") from None
    if at.tzinfo is None:
        raise PayloadError("at: give the time zone")
    kind = "call_inbound" if status == "answered" else "call_missed"
    properties = {
        "status": status,
        "duration_seconds": _whole(payload.get("duration_seconds")) or 0,
        "provider": "generic",
    }
    who = Contact("phone", caller, _text(payload.get("name")), caller)
    return [Inbound(who, kind, at, f"call:{_id(payload.get('id'), 'id')}:{kind}", properties)]


def _part(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object the platform may leave out (then empty)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _whole(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 <= number < 10**7 else None


def _id(value: Any, where: str) -> str:
    text = _text(value, 120)
    if not text:
        raise PayloadError(f"{where}: missing")
    return text
