"""What the tracking door keeps of a client: its network without the host, and no visit
from crawlers, previews or scripts."""

from __future__ import annotations

import pytest

from leadq.domain.tracking import is_bot, truncated_address


@pytest.mark.parametrize(("address", "kept"), [
    ("203.0.113.77", "203.0.113.0"), ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
    ("::1", "::"), (None, None), ("", None), ("not-an-address", None)])  # fmt: skip
def test_the_host_part_of_an_address_is_never_kept(address: str | None, kept: str | None) -> None:
    assert truncated_address(address) == kept


@pytest.mark.parametrize(("agent", "bot"), [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
    ("facebookexternalhit/1.1", True), ("curl/8.5.0", True), ("python-httpx/0.28", True),
    ("Mozilla/5.0 (compatible; bingbot/2.0)", True), ("", True), (None, True), ("x" * 2000, True),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36",
     False),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605.1.15 Mobile", False)])  # fmt: skip
def test_crawlers_and_scripts_are_not_visitors(agent: str | None, bot: bool) -> None:
    assert is_bot(agent) is bot
