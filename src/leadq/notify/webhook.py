"""Signed webhooks: a JSON body, an HMAC-SHA256 signature over ``timestamp.body``, and the
message's idempotency key, so a receiver can check who sent it, refuse replays and apply each
message once. Slack-compatible bodies are an option per endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Leadq-Signature"
KEY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Leadq-Event"
TOLERANCE_SECONDS = 300


class DeliveryError(Exception):
    """The receiver did not take the message; the reason is kept on the outbox row."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float,
           tolerance: float = TOLERANCE_SECONDS) -> bool:  # fmt: skip
    """What a receiver runs: the signature matches and the timestamp is fresh (no replay)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    fresh = abs(now - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: one line of text and the breakdown as a list."""
    lead, trigger = payload.get("lead", {}), payload.get("trigger", {})
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k)) or "A lead"
    text = (f"{name} ({lead.get('company') or 'no company'}): {trigger.get('event')} — score"
            f" {lead.get('score')} ({lead.get('grade')}), stage {lead.get('stage')},"
            f" rule {trigger.get('rule')}")  # fmt: skip
    lines = [f"• {line['label']}: {line['points']:+g}" for line in lead.get("breakdown", [])]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    return {"text": text, "blocks": blocks}


def post(url: str, payload: dict[str, Any], key: str, secret: str | None, style: str,
         timestamp: int, timeout: float) -> None:  # fmt: skip
    body = json.dumps(slack_body(payload) if style == "slack" else {"id": key, **payload},
                      separators=(",", ":"), default=str).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", KEY_HEADER: key,
               EVENT_HEADER: str(payload.get("trigger", {}).get("event", ""))}  # fmt: skip
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{url}: {type(exc).__name__}: {exc}") from None
    if not answer.is_success:
        raise DeliveryError(f"{url}: HTTP {answer.status_code} {answer.text[:200]}")
