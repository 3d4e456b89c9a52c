"""Behaviour events: the standard types of the field and the rules an event must satisfy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from leadq.domain.boundary import EventMoment
from leadq.domain.custom import check_custom_values
from leadq.domain.leads import LeadId

STANDARD_EVENT_TYPES: frozenset[str] = frozenset({
    "page_view", "form_submitted", "content_download", "webinar_registered",
    "webinar_attended", "email_opened", "email_clicked", "email_replied", "email_bounced",
    "unsubscribed", "social_engagement", "chat_message", "call_logged", "meeting_booked",
    "demo_requested", "pricing_requested", "quote_requested", "invoice_requested",
    "trial_started", "product_used", "purchase",
})  # fmt: skip
"""Types the product knows by name; custom types are allowed and follow the same pattern."""

EVENT_TYPE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"  # stored lower case
MAX_PROPERTIES = 64

EventType = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=EVENT_TYPE_PATTERN)
]


def check_not_future(occurred_at: datetime, now: datetime, skew: timedelta) -> None:
    """Refuse events from the future beyond clock skew: they would distort every score."""
    if occurred_at > now + skew:
        raise ValueError(f"is in the future (more than {int(skew.total_seconds())} s ahead)")


class EventInput(BaseModel):
    """One thing a lead did; the clock check (``check_not_future``) is the caller's, as it
    needs the time of receipt."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lead_id: LeadId
    type: EventType
    occurred_at: EventMoment
    properties: dict[str, Any] = Field(default_factory=dict)
    channel: Annotated[str, StringConstraints(max_length=100)] | None = None
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @field_validator("properties")
    @classmethod
    def _properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_custom_values(value, "properties", MAX_PROPERTIES)
