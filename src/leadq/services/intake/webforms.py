"""Public web forms: each source maps its own field names onto leadq's lead fields."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.orm import Session

from leadq.domain.consent import ConsentInput, Purpose, WordingVersion
from leadq.domain.custom import check_custom_values
from leadq.domain.documents import safe_load
from leadq.domain.events import MAX_PROPERTIES, EventInput
from leadq.domain.leads import ATTRIBUTE_PREFIX, PROFILE_FIELDS, LeadInput, slug
from leadq.services.errors import ConfigError, FieldError, InvalidInput
from leadq.services.intake.events import record_event
from leadq.services.intake.leads import Upsert, upsert_lead
from leadq.services.intake.policy import IntakePolicy


class ConsentBox(BaseModel):
    """A checkbox on the form that gives a consent, with the version of the wording beside it."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    wording_version: WordingVersion | None = None


UNTICKED = frozenset({"", "0", "false", "no", "off"})
"""Values a checkbox field may carry when not ticked (browsers send nothing at all)."""


class FormSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(min_length=1, description="form field name → lead field")
    defaults: dict[str, str] = Field(default_factory=dict, description="lead field → value")
    campaign: str | None = None
    redirect_to: str | None = Field(default=None, pattern=r"^(https?://|/)")
    consents: dict[str, ConsentBox] = Field(
        default_factory=dict, description="checkbox field name → the consent it gives"
    )

    @model_validator(mode="after")
    def _boxes_are_not_fields(self) -> FormSpec:
        if both := sorted(self.consents.keys() & self.fields.keys()):
            raise ValueError(f"mapped both to a lead field and to a consent: {', '.join(both)}")
        return self

    def ticked(self, submitted: dict[str, Any], source: str, now: datetime) -> list[ConsentInput]:
        """Consents the ticked boxes give, as of ``now``, from this form. An unticked box
        records nothing: not ticking is not withdrawing a consent given elsewhere."""
        given = []
        for name, box in self.consents.items():
            value = submitted.get(name)
            if value is None or value is False or str(value).strip().lower() in UNTICKED:
                continue
            given.append(ConsentInput(purpose=box.purpose, granted=True, at=now,
                                      source=f"webform:{source}"[:100],
                                      wording_version=box.wording_version))  # fmt: skip
        return given

    @field_validator("fields")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        for form_field, target in value.items():
            if target not in PROFILE_FIELDS and not target.startswith(ATTRIBUTE_PREFIX):
                raise ValueError(f"{form_field!r} maps to unknown lead field {target!r}")
        return value


class FormsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    forms: dict[str, FormSpec]


def load_forms(path: Path | None = None) -> dict[str, FormSpec]:
    """The form mappings from ``path`` (or the shipped file); refused with file, path, reason."""
    source = path or resources.files("leadq.models") / "forms.yaml"
    name = str(path) if path else "leadq/models/forms.yaml"
    try:
        document = safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, "-", f"cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, "-", f"not valid YAML: {exc}") from None
    try:
        forms = FormsDocument.model_validate(document).forms
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "-"
        raise ConfigError(name, where, error["msg"]) from None
    return {slug(source_name): spec for source_name, spec in forms.items()}


def submit_form(
    session: Session,
    source: str,
    spec: FormSpec,
    submitted: dict[str, Any],
    policy: IntakePolicy,
    now: datetime,
) -> Upsert:
    """Turn a submission into a lead (created or merged) and a ``form_submitted`` event."""
    lead_data: dict[str, Any] = {"source": source, "campaign": spec.campaign, **spec.defaults}
    attributes: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in submitted.items():
        target = spec.fields.get(name)
        if name in spec.consents:
            continue
        if target is None:
            extra[name] = value
        elif target.startswith(ATTRIBUTE_PREFIX):
            attributes[target.removeprefix(ATTRIBUTE_PREFIX)] = value
        else:
            lead_data[target] = value
    _check_unmapped(extra)
    try:
        ticked = spec.ticked(submitted, source, now)
        lead = LeadInput.model_validate({**lead_data, "attributes": attributes, "consents": ticked})
    except ValidationError as exc:
        raise InvalidInput(_form_errors(exc, spec)) from None
    phone_field = next((n for n, t in spec.fields.items() if t == "phone"), "phone")
    lead = policy.normalised(lead, phone_field)
    result = upsert_lead(session, lead, f"webform:{source}", now, policy, anonymous=True)
    event = EventInput(
        lead_id=result.lead.id,
        type="form_submitted",
        occurred_at=now,
        properties={**extra, "form": source},
        channel=source,
    )
    record_event(session, event, now, policy.clock_skew)
    return result


def _check_unmapped(extra: dict[str, Any]) -> None:
    """Unmapped fields ride on the event; refuse them here, by name, if the event would."""
    if len(extra) >= MAX_PROPERTIES:
        raise InvalidInput([FieldError("form", f"at most {MAX_PROPERTIES - 1} unmapped fields")])
    errors = []
    for name, value in extra.items():
        try:
            check_custom_values({name: value}, "form field", MAX_PROPERTIES)
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    if errors:
        raise InvalidInput(errors)


def _form_errors(exc: ValidationError, spec: FormSpec) -> list[FieldError]:
    """Errors named by the form's own field names, which is what its author knows."""
    by_target = {target: name for name, target in spec.fields.items()}
    errors = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        target = ".".join(loc) if loc else "email"
        errors.append(FieldError(by_target.get(target, target), error["msg"]))
    return errors
