"""Free-mail detection: for B2B, a personal mailbox is not a company."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def free_mail_domains() -> frozenset[str]:
    """The shipped list (``data/free_mail_domains.txt``), read once."""
    text = (resources.files("leadq.domain.data") / "free_mail_domains.txt").read_text("utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def is_free_mail(email_or_domain: str) -> bool:
    """True for an address or domain of a free mailbox provider; exact domains only, so
    ``mail.gmail.com`` is not free-mail unless it is listed."""
    domain = email_or_domain.strip().rsplit("@", 1)[-1].rstrip(".").lower()
    return bool(domain) and domain in free_mail_domains()
