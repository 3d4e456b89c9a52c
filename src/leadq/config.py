"""Settings from the environment (prefix ``LEADQ_``), so one build runs anywhere."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import RateLimitItem, parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from leadq.i18n import (
    LANGUAGES,
    Labels,
    Language,
    supported,
    time_zone,
    valid_currency,
    valid_time_zone,
)

ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
"""A site's origin as browsers send it: scheme, host, port; no path."""


def parse_rate(value: str) -> RateLimitItem:
    """``10/minute``, ``100 per hour``…; a clear error for anything else."""
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"not a rate: {value!r} (write e.g. '10/minute')") from None


class Settings(BaseSettings):
    """Everything an operator may configure; defaults run on an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="LEADQ_", extra="ignore")

    database_url: str = "sqlite:///./leadq.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=10_000, ge=1)
    clock_skew_seconds: int = Field(default=300, ge=0)
    dashboard_max_age_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="How long a computed dashboard is served before it is computed again "
        "(the worker refreshes it at half this age); 0 computes it on every request",
    )
    intake_scoring: Literal["queued", "inline"] = Field(
        default="queued",
        description="queued: events are stored and their leads rescored by the rescoring queue's "
        "drainers (the server's own thread, leadq worker) within about a second; inline: in the "
        "request that stores them",
    )
    import_automation: Literal["new-only", "all", "none"] = Field(
        default="new-only",
        description="Which imported rows automation rules react to: new-only leaves out rows"
        " whose creation date another CRM gives (a migration's history), all, or none",
    )
    default_phone_region: str | None = Field(
        default=None, description="ISO country used for phone numbers without a + prefix"
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a server trusts a checked key; revocation "
        "reaches running servers within this time",
    )
    forms_file: Path | None = Field(
        default=None, description="YAML file with web-form field mappings; the shipped one if unset"
    )
    lifecycle_file: Path | None = Field(
        default=None, description="YAML lifecycle rules document; the shipped one if unset"
    )
    frameworks_dir: Path | None = Field(
        default=None,
        description="Folder of qualification framework YAML files, added to the shipped ones "
        "(a file with a shipped framework's name replaces it)",
    )

    automation_file: Path | None = Field(
        default=None,
        description="YAML automation rules (routing, tasks, notifications); none if unset",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = Field(default="none", pattern="^(none|starttls|ssl)$")
    smtp_from: str = "leadq@localhost"
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_backoff_seconds: float = Field(
        default=30.0, gt=0, description="first retry delay; doubles"
    )
    outbox_lease_seconds: float = Field(
        default=60.0, gt=0, description="how long a worker holds a message it is delivering"
    )
    delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    monitor_window_days: int = Field(
        default=7, ge=1, le=365, description="new leads of the last N days are checked"
    )
    monitor_reference_days: int = Field(
        default=28,
        ge=7,
        le=730,
        description="a model's reference: leads of N days before it"
        " went live (or after, when too few came before)",
    )
    monitor_maturity_days: int = Field(
        default=30, ge=1, le=730, description="calibration counts a conversion within N days"
    )
    monitor_psi: float = Field(default=0.25, gt=0, le=10, description="shift alarm above this")
    monitor_calibration_gap: float = Field(
        default=0.10, gt=0, lt=1, description="calibration alarm at this gap in conversion"
    )
    monitor_every_hours: float = Field(
        default=24.0, gt=0, le=24 * 31, description="the worker checks the models this often"
    )
    retrain_every_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="the worker retrains the predictive champion's"
        " challenger this often (none: only 'leadq retrain')",
    )
    retrain_min_outcomes: int = Field(
        default=100,
        ge=10,
        le=10_000_000,
        description="leads matured since the champion was added before a retraining runs",
    )
    retrain_margin: float = Field(
        default=0.01, ge=0, le=0.5, description="ROC AUC a challenger must win by"
    )
    retrain_horizon_days: int = Field(default=7, ge=0, le=3650, description="leads seen as of"
                                      " arrival + N days, as 'leadq train'")  # fmt: skip
    telegram_secret: str | None = Field(
        default=None,
        min_length=8,
        max_length=256,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the secret_token the Telegram bot's webhook was set with",
    )
    meta_app_secret: str | None = Field(
        default=None,
        min_length=8,
        max_length=256,
        description="signs WhatsApp, Messenger and Instagram webhooks (X-Hub-Signature-256)",
    )
    meta_verify_token: str | None = Field(
        default=None, min_length=8, max_length=200, description="Meta's subscription check"
    )
    twilio_auth_token: str | None = Field(
        default=None, min_length=8, max_length=256, description="signs Twilio call callbacks"
    )
    zadarma_secret: str | None = Field(
        default=None, min_length=8, max_length=256, description="signs Zadarma notifications"
    )
    calls_secret: str | None = Field(
        default=None, min_length=8, max_length=256, description="signs generic call webhooks"
    )
    imap_host: str | None = Field(default=None, max_length=255, description="the monitored inbox")
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str | None = Field(default=None, max_length=320)
    imap_password: str | None = Field(default=None, max_length=1024, description="an app password")
    imap_tls: str = Field(default="ssl", pattern="^(ssl|starttls|none)$")
    imap_folder: str = Field(
        default="INBOX", min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\"]+$"
    )
    imap_done_folder: str = Field(
        default="leadq-done",
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\"]+$",
        description="where handled messages are moved",
    )
    imap_every_seconds: float = Field(default=60.0, ge=5, le=86_400)
    monitor_webhook: str | None = Field(
        default=None,
        pattern=r"^[\w.-]{1,63}$",
        description="endpoint of the automation document told of an alarm",
    )
    monitor_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=254,
        description="address told of an alarm",
    )

    session_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Key that signs web session cookies; one made and kept in the database "
        "if unset",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="web sign-in lasts")
    login_rate: str = Field(
        default="10/minute",
        description="sign-in attempts allowed per client address and per username",
    )
    form_rate: str = Field(
        default="30/minute", description="web-form submissions allowed per client address"
    )
    secure_cookies: bool = Field(
        default=False, description="send the session cookie over HTTPS only (behind TLS)"
    )

    retention_inactive_months: int | None = Field(
        default=24,
        ge=1,
        le=1200,
        description="'leadq privacy retain' erases leads with no activity for this many "
        "months (customers are kept); unset to keep every lead",
    )
    retention_event_months: int | None = Field(
        default=None,
        ge=1,
        le=1200,
        description="'leadq privacy retain' strips personal properties from events older than "
        "this many months; unset to keep events whole",
    )

    tracking_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Sites allowed to send tracking hits to /api/v1/collect, as origins"
        " (https://www.example.com), comma-separated; none: the endpoint refuses every hit",
    )
    public_url: str | None = Field(
        default=None,
        description="Where leads' browsers reach leadq (https://leadq.example.com): the tracked"
        " links of e-mails to leads point there; http://LEADQ_HOST:LEADQ_PORT if unset",
    )
    collect_rate: str = Field(
        default="600/minute", description="tracking batches allowed per client address"
    )
    locale: str = Field(
        default="en",
        description="Language of a reader who chose none and whose browser asks for none of"
        " leadq's: en, pl, ro or ru",
    )
    currency: str = Field(default="EUR", description="ISO code of the workspace's money (PLN…)")
    time_zone: str = Field(
        default="UTC", description="IANA time zone pages show times in, unless a user picks one"
    )

    def language(self, labels: Labels | None = None) -> Language:
        """The workspace's reading (language, time zone, currency): what is written for no
        one reader in particular (notifications, report files)."""
        return Language(self.locale, time_zone(self.time_zone), self.currency, labels or {})

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if (language := supported(value)) is None:
            raise ValueError(f"not one of leadq's languages ({', '.join(LANGUAGES)}): {value!r}")
        return language

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not valid_currency(value):
            raise ValueError(f"not an ISO 4217 currency code: {value!r} (e.g. PLN, RON, EUR)")
        return value.upper()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not valid_time_zone(value):
            raise ValueError(f"not an IANA time zone: {value!r} (e.g. Europe/Warsaw)")
        return value

    @field_validator("tracking_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        for origin in value if isinstance(value, list) else []:
            if not ORIGIN.fullmatch(str(origin)):
                raise ValueError(f"not an origin: {origin!r} (write e.g. https://www.example.com)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is not None and not ORIGIN.fullmatch(value.rstrip("/")):
            raise ValueError(f"not an origin: {value!r} (write e.g. https://leadq.example.com)")
        return value.rstrip("/") if value else None

    def public_base(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @field_validator("login_rate", "form_rate", "collect_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
