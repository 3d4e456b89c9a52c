"""Free-mail detection for B2B: a personal mailbox does not make a company."""

from __future__ import annotations

from importlib import resources

import pytest

from leadq.domain.free_mail import free_mail_domains, is_free_mail

LISTED = ["gmail.com", "yahoo.com", "outlook.com", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
          "mail.ru", "yandex.ru", "hotmail.com", "icloud.com", "protonmail.com"]  # fmt: skip


@pytest.mark.parametrize("domain", LISTED)
def test_listed_domains_are_free_mail_as_address_or_domain(domain: str) -> None:
    assert is_free_mail(domain)
    assert is_free_mail(f"Someone@{domain.upper()}")
    assert is_free_mail(f" {domain}. ")


@pytest.mark.parametrize("value", ["acme.com", "jan@firma.pl", "ioana@example.ro", "",
                                   "mail.gmail.com", "gmail.com.evil.io"])  # fmt: skip
def test_company_and_look_alike_domains_are_not_free_mail(value: str) -> None:
    assert not is_free_mail(value)


def test_data_file_is_clean() -> None:
    text = (resources.files("leadq.domain.data") / "free_mail_domains.txt").read_text("utf-8")
    entries = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert len(entries) == len(set(entries)) == len(free_mail_domains())
    assert all(e == e.lower() and " " not in e and "." in e for e in entries)
