"""Free-mail detection: for B2B, a personal mailbox says nothing about the lead's company.

The domains are data (``data/free_mail_domains.txt``) so they can grow without code changes.
The vectorised scoring engine reads the same set and must normalise values the same way as
:func:`is_free_mail`, so the two engines agree.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

_DATA_PACKAGE = "leadq.domain.data"
_DATA_FILE = "free_mail_domains.txt"


@cache
def free_mail_domains() -> frozenset[str]:
    """The shipped free-mail domains, read once: lower case, comments and blanks dropped."""
    text = (resources.files(_DATA_PACKAGE) / _DATA_FILE).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def is_free_mail(email_or_domain: str) -> bool:
    """True when an address, or a bare domain, belongs to a free mailbox provider.

    Case and surrounding whitespace are ignored, as is a trailing dot ("gmail.com."). Matching
    is exact: a subdomain of a listed domain (``mail.gmail.com``) is not free-mail unless it is
    listed itself: providers hand out addresses only on the domains they own, and the
    vectorised engine matches exactly too. An empty value is not free-mail.
    """
    domain = email_or_domain.strip().rsplit("@", 1)[-1].rstrip(".").lower()
    return bool(domain) and domain in free_mail_domains()
