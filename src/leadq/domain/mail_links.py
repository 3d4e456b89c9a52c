"""Signed links in the e-mails leadq sends to leads: an open pixel, click-through links and a
one-click unsubscribe. A link carries what it is for (message, lead, kind, target address)
and an HMAC-SHA256 of that under the workspace's secret: a changed or foreign link is
refused, so a click never redirects anywhere leadq did not write into its own e-mail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from html import escape
from typing import Literal

Kind = Literal["open", "click", "unsubscribe"]
_KINDS: dict[str, Kind] = {"o": "open", "c": "click", "u": "unsubscribe"}
MAX_TOKEN = 2000
MAIL_SECRET = "mail-links"
"""The name of the workspace secret the links are signed with."""
_URL = re.compile(r"https?://[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]")
"""An address in a text, without the sentence's punctuation after it."""
_MACHINES = ("googleimageproxy", "yahoomailproxy", "ymailproxy", "outlook-ios", "bingpreview",
             "mimecast", "proofpoint", "barracuda", "symantec",
             "microsoft office existence")  # fmt: skip


@dataclass(frozen=True)
class Link:
    message: str
    """The outbox message's idempotency key: which e-mail the link is in."""
    lead_id: int
    kind: Kind
    url: str | None = None
    """Where a click goes: an address leadq itself put in the e-mail."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18])


def sign(secret: str, link: Link) -> str:
    short = next(k for k, v in _KINDS.items() if v == link.kind)
    fields = [link.message, link.lead_id, short] + ([link.url] if link.url else [])
    body = _b64(json.dumps(fields, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str) -> Link | None:
    """The link a token stands for, or None for anything leadq did not sign."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):
        return None
    try:
        fields = json.loads(_unb64(body))
        message, lead_id, short, *rest = fields
        return Link(str(message), int(lead_id), _KINDS[short], str(rest[0]) if rest else None)
    except (ValueError, KeyError, TypeError):
        return None


def machine_open(user_agent: str | None) -> bool:
    """An open made by a privacy proxy or a mail scanner that fetches every image, not by a
    person reading: scoring models can leave these out (property ``machine``)."""
    agent = (user_agent or "").lower()
    return not agent or any(mark in agent for mark in _MACHINES)


@dataclass(frozen=True)
class Tracked:
    """An e-mail made trackable: text and HTML bodies, and its unsubscribe headers."""

    text: str
    html: str
    headers: dict[str, str]


def tracked(body: str, base: str, secret: str, message: str, lead_id: int,
            unsubscribe_words: str) -> Tracked:  # fmt: skip
    """Every address in ``body`` through a signed click link, an open pixel in the HTML part,
    and a one-click unsubscribe (RFC 8058) link and headers."""

    def link(kind: Kind, url: str | None = None) -> str:
        path = {"open": "o", "click": "c", "unsubscribe": "u"}[kind]
        suffix = ".gif" if kind == "open" else ""
        return f"{base}/m/{path}/{sign(secret, Link(message, lead_id, kind, url))}{suffix}"

    unsubscribe = link("unsubscribe")
    text = _URL.sub(lambda m: link("click", m.group(0)), body)
    text += f"\n\n{unsubscribe_words}: {unsubscribe}\n"
    parts, last = [], 0
    for found in _URL.finditer(body):
        parts.append(escape(body[last : found.start()]))
        parts.append(f'<a href="{escape(link("click", found.group(0)))}">'
                     f"{escape(found.group(0))}</a>")  # fmt: skip
        last = found.end()
    parts.append(escape(body[last:]))
    html = ("<html><body><p>" + "".join(parts).replace("\n", "<br>\n") + "</p>"
            f'<p><a href="{escape(unsubscribe)}">{escape(unsubscribe_words)}</a></p>'
            f'<img src="{escape(link("open"))}" width="1" height="1" alt="">'
            "</body></html>")  # fmt: skip
    headers = {"List-Unsubscribe": f"<{unsubscribe}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}  # fmt: skip
    return Tracked(text, html, headers)
