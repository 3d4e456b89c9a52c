"""Signed e-mail links: what leadq signed verifies, anything else does not, and the tracked
e-mail keeps its words while every address goes through a signed link."""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadq.domain.mail_links import Link, machine_open, sign, tracked, verify

SECRET = "a workspace secret"


@pytest.mark.parametrize("link", [
    Link("leadq-1", 7, "open"), Link("leadq-2", 8, "unsubscribe"),
    Link("leadq-3", 9, "click", "https://x.example/a?b=1&c=ż")])  # fmt: skip
def test_a_signed_link_verifies_to_itself(link: Link) -> None:
    assert verify(SECRET, sign(SECRET, link)) == link
    assert verify("another workspace", sign(SECRET, link)) is None


def test_a_changed_target_is_refused_even_with_valid_encoding() -> None:
    token = sign(SECRET, Link("leadq-1", 7, "click", "https://x.example/"))
    body, mac = token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    fields[3] = "https://evil.example/"
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    assert verify(SECRET, f"{forged}.{mac}") is None


@given(st.text(max_size=3000))
def test_no_made_up_token_verifies(token: str) -> None:
    assert verify(SECRET, token) is None


def test_tracked_mail_signs_every_address_and_adds_one_click_unsubscribe() -> None:
    body = "See https://a.example/x, and (https://b.example/y).\nBye <script>"
    made = tracked(body, "https://leadq.example", SECRET, "leadq-9", 3, "Wypisz się")
    assert "a.example" not in made.text and "b.example" not in made.text
    assert made.text.count("https://leadq.example/m/c/") == 2
    assert "Wypisz się: https://leadq.example/m/u/" in made.text
    assert "&lt;script&gt;" in made.html and "<script>" not in made.html
    assert made.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    tokens = re.findall(r"https://leadq\.example/m/c/([\w-]+\.[\w-]+)", made.text)
    clicks = [verify(SECRET, token) for token in tokens]
    assert [c.url for c in clicks if c] == ["https://a.example/x", "https://b.example/y"]


@pytest.mark.parametrize(("agent", "machine"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) via ggpht.com GoogleImageProxy", True),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", True),
    ("", True), (None, True),
    ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko)", False)])  # fmt: skip
def test_proxies_and_scanners_open_as_machines(agent: str | None, machine: bool) -> None:
    assert machine_open(agent) is machine
