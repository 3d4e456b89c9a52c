"""What an anonymous event and an anonymous score line keep (pure functions, no database)."""

from __future__ import annotations

import pytest

from leadq.domain.privacy import anonymous_breakdown, anonymous_properties, bare_path, hashed_key


def test_properties_keep_numbers_flags_catalogue_texts_and_bare_paths() -> None:
    given = {
        "amount": 990.5, "value": 3, "seconds": 40, "trial": True, "currency": "EUR",
        "plan": "team", "asset_type": "ebook", "form": "contact",
        "path": "https://www.example.com/pricing/enterprise?email=a%40b.pl&x=1#top",
        "email": "a@b.pl", "name": "Ala Kot", "message": "call me", "phone": 48601234567,
        "customerId": 1234, "zip_code": 30001, "age": 41, "tags": ["vip", "a@b.pl"],
        "address": {"street": "Długa 1"}, "referrer": "https://mail.example/?u=a@b.pl",
        "note": None,
    }  # fmt: skip
    assert anonymous_properties(given) == {
        "amount": 990.5, "value": 3, "seconds": 40, "trial": True, "currency": "EUR",
        "plan": "team", "asset_type": "ebook", "form": "contact", "path": "/pricing/enterprise",
    }  # fmt: skip
    assert anonymous_properties(None) == {}
    assert anonymous_properties(anonymous_properties(given)) == anonymous_properties(given)


@pytest.mark.parametrize(("value", "expected"), [
    ("/pricing?email=a@b.pl", "/pricing"),
    ("/unsubscribe/a%40b.pl/confirm", "/unsubscribe/~/confirm"),
    ("/u/jan@firma.pl", "/u/~"),
    ("https://x.example/docs#a@b.pl", "/docs"),
    ("", ""),
])  # fmt: skip
def test_paths_lose_query_fragment_host_and_addresses(value: str, expected: str) -> None:
    assert bare_path(value) == expected


def test_keys_become_digests_once() -> None:
    digest = hashed_key("form-jan@firma.pl-1")
    assert digest is not None and digest.startswith("sha256:") and "jan" not in digest
    assert hashed_key(digest) == digest and hashed_key(None) is None
    assert hashed_key("form-jan@firma.pl-2") != digest


def test_score_lines_keep_points_and_lose_values_and_override_reasons() -> None:
    lines = [
        {"criterion": "decision_maker", "label": "Decision-making position", "value": "c_level",
         "points": 9.0},
        {"criterion": "override:4", "label": "manual adjustment: met Jan at the fair",
         "value": "rep:ewa", "points": 3.0},
        {"criterion": "grade_pin:5", "label": "grade pinned: Jan's friend", "value": "hot",
         "points": 0.0},
    ]  # fmt: skip
    assert anonymous_breakdown(lines) == [
        {"criterion": "decision_maker", "label": "Decision-making position", "value": None,
         "points": 9.0},
        {"criterion": "override:4", "label": "manual adjustment", "value": None, "points": 3.0},
        {"criterion": "grade_pin:5", "label": "grade pinned", "value": None, "points": 0.0},
    ]  # fmt: skip
    assert anonymous_breakdown(None) is None
