"""Lead profile rules: contact normalisation, dedup keys, merging two arrivals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadq.domain.leads import (
    InvalidContact,
    LeadInput,
    dedup_keys,
    merge_values,
    normalise_email,
    normalise_phone,
    slug,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna.Nowak@Firma.PL", "anna.nowak@firma.pl"),
        ("  jan@acme.com\t", "jan@acme.com"),
        ("ivan@пример.рф", "ivan@пример.рф"),
        ("o'brien+crm@example.ie", "o'brien+crm@example.ie"),
    ],
)
def test_email_normalisation(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a@", "@b.com", "a b@c.com", "a@b..com"])
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidContact):
        normalise_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+48 601 234 567", None, "+48601234567"),
        ("0048601234567", None, "+48601234567"),
        ("601-234-567", "PL", "+48601234567"),
        ("(0721) 000 111", "RO", "+40721000111"),
        ("+7 (912) 345-67-89", None, "+79123456789"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_phone_normalisation_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"), [("601 234 567", None), ("+48 12", None), ("abc", "PL")]
)
def test_impossible_phones_are_refused(raw: str, region: str | None) -> None:
    with pytest.raises(InvalidContact):
        normalise_phone(raw, region)


def test_dedup_keys_put_email_before_phone() -> None:
    assert dedup_keys("a@b.pl", "+48601234567") == [("email", "a@b.pl"), ("phone", "+48601234567")]
    assert dedup_keys(None, "+48601234567") == [("phone", "+48601234567")]
    assert dedup_keys(None, None) == []


def test_slug_makes_channel_names_comparable() -> None:
    assert slug(" Paid Search ") == slug("paid-search") == "paid_search"


def test_lead_input_needs_a_contact_and_treats_blank_as_missing() -> None:
    with pytest.raises(ValidationError, match="email or a phone"):
        LeadInput.model_validate({"email": "  ", "first_name": "A"})
    lead = LeadInput.model_validate({"email": "A@B.PL", "city": "", "source": "Web Form"})
    assert lead.profile() == {"email": "a@b.pl", "source": "web_form"}


def test_lead_input_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        LeadInput.model_validate({"email": "a@b.pl", "shoe_size": 44})


def test_merge_fills_gaps_keeps_existing_and_reports_conflicts() -> None:
    existing = {"first_name": "Jan", "company": "ACME", "city": None, "country": ""}
    incoming = {
        "first_name": "Janek",
        "company": " acme ",
        "city": "Gdańsk",
        "country": "PL",
        "age": None,
    }
    merge = merge_values(existing, incoming)
    assert merge.filled == {"city": "Gdańsk", "country": "PL"}
    assert merge.conflicts == {"first_name": {"kept": "Jan", "incoming": "Janek"}}


def test_merge_prefix_names_attribute_conflicts() -> None:
    merge = merge_values({"tier": "gold"}, {"tier": "silver", "new": 1}, prefix="attributes.")
    assert merge.filled == {"new": 1}
    assert merge.conflicts == {"attributes.tier": {"kept": "gold", "incoming": "silver"}}


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"": 1}, "names must be"),
        ({"x" * 101: 1}, "names must be"),
        ({"note": "x" * 4097}, "over 4096 characters"),
        ({"tags": ["x" * 100] * 200}, "over 16384 bytes"),
        ({f"k{i}": i for i in range(101)}, "at most 100"),
    ],
)
def test_custom_attributes_are_bounded(attributes: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        LeadInput.model_validate({"email": "a@b.pl", "attributes": attributes})
