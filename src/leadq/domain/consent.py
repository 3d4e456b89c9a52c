"""Consent per purpose and the Do Not Email / Do Not Call flags: what a lead agreed to, and
what that allows us to do with them.

A consent record says that the person gave (``granted``) or withdrew consent for one purpose,
when they did (``at``), where (``source``: a form, a call, an import) and which version of the
wording they saw. The newest record per purpose is the current state; the lead caches it as
``{purpose: {granted, at, source, wording_version}}``, which is what the rules below read.

The purposes differ in their legal basis, hence in what silence means:

- ``marketing_email`` needs an explicit grant (opt-in): no record means no marketing e-mail.
- ``profiling`` (predictive scoring) runs on legitimate interest: allowed until the person
  objects, i.e. until a withdrawal is recorded; no record means allowed.
- ``sales_contact`` likewise: a rep may follow a lead up until the person withdraws it.

Pure: no database, no clock (callers pass ``now``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
)

from leadq.domain.boundary import Moment


class Purpose(StrEnum):
    marketing_email = "marketing_email"
    profiling = "profiling"
    sales_contact = "sales_contact"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("may not contain control characters (NUL, line breaks, …)")
    return value


Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]  # fmt: skip
WordingVersion = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_printable),
]  # fmt: skip


class ConsentInput(BaseModel):
    """One consent given or withdrawn, as the person gave it. Whether ``at`` lies in the
    future is the caller's check (``check_consent_time``): it needs the time of receipt."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: Purpose
    granted: StrictBool
    at: Moment
    source: Source
    wording_version: WordingVersion | None = None

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None

    @field_validator("wording_version", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def check_consent_time(at: datetime, now: datetime, skew: timedelta) -> None:
    """A consent cannot have been given after we heard of it (beyond clock skew)."""
    if at > now + skew:
        raise ValueError(f"is in the future (more than {int(skew.total_seconds())} s ahead)")


# -- the cache on the lead ---------------------------------------------------------------------

Consents = Mapping[str, Any] | None
"""A lead's cache: purpose → ``{granted, at, source, wording_version}`` (None: no records)."""


def cache_entry(consent: ConsentInput) -> dict[str, Any]:
    return {"granted": consent.granted, "at": consent.at.isoformat(), "source": consent.source,
            "wording_version": consent.wording_version}  # fmt: skip


def supersedes(at: datetime, current: Mapping[str, Any] | None) -> bool:
    """Does a record given at ``at`` become the current one? Records may arrive out of order
    (an import of old opt-ins after a fresh withdrawal): an older one never replaces a newer
    one. At the same moment, the one recorded later wins."""
    return current is None or at >= datetime.fromisoformat(current["at"])


def state(consents: Consents, purpose: Purpose) -> bool | None:
    """Granted (True), withdrawn (False), or never recorded (None)."""
    entry = (consents or {}).get(purpose.value)
    return bool(entry.get("granted")) if isinstance(entry, Mapping) else None


# -- what the consents allow -------------------------------------------------------------------


def email_refusal(consents: Consents, do_not_email: bool) -> str | None:
    """Why the lead may not get marketing e-mail, or None if they may."""
    if do_not_email:
        return "do_not_email"
    given = state(consents, Purpose.marketing_email)
    if given is None:
        return "no marketing_email consent"
    return None if given else "marketing_email withdrawn"


def may_email(consents: Consents, do_not_email: bool) -> bool:
    """Marketing e-mail (nurture tracks, any automated e-mail to the lead) needs an explicit,
    not withdrawn ``marketing_email`` grant and no Do Not Email flag."""
    return email_refusal(consents, do_not_email) is None


def may_profile(consents: Consents) -> bool:
    """Predictive scoring is allowed unless ``profiling`` was withdrawn: no record means
    allowed (legitimate interest, which the person may object to at any time)."""
    return state(consents, Purpose.profiling) is not False


def may_call(consents: Consents, do_not_call: bool) -> bool:
    """A rep may phone the lead unless Do Not Call is set or ``sales_contact`` was withdrawn."""
    return not do_not_call and state(consents, Purpose.sales_contact) is not False


_WORDS = re.compile(r"[_\-]")
CALL_WORDS = frozenset({"call", "callback", "phone"})
EMAIL_WORDS = frozenset({"email", "mail"})


def task_refusal(kind: str, consents: Consents, do_not_email: bool,
                 do_not_call: bool) -> str | None:  # fmt: skip
    """Why a follow-up task of ``kind`` may not be created for the lead, or None.

    Every follow-up task is a sales contact, so none is created once ``sales_contact`` is
    withdrawn. A kind naming a call (a word ``call``, ``callback`` or ``phone`` in it, e.g.
    ``call``, ``first_call``) is not created under Do Not Call; one naming an e-mail (``email``,
    ``mail``) not under Do Not Email. Other kinds (``first_touch``) leave the channel to the rep.
    """
    if state(consents, Purpose.sales_contact) is False:
        return "sales_contact withdrawn"
    words = set(_WORDS.split(kind.lower()))
    if do_not_call and words & CALL_WORDS:
        return "do_not_call"
    if do_not_email and words & EMAIL_WORDS:
        return "do_not_email"
    return None
