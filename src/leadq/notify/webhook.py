"""Signed webhooks: a JSON body, an HMAC-SHA256 signature over ``timestamp.body``, and the
message's idempotency key, so a receiver can check who sent it, refuse replays and apply each
message once. Slack-compatible bodies are an option per endpoint: their text is written in the
workspace language (the JSON of the other bodies keeps its codes)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from leadq.config import get_settings
from leadq.i18n import Language

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


def slack_body(payload: dict[str, Any], lang: Language) -> dict[str, Any]:
    """A Slack incoming-webhook message: one line of text and the breakdown as a list."""
    lead, trigger = payload.get("lead", {}), payload.get("trigger", {})
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    event, score, grade = trigger.get("event"), lead.get("score"), lead.get("grade")
    rule, stage = trigger.get("rule"), lead.get("stage")
    values = {
        "name": name or lang.gettext("A lead"),
        "company": lead.get("company") or lang.gettext("no company"),
        "event": lang.label(event, "event", event) if event else "-",
        "score": "-" if score is None else lang.figure(score),
        "grade": lang.label(grade, "grade") if grade else lang.gettext("unscored"),
        "stage": lang.label(stage, "stage") if stage else "-",
        "rule": lang.label(rule, "rule", rule) if rule else "-",
    }
    text = lang.gettext("%(name)s (%(company)s): %(event)s — score %(score)s (%(grade)s),"
                        " stage %(stage)s, rule %(rule)s") % values  # fmt: skip
    lines = [f"• {line['label']}: {lang.figure(line['points'], signed=True)}"
             for line in lead.get("breakdown", [])]  # fmt: skip
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    return {"text": text, "blocks": blocks}


def post(url: str, payload: dict[str, Any], key: str, secret: str | None, style: str,
         timestamp: int, timeout: float, lang: Language | None = None) -> None:  # fmt: skip
    """Send one message; a Slack body is written in ``lang``, else the workspace language."""
    if style == "slack":
        sent = slack_body(payload, lang or get_settings().language())
    else:
        sent = {"id": key, **payload}
    body = json.dumps(sent, separators=(",", ":"), default=str).encode()
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
