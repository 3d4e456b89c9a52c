"""An e-mail read from a monitored inbox, as leadq sees it: a person's message (new, or a
reply threaded to a message leadq sent), an automatic reply (RFC 3834) that must not become a
lead, or a delivery status notification (RFC 3464) that says which addresses bounced.

Pure: the caller fetches the raw bytes; nothing here names words of any language, only headers
and content types the RFCs define.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from leadq.domain.leads import InvalidContact, normalise_phone

LEADQ_ID = re.compile(r"<([A-Za-z0-9_.:-]{1,200})@leadq>")
SIGNATURE_LINES = 12
INTERNATIONAL = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,22}\d")
AUTOMATIC_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})


@dataclass(frozen=True)
class Mail:
    kind: str
    """``message``, ``auto_reply`` or ``bounce``."""
    key: str
    """The Message-ID (or a digest of the bytes): a message read twice is stored once."""
    sender_name: str | None = None
    sender: str | None = None
    replies_to: list[str] = field(default_factory=list)
    """Keys of messages leadq sent (``<key@leadq>``) this one answers, nearest first."""
    bounced: list[str] = field(default_factory=list)
    subject: str | None = None
    sent_at: datetime | None = None
    phone: str | None = None
    """The one international number of the sender's signature (below the RFC 3676 ``-- ``
    line), when there is exactly one that reads as a number."""


def read_mail(raw: bytes) -> Mail:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    key = _header(parsed, "Message-ID") or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    name, address = parseaddr(_header(parsed, "From") or "")
    subject = (_header(parsed, "Subject") or "")[:300] or None
    sent_at = _date(_header(parsed, "Date"))
    key = key[:200]
    if _is_report(parsed):
        return Mail("bounce", key, bounced=_failed_recipients(parsed), subject=subject,
                    sent_at=sent_at)  # fmt: skip
    if _is_automatic(parsed):
        return Mail("auto_reply", key, subject=subject, sent_at=sent_at)
    threads = " ".join(filter(None, [_header(parsed, "In-Reply-To"),
                                     _header(parsed, "References")]))  # fmt: skip
    replies = list(dict.fromkeys(LEADQ_ID.findall(threads)))
    sender = address.strip().lower() or None
    return Mail("message", key, name.strip()[:200] or None, sender, replies, subject=subject,
                sent_at=sent_at, phone=_signature_phone(parsed))  # fmt: skip


def _signature_phone(message: EmailMessage) -> str | None:
    """Only what reads reliably whatever the language: a number written in international
    form, in the block a mail program marks as the signature."""
    try:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    except (KeyError, LookupError, ValueError):
        return None
    lines = str(text).splitlines()
    if "-- " not in lines:
        return None
    block = lines[len(lines) - lines[::-1].index("-- ") :][:SIGNATURE_LINES]
    found = set()
    for match in INTERNATIONAL.findall("\n".join(block)):
        try:
            found.add(normalise_phone(match))
        except InvalidContact:
            continue
    return found.pop() if len(found) == 1 else None


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a header the parser cannot make sense of
        return None
    return None if value is None else str(value).strip()


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else None


def _is_automatic(message: Message) -> bool:
    """RFC 3834 ``Auto-Submitted`` other than ``no``; the headers autoresponders add; a
    precedence of automatic mail; an empty return path (RFC 5321: no reply expected)."""
    submitted = (_header(message, "Auto-Submitted") or "no").lower()
    if submitted.split(";")[0].strip() != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if (_header(message, "Precedence") or "").lower() in AUTOMATIC_PRECEDENCE:
        return True
    return (_header(message, "Return-Path") or "x").strip() == "<>"


def _is_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type") or "").lower() == "delivery-status"
    )


def _failed_recipients(message: Message) -> list[str]:
    """The recipients a delivery status notification says failed (``Action: failed``)."""
    failed = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            if (_header(block, "Action") or "").lower() != "failed":
                continue
            recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
            if recipient:
                address = recipient.split(";", 1)[-1].strip()
                found = [a for _, a in getaddresses([address]) if "@" in a]
                failed += [a.lower() for a in found]
    return list(dict.fromkeys(failed))
