"""Lead profile: the fields of the field, their normalisation, dedup keys and merging.

Pure: no database, no clock. The API, CSV import and web forms all validate through
``LeadInput`` so a lead means the same thing whichever door it came in by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadq.domain.consent import ConsentInput
from leadq.domain.custom import check_custom_values
from leadq.domain.ids import EntityId
from leadq.domain.seniority import Seniority

PROFILE_FIELDS: tuple[str, ...] = (
    "email", "phone", "first_name", "last_name", "company", "job_title", "seniority",
    "department", "industry", "company_size", "annual_revenue", "company_founded_year",
    "funding_stage", "product_users", "country", "region", "city", "age", "gender",
    "education", "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "owner",
)  # fmt: skip
"""Canonical profile fields (PRODUCT.md), in the order exports and cards show them."""

MAX_ATTRIBUTES = 100
ATTRIBUTE_PREFIX = "attributes."
"""How a custom field is named wherever fields are named (CSV columns, forms, models)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
_SLUG_SPACES = re.compile(r"[\s\-]+")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./\-]{3,40}$")


CONTACT_FIELDS = ("consents", "do_not_email", "do_not_call")
"""Not profile fields: what the person allows; recorded by the consent service."""
MAX_CONSENTS = 20

LeadId = Annotated[EntityId, Field(description="A lead's id")]


class InvalidContact(ValueError):
    """An e-mail address or phone number that cannot be a real one."""


CACHED_TEXT = 400
"""Longer text is normalised each time: the caches below hold what files repeat, not
whatever a caller sends."""


def normalise_email(raw: str) -> str:
    """Lower-cased, syntax-checked address with an IDNA-normalised domain (no DNS lookup).
    Cached: an events file names each person again and again."""
    return _email(raw) if len(raw) <= CACHED_TEXT else _email.__wrapped__(raw)


@lru_cache(maxsize=1 << 16)
def _email(raw: str) -> str:
    text = raw.strip()
    return _plain(text) or _validated(text).normalized.lower()


def _validated(text: str) -> ValidatedEmail:
    try:
        return validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"not a valid e-mail address: {exc}") from None


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
"""Most addresses: an ASCII dot-atom before the @-sign, ASCII labels after it."""
_MAX_ADDRESS = 254
"""Octets of an address as written, normalised and in IDNA ASCII (RFC 5321): a domain
written in IDNA ASCII may take more octets once normalised."""


def _plain(text: str) -> str | None:
    """A plain address normalised as ``validate_email`` would, its domain checked once per
    domain (the IDNA checks are most of the time of a check, and a file names each company's
    domain again and again); None for anything else, which ``validate_email`` reads whole."""
    found = _PLAIN.fullmatch(text)
    if found is None or len(text) > _MAX_ADDRESS:
        return None
    local, written = found.groups()
    domain = _domain(written)
    if domain is None or len(local) + 1 + max(len(d.encode()) for d in domain) > _MAX_ADDRESS:
        return None
    return f"{local}@{domain[0]}".lower()


