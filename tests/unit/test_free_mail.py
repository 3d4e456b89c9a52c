"""Free-mail detection for B2B: a personal mailbox does not name the lead's company."""

from __future__ import annotations

from importlib import resources

import pytest

from leadq.domain.free_mail import free_mail_domains, is_free_mail

LISTED = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.ro",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "protonmail.com",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "poczta.onet.pl",
    "mail.ru",
    "yandex.ru",
    "mailinator.com",
]
NOT_FREE_MAIL = [
    "acme.com",
    "jan@firma.pl",
    "ioana@example.ro",
    "ivan@company.ru",
    "",
    "   ",
    "@",
    "mail.gmail.com",  # subdomains are not implied
    "gmail.com.evil.io",
    "notgmail.com",
    "gmail",
]


def _data_file_entries() -> list[str]:
    text = (resources.files("leadq.domain.data") / "free_mail_domains.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("domain", LISTED)
def test_listed_domain_is_free_mail_as_domain(domain: str) -> None:
    assert is_free_mail(domain)
    assert is_free_mail(domain.upper())
    assert is_free_mail(f" {domain}. ")


@pytest.mark.parametrize("domain", LISTED)
def test_listed_domain_is_free_mail_as_address(domain: str) -> None:
    assert is_free_mail(f"someone@{domain}")
    assert is_free_mail(f"Some.One+tag@{domain.upper()}")
    assert is_free_mail(f"  someone@{domain}.\n")


@pytest.mark.parametrize("value", NOT_FREE_MAIL)
def test_company_look_alike_and_empty_values_are_not_free_mail(value: str) -> None:
    assert not is_free_mail(value)


def test_listed_domains_are_the_data_file() -> None:
    domains = free_mail_domains()
    assert set(LISTED) <= domains
    assert len(domains) >= 100
    assert domains == {entry.strip() for entry in _data_file_entries()}


def test_data_file_is_clean() -> None:
    entries = _data_file_entries()
    assert len(entries) == len(set(entries)), "duplicates"
    for entry in entries:
        assert entry == entry.strip() == entry.lower(), entry
        assert "." in entry and " " not in entry and "@" not in entry, entry
        assert not entry.startswith(".") and not entry.endswith("."), entry
