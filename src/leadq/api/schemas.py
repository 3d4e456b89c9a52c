"""Request and response bodies of the HTTP API, separate from the tables they come from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import Outcome


class LeadPatch(LeadInput):
    """A person's edit: only the fields sent change; ``null`` clears a field; ``attributes``
    is merge-patched (a ``null`` value removes that attribute)."""

    @model_validator(mode="after")
    def _reachable(self) -> LeadPatch:
        return self  # checked against the stored lead, which may keep the other contact


class ConsentStateOut(BaseModel):
    """The newest consent record of one purpose: the one that counts."""

    granted: bool
    at: datetime = Field(description="When the person gave or withdrew it")
    source: str
    wording_version: str | None = None


class ChannelIdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    external_id: str
    name: str | None
    first_at: datetime
    last_at: datetime


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: int
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    job_title: str | None
    seniority: str | None
    department: str | None
    industry: str | None
    company_size: int | None
    annual_revenue: float | None
    company_founded_year: int | None
    funding_stage: str | None
    product_users: int | None
    country: str | None
    region: str | None
    city: str | None
    age: int | None
    gender: str | None
    education: str | None
    source: str | None
    campaign: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    owner: str | None
    stage: str
    stage_changed_at: datetime | None
    pql: bool = Field(description="Product-qualified: flagged by product-usage signals")
    accepted_at: datetime | None = Field(description="When sales accepted the lead")
    channels: list[str]
    attributes: dict[str, Any]
    company_id: int | None
    score: float | None = Field(description="Empty until a scoring model scores the lead")
    grade: str | None
    fit_grade: str | None
    engagement_grade: str | None
    model: str | None = Field(validation_alias="scoring_model")
    as_of: datetime | None = Field(validation_alias="scored_at")
    probability: float | None = Field(description="Calibrated chance to convert (predictive)")
    predictive_score: int | None = Field(description="The probability as 1–100")
    predictive_model: str | None
    consents: dict[str, ConsentStateOut] = Field(
        default_factory=dict, description="Current consent per purpose; absent: never recorded"
    )
    do_not_email: bool = False
    do_not_call: bool = False
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None
    possible_duplicates: list[int] = Field(
        default_factory=list,
        description="Leads that share this one's phone, not its e-mail: two leads until a person"
        " decides (GET /duplicates); only on GET /leads/{id}",
    )
    channel_identities: list[ChannelIdentityOut] = Field(
        default_factory=list,
        description="the messengers and phone lines the person wrote or"
        " called from, with the first and last contact (single-lead reads only)",
    )

    @field_validator("consents", mode="before")
    @classmethod
    def _no_consents(cls, value: Any) -> Any:
        return {} if value is None else value


class LineOut(BaseModel):
    criterion: str
    label: str
    value: Any
    points: float


class ReasonOut(BaseModel):
    column: str
    reason: str = Field(description="The value that moved the probability, in words")
    contribution: float = Field(description="Its signed effect in log-odds")


class ScoreOut(BaseModel):
    """The stored score: equal to a fresh evaluation of ``model`` as of ``as_of``; and the
    predictive probability, if a predictive model is active, with its top reasons."""

    lead_id: int
    score: float | None
    grade: str | None
    fit_grade: str | None
    engagement_grade: str | None
    model: str | None
    as_of: datetime | None
    breakdown: list[LineOut]
    probability: float | None = None
    predictive_score: int | None = None
    predictive_model: str | None = None
    reasons: list[ReasonOut] = []


class LeadUpsertOut(LeadOut):
    outcome: Outcome
    conflicts: dict[str, dict[str, Any]] = Field(
        description="Values this arrival contradicted; the stored ones were kept"
    )
    warnings: list[FieldErrorOut] = Field(
        default_factory=list,
        description="Values intake could not use and kept aside (e.g. a phone it cannot read,"
        " kept in attributes.phone_raw); the lead was stored all the same",
    )


class LeadPageOut(BaseModel):
    items: list[LeadOut]
    next_cursor: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    type: str
    occurred_at: datetime
    received_at: datetime
    properties: dict[str, Any]
    channel: str | None
    idempotency_key: str | None
    duplicate: bool = False


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventInput]


class BatchOut(BaseModel):
    accepted: int
    duplicates: int


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    error: str
    errors: list[FieldErrorOut]


class AutomationHealth(BaseModel):
    """The automation document in force: ``stale`` while the file is broken and the last
    valid document still runs (``since`` then, and the reason)."""

    status: Literal["none", "current", "stale"]
    loaded_at: datetime | None = None
    since: datetime | None = None
    reason: str | None = None


class ConnectorHealth(BaseModel):
    """A messenger or telephony connector: configured, and when it last stored a delivery or
    last refused a signed one it could not read (and why)."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    configured: bool
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None


class Health(BaseModel):
    status: str = Field(description="ok, degraded (a configuration file is broken) or unavailable")
    database: str
    version: str
    automation: AutomationHealth | None = None
    connectors: list[ConnectorHealth] = Field(default_factory=list)


class AuditOut(BaseModel):
    """One audit-log entry: who did what to which entity, when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    details: dict[str, Any]


class PossibleDuplicateOut(BaseModel):
    """Two leads that may be one person; ``lead_id`` is the older one."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    other_id: int
    reason: str
    status: str
    created_at: datetime
