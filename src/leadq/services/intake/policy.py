"""Deployment rules the intake applies to every channel alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from leadq.config import Settings
from leadq.domain.leads import InvalidContact, LeadInput
from leadq.services.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class IntakePolicy:
    phone_region: str | None = None
    clock_skew: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakePolicy:
        return cls(settings.default_phone_region, timedelta(seconds=settings.clock_skew_seconds))

    def normalised(self, lead: LeadInput, field: str = "phone") -> LeadInput:
        try:
            return lead.with_phone_region(self.phone_region)
        except InvalidContact as exc:
            raise InvalidInput([FieldError(field, str(exc))]) from None
