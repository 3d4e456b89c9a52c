"""The pure consent rules: what each purpose's state allows, and which record is current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from leadq.domain.consent import (
    ConsentInput,
    Purpose,
    cache_entry,
    check_consent_time,
    email_refusal,
    may_call,
    may_email,
    may_profile,
    state,
    supersedes,
    task_refusal,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def cache(**states: bool) -> dict[str, Any]:
    return {purpose: cache_entry(ConsentInput(purpose=Purpose(purpose), granted=granted,
                                              at=NOW, source="tests"))
            for purpose, granted in states.items()}  # fmt: skip


def test_marketing_email_needs_an_explicit_grant_and_no_do_not_email() -> None:
    assert not may_email(None, False) and email_refusal({}, False) == "no marketing_email consent"
    assert may_email(cache(marketing_email=True), False)
    assert email_refusal(cache(marketing_email=False), False) == "marketing_email withdrawn"
    assert email_refusal(cache(marketing_email=True), True) == "do_not_email"
    assert not may_email(cache(profiling=True, sales_contact=True), False)  # other purposes


def test_profiling_is_allowed_until_withdrawn() -> None:
    assert may_profile(None) and may_profile({}) and may_profile(cache(profiling=True))
    assert may_profile(cache(marketing_email=False))
    assert not may_profile(cache(profiling=False))


def test_calls_need_no_do_not_call_and_sales_contact_not_withdrawn() -> None:
    assert may_call(None, False) and may_call(cache(sales_contact=True), False)
    assert not may_call(None, True) and not may_call(cache(sales_contact=True), True)
    assert not may_call(cache(sales_contact=False), False)


@pytest.mark.parametrize(("kind", "states", "dne", "dnc", "refusal"), [
    ("call", {}, False, False, None),
    ("call", {}, False, True, "do_not_call"),
    ("first_call", {}, False, True, "do_not_call"),
    ("phone-back", {}, False, True, "do_not_call"),
    ("recall_notes", {}, False, True, None),  # "recall" is not the word "call"
    ("first_touch", {}, True, True, None),  # the rep chooses the channel
    ("send_email", {}, True, False, "do_not_email"),
    ("send_email", {}, False, True, None),
    ("first_touch", {"sales_contact": False}, False, False, "sales_contact withdrawn"),
    ("call", {"marketing_email": False}, False, False, None),
])  # fmt: skip
def test_task_refusals(kind: str, states: dict[str, bool], dne: bool, dnc: bool,
                       refusal: str | None) -> None:  # fmt: skip
    assert task_refusal(kind, cache(**states), dne, dnc) == refusal


def test_newest_record_wins_and_late_older_ones_do_not() -> None:
    current = cache_entry(ConsentInput(purpose=Purpose.marketing_email, granted=False, at=NOW,
                                       source="unsubscribe link"))  # fmt: skip
    assert supersedes(NOW + timedelta(seconds=1), current)
    assert supersedes(NOW, current)  # same moment: the one recorded later
    assert not supersedes(NOW - timedelta(days=30), current)
    assert supersedes(NOW - timedelta(days=30), None)
    assert state({"marketing_email": current}, Purpose.marketing_email) is False
    assert state({"marketing_email": current}, Purpose.profiling) is None


def test_a_record_is_validated() -> None:
    given = ConsentInput.model_validate({
        "purpose": "profiling", "granted": False, "source": "  call with Ewa ",
        "at": "2026-05-04T14:00:00+02:00", "wording_version": " "})  # fmt: skip
    assert given.at == NOW and given.at.tzinfo is UTC
    assert (given.source, given.wording_version) == ("call with Ewa", None)
    bad: list[dict[str, Any]] = [
        {"purpose": "newsletter"},
        {"granted": "yes"},  # strict: a flag is a JSON boolean
        {"at": "2026-05-04T12:00:00"},  # naive
        {"at": "0001-01-01T00:00:00+14:00"},  # before the first UTC moment
        {"source": ""},
        {"source": "x" * 101},
        {"source": "web\x00form"},
        {"wording_version": "v" * 61},
        {"extra": 1},
    ]
    for change in bad:
        data = {"purpose": "profiling", "granted": True, "at": NOW.isoformat(),
                "source": "tests", **change}  # fmt: skip
        with pytest.raises(ValidationError):
            ConsentInput.model_validate(data)


def test_a_consent_cannot_come_from_the_future() -> None:
    skew = timedelta(minutes=5)
    check_consent_time(NOW + timedelta(minutes=4), NOW, skew)
    with pytest.raises(ValueError, match="in the future"):
        check_consent_time(NOW + timedelta(minutes=6), NOW, skew)
    check_consent_time(datetime(2026, 5, 4, 14, 4, tzinfo=timezone(timedelta(hours=2))), NOW, skew)
