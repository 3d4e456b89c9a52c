"""Deployment rules the intake applies to every channel alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from leadq.config import Settings
from leadq.domain.countries import country_code
from leadq.domain.leads import InvalidContact, LeadInput
from leadq.services.errors import FieldError, InvalidInput

RAW_PHONE = "phone_raw"
"""The attribute that keeps a phone number intake could not read, as it was written."""


ImportAutomation = Literal["new-only", "all", "none"]
"""Which imported rows the automation rules react to: all but those another CRM dates (its
history), every row, or none."""


@dataclass(frozen=True)
class IntakePolicy:
    phone_region: str | None = None
    clock_skew: timedelta = timedelta(minutes=5)
    import_automation: ImportAutomation = "new-only"

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakePolicy:
        return cls(settings.default_phone_region, timedelta(seconds=settings.clock_skew_seconds),
                   settings.import_automation)  # fmt: skip

    def region_of(self, lead: LeadInput) -> str | None:
        """Where a national phone number is read: the lead's own country, else the default."""
        return country_code(lead.country) or self.phone_region

    def normalised(self, lead: LeadInput, field: str = "phone") -> LeadInput:
        """The lead with its phone in E.164; ``InvalidInput`` naming ``field`` if it cannot be."""
        try:
            return lead.with_phone_region(self.region_of(lead))
        except InvalidContact as exc:
            raise InvalidInput([FieldError(field, str(exc))]) from None

    def lenient(self, lead: LeadInput) -> tuple[LeadInput, list[FieldError]]:
        """As ``normalised``, but a phone that cannot be read does not cost a lead that has an
        e-mail: the number is kept as written in ``attributes.phone_raw``, with a warning."""
        try:
            return self.normalised(lead), []
        except InvalidInput as exc:
            if not lead.email or lead.phone is None:
                raise
            attributes = {**lead.attributes, RAW_PHONE: lead.phone}
            kept = lead.model_copy(update={"phone": None, "attributes": attributes})
            reason = f"{exc.errors[0].reason}; kept as written in attributes.{RAW_PHONE}"
            return kept, [FieldError("phone", reason)]