@lru_cache(maxsize=1 << 14)
def _domain(written: str) -> tuple[str, str] | None:
    """The domain as ``validate_email`` normalises it and in IDNA ASCII, or None if it cannot
    follow even the shortest local part."""
    try:
        checked = validate_email(f"a@{written}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain, checked.ascii_domain


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """E.164 form (``+48601234567``); national numbers need ``default_region``. Cached."""
    if len(raw) > CACHED_TEXT:
        return _phone.__wrapped__(raw, default_region)
    return _phone(raw, default_region)


@lru_cache(maxsize=1 << 16)
def _phone(raw: str, default_region: str | None) -> str:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        hint = "" if default_region else " (use +country code or set LEADQ_DEFAULT_PHONE_REGION)"
        raise InvalidContact(f"not a valid phone number{hint}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidContact("not a possible phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def dedup_keys(email: str | None, phone: str | None) -> list[tuple[str, str]]:
    """Keys that identify one person, strongest first: the e-mail, else the phone."""
    keys = []
    if email:
        keys.append(("email", email))
    if phone:
        keys.append(("phone", phone))
    return keys


def slug(value: str) -> str:
    """``Paid Search`` → ``paid_search``: channel names compare equal however typed."""
    return _SLUG_SPACES.sub("_", value.strip().lower())


BY_CHANNEL = "by_channel"
"""Validation context of a person who wrote from a messenger: reachable there, a lead without
an e-mail or a phone (``LeadInput.model_validate(data, context={BY_CHANNEL: True})``)."""


class LeadInput(BaseModel):
    """A lead as submitted by any channel; unknown fields are refused, custom ones go in
    ``attributes``. Call ``with_phone_region`` before storing it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    company: Text | None = None
    job_title: Text | None = None
    seniority: Seniority | None = None
    department: ShortText | None = None
    industry: ShortText | None = None
    company_size: int | None = Field(default=None, ge=0, le=10_000_000)
    annual_revenue: float | None = Field(default=None, ge=0, le=1e13)
    company_founded_year: int | None = Field(default=None, ge=1600, le=2200)
    funding_stage: ShortText | None = None
    product_users: int | None = Field(default=None, ge=0, le=100_000_000)
    country: ShortText | None = None
    region: ShortText | None = None
    city: ShortText | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    gender: ShortText | None = None
    education: ShortText | None = None
    source: ShortText | None = None
    campaign: Text | None = None
    utm_source: Text | None = None
    utm_medium: Text | None = None
    utm_campaign: Text | None = None
    owner: ShortText | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    consents: list[ConsentInput] = Field(
        default_factory=list, max_length=MAX_CONSENTS, description="Consents given or withdrawn"
    )
    do_not_email: bool | None = Field(default=None, description="true sets Do Not Email")
    do_not_call: bool | None = Field(default=None, description="true sets Do Not Call")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE_CHARS.match(value):
            raise ValueError("a phone number has digits, spaces, + ( ) . / - only")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return None if value is None else slug(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_custom_values(value, "custom attributes", MAX_ATTRIBUTES)

    @model_validator(mode="after")
    def _reachable(self, info: ValidationInfo) -> LeadInput:
        if not self.email and not self.phone and not (info.context or {}).get(BY_CHANNEL):
            raise ValueError("a lead needs an email or a phone")
        return self

    def with_phone_region(self, region: str | None) -> LeadInput:
        """This lead with its phone in E.164, national numbers read in ``region``.

        Kept out of validation because the region is deployment configuration, not input."""
        if self.phone is None:
            return self
        return self.model_copy(update={"phone": normalise_phone(self.phone, region)})

    def profile(self) -> dict[str, Any]:
        """The non-empty profile fields, enum values as plain strings."""
        data = self.model_dump(exclude={"attributes", *CONTACT_FIELDS}, exclude_none=True,
                               mode="json")  # fmt: skip
        return {k: v for k, v in data.items() if v != ""}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return bool(a == b)


@dataclass(frozen=True)
class Merge:
    """What a second arrival of the same person changes: gaps it fills, values it contradicts."""

    filled: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)


def merge_values(
    existing: Mapping[str, Any], incoming: Mapping[str, Any], prefix: str = ""
) -> Merge:
    """Fill empty fields with incoming values; keep existing values on conflict and report it.

    The first record wins so that nothing a person typed earlier is silently overwritten;
    conflicts are returned for the audit log, where a person can resolve them.
    """
    filled: dict[str, Any] = {}
    conflicts: dict[str, dict[str, Any]] = {}
    for name, new in incoming.items():
        if is_empty(new):
            continue
        old = existing.get(name)
        if is_empty(old):
            filled[name] = new
        elif not _same(old, new):
            conflicts[prefix + name] = {"kept": old, "incoming": new}
    return Merge(filled, conflicts)
