"""What of a lead is personal, and how a fact about a person becomes an anonymous fact.

Erasure keeps a lead's row as an anonymous shell so that counts, conversions, revenue and
scores stay true; these pure functions decide what the shell and its events may keep.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

PERSONAL_FIELDS: tuple[str, ...] = (
    "email", "phone", "first_name", "last_name", "company", "job_title", "seniority",
    "department", "age", "gender", "education", "city", "region",
)  # fmt: skip
"""Profile fields that describe the person (``company`` is the free text they typed; the
account stays linked through ``company_id``). Everything else on the row is about the
channel, the account or our own judgement, and is what aggregates are made of."""

KEPT_FIELDS: tuple[str, ...] = (
    "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "channels", "owner",
    "stage", "pql", "score", "grade", "fit_grade", "engagement_grade", "probability",
    "predictive_score", "country", "industry", "company_size", "annual_revenue",
    "funding_stage", "company_founded_year", "product_users", "company_id", "created_at",
)  # fmt: skip
"""Kept on an erased lead: what reports group by and count."""

TEXT_PROPERTIES = frozenset({
    "asset_type", "asset", "content_type", "currency", "plan", "tier", "product", "feature",
    "form", "webinar", "campaign", "utm_source", "utm_medium", "utm_campaign",
})  # fmt: skip
"""Event properties whose text is a catalogue value (what was downloaded, bought, attended),
kept because scoring criteria and revenue read them; any other text is dropped."""

URL_PROPERTIES = frozenset({"path", "url", "page"})
"""Kept as a bare path: no host, query string or fragment (``?email=…`` lives there)."""

PERSONAL_NUMBER_WORDS = frozenset({
    "phone", "tel", "telephone", "mobile", "fax", "pesel", "ssn", "nip", "zip", "postcode",
    "postal", "birth", "birthday", "dob", "age", "id", "card", "iban", "account", "passport",
})  # fmt: skip
"""A number under a key with one of these words may identify the person: dropped too."""

ERASED_KEY_PREFIX = "sha256:"


def _words(name: str) -> set[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return {word.lower() for word in re.split(r"[\W_]+", spaced) if word}


def bare_path(value: str) -> str:
    """``https://x.com/a/b?email=…#f`` → ``/a/b``; a segment holding an e-mail becomes ``~``."""
    path = urlsplit(value.strip()).path
    return "/".join("~" if "@" in unquote(part) else part for part in path.split("/"))


def anonymous_properties(properties: Mapping[str, Any] | None) -> dict[str, Any]:
    """The properties an anonymous event keeps: numbers and yes/no flags (amounts, seconds,
    counts — unless the key names an identifier), catalogue texts and bare paths."""
    kept: dict[str, Any] = {}
    for key, value in (properties or {}).items():
        if isinstance(value, bool):
            kept[key] = value
        elif isinstance(value, int | float):
            if not _words(key) & PERSONAL_NUMBER_WORDS:
                kept[key] = value
        elif isinstance(value, str) and key in URL_PROPERTIES:
            kept[key] = bare_path(value)
        elif isinstance(value, str) and key in TEXT_PROPERTIES:
            kept[key] = value
    return kept


def hashed_key(key: str | None) -> str | None:
    """An idempotency key replaced by its SHA-256 digest: still unique, no longer readable
    (clients sometimes build keys from e-mail addresses). Hashing twice changes nothing."""
    if key is None or key.startswith(ERASED_KEY_PREFIX):
        return key
    return ERASED_KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def text_digest(text: str) -> str:
    """Free text that may name a person, as a short digest: whoever holds the text can still
    check it against the record (proof of a consent's wording), nobody can read it back."""
    return (
        ERASED_KEY_PREFIX + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    )


def digested(text: str | None) -> str | None:
    """``text_digest``, leaving nothing and what is digested already as it is."""
    if text is None or text.startswith(ERASED_KEY_PREFIX):
        return text
    return text_digest(text)


def anonymous_consents(cache: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The lead's current consents keep purpose, granted and when; source and wording are
    digested (they are free text and may name the person)."""
    if cache is None:
        return None
    return {purpose: {**entry, "source": digested(entry.get("source")),
                      "wording_version": digested(entry.get("wording_version"))}
            for purpose, entry in cache.items()}  # fmt: skip


def shared_only(properties: Mapping[str, Any], names: set[str],
                values: set[tuple[str, str]]) -> dict[str, Any]:  # fmt: skip
    """Of an erased lead's anonymous properties, those whose name other leads use too, and
    for texts, whose value other leads have too: a value only this person has (a name typed
    into a product field, say) may be theirs, whatever the field is called."""
    kept = {}
    for name, value in properties.items():
        if name not in names:
            continue
        if isinstance(value, str) and name not in URL_PROPERTIES and (name, value) not in values:
            continue
        kept[name] = value
    return kept


MANUAL_LINES = {"override": "manual adjustment", "grade_pin": "grade pinned"}
"""Labels of the lines a person's override adds, without the reason they typed."""


def anonymous_breakdown(lines: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Score lines keep criterion, label and points; the value echoed the profile, and an
    override's label carries the free-text reason."""
    if lines is None:
        return None
    kept = []
    for line in lines:
        manual = MANUAL_LINES.get(str(line.get("criterion", "")).split(":", 1)[0])
        kept.append({**line, "value": None, "label": manual or line.get("label")})
    return kept


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
