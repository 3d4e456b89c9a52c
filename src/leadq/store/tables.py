"""SQLAlchemy tables: one schema for SQLite and PostgreSQL.

Facts (events, stage history, audit entries) are only ever inserted. Score columns on
``leads`` are a cache filled by the scoring engine; they stay empty until a model scores.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import Function

from leadq.domain.leads import PROFILE_FIELDS
from leadq.domain.search import SQL_FUNCTION


def naive_utc(value: datetime) -> datetime:
    """How a moment is stored: in UTC, without a zone (a naive one is refused)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: pass an aware one")
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Company(Base):
    """An account, grouped by the business e-mail domain of its leads."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Account score cache, written when the active model has an ``account`` section.
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(20))
    engaged: Mapped[int | None] = mapped_column(Integer)
    people: Mapped[int | None] = mapped_column(Integer)
    score_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    scoring_model: Mapped[str | None] = mapped_column(String(120))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    """Not an identity: colleagues share a switchboard (see ``PossibleDuplicate``)."""
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(255))
    job_title: Mapped[str | None] = mapped_column(String(255))
    seniority: Mapped[str | None] = mapped_column(String(20))
    seniority_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    department: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    company_size: Mapped[int | None] = mapped_column(Integer)
    annual_revenue: Mapped[float | None] = mapped_column(Float)
    company_founded_year: Mapped[int | None] = mapped_column(Integer)
    funding_stage: Mapped[str | None] = mapped_column(String(100))
    product_users: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(100))
    education: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100), index=True)
    campaign: Mapped[str | None] = mapped_column(String(255))
    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    stage: Mapped[str] = mapped_column(String(20), default="iql", index=True)
    stage_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When sales accepted the lead; cleared when it leaves the accepted stages."""
    pql: Mapped[bool] = mapped_column(Boolean, default=False)
    pql_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overrides: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    probability: Mapped[float | None] = mapped_column(Float)
    predictive_score: Mapped[int | None] = mapped_column(Integer)
    predictive_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    predictive_model: Mapped[str | None] = mapped_column(String(120))
    nurture_track: Mapped[str | None] = mapped_column(String(63))
    """Cache of the lead's overrides nobody removed (the ``overrides`` table is the record),
    so real-time rescoring needs no extra query."""
    channels: Mapped[list[str]] = mapped_column(Json, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    account_grade: Mapped[str | None] = mapped_column(String(20))
    account_score: Mapped[float | None] = mapped_column(Float)
    """The account's grade and score, copied here so the lead's model can read them."""
    # Score cache, written by the scoring engine; empty until a model is active.
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(20), index=True)
    fit_grade: Mapped[str | None] = mapped_column(String(2))
    engagement_grade: Mapped[str | None] = mapped_column(String(2))
    scoring_model: Mapped[str | None] = mapped_column(String(120))
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What analytics counts, recomputed from the lead's events and stage history by
    # ``services.qualification.outcomes`` whenever they change; engagement comes with the score.
    first_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revenue: Mapped[float | None] = mapped_column(Float)
    furthest_stage: Mapped[str | None] = mapped_column(String(20))
    engagement_points: Mapped[float | None] = mapped_column(Float)
    consents: Mapped[dict[str, Any] | None] = mapped_column(Json)
    """Cache of the newest consent record per purpose (the ``consents`` table is the record)."""
    do_not_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    """The lead this one was merged into by a person (it stays, disqualified as a duplicate)."""
    """Set by a data-subject erasure: the row is an anonymous shell kept for aggregates."""

    __table_args__ = (Index("ix_leads_score_id", "score", "id"),)

    def profile(self) -> dict[str, Any]:
        """The canonical profile fields, as the domain sees a lead."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS}


def _newest_first(name: str, column: Any) -> Index:
    """A PostgreSQL index in a list's order, highest first, empty last, newest lead first on a
    tie: the first page of a million leads is read from it, not sorted (SQLite is not the
    embedded default for that size, and cannot say NULLS LAST in an index)."""
    return Index(name, column.desc().nulls_last(), Lead.id.desc()).ddl_if(dialect="postgresql")


LIST_ORDERS = (
    _newest_first("ix_leads_by_score", Lead.score),
    _newest_first("ix_leads_by_probability", Lead.probability),
    _newest_first("ix_leads_by_created", Lead.created_at),
    _newest_first("ix_leads_by_activity", Lead.last_activity_at),
    _newest_first("ix_leads_by_owner", Lead.owner),
)

SEARCH = Index(
    "ix_leads_search",
    Function(SQL_FUNCTION, Lead.email, Lead.first_name, Lead.last_name, Lead.company, Lead.phone),
    postgresql_using="gin",
    postgresql_ops={SQL_FUNCTION: "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
"""Search (``domain.search``) by trigrams of each lead's folded text (migration 0013)."""


class Event(Base):
    """Append-only: one user action is one row; a client's idempotency key stores it once."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    channel: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    # One index besides the key: every read is "this lead's events (of these types)"; each
    # extra index would tax real-time intake, so analytics indexes come with their features.
    __table_args__ = (Index("ix_events_lead_type_occurred", "lead_id", "type", "occurred_at"),)


class PossibleDuplicate(Base):
    """Two leads that may be one person (they share a phone): kept apart until a person
    decides. ``lead_id`` is the older lead."""

    __tablename__ = "possible_duplicates"
    __table_args__ = (UniqueConstraint("lead_id", "other_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    other_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    merge_record: Mapped[dict[str, Any] | None] = mapped_column(Json)
    """What a merge changed (fields filled, events moved, the stage left), so it can be undone."""


class ImportRun(Base):
    """A CSV import sent over HTTP or the web page: the file until it has run, its progress,
    then its counts, rejected rows and warnings (the file itself is dropped once imported)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    total_rows: Mapped[int] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    rejects: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StageChange(Base):
    __tablename__ = "stage_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what, when: merges, conflicts, edits, keys, models, users, privacy requests.
    Append-only (database triggers refuse updates and deletes), so details never carry a
    personal value: field names, ids and versions only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)

    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class ApiKey(Base):
    """API keys are random secrets, so a SHA-256 digest is a safe, fast lookup key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="admin", server_default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoringModelVersion(Base):
    """A scoring model document as added, one row per version; at most one is active."""

    __tablename__ = "scoring_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("name", "version", name="uq_scoring_models_name_version"),)


class ScoreChange(Base):
    """Every change of a lead's score: the value, the grade and the model that produced it."""

    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    model: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RescoreRequest(Base):
    """A lead whose events arrived and whose score has not caught up yet: intake appends one
    row per touched lead, a drainer rescores the lead and deletes the row it claimed."""

    __tablename__ = "rescore_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The span of the new events: the drainer moves the lead's activity with it."""


class ReportSnapshot(Base):
    """A report as computed at ``as_of`` (the dashboard), served while it is young."""

    __tablename__ = "report_snapshots"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)
    body: Mapped[dict[str, Any]] = mapped_column(Json)


class DomainEvent(Base):
    """Facts other capabilities react to (a grade crossed, …); consumed in id order."""

    __tablename__ = "domain_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualOverride(Base):
    """A person's score adjustment, grade pin or stage pin; removal is the only update."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(20))
    stage: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(100))
    removal_reason: Mapped[str | None] = mapped_column(Text)


class FrameworkAnswer(Base):
    """One answer to one framework question, appended; the newest per question counts."""

    __tablename__ = "framework_answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    framework: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(Json, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_framework_answers_lead_framework", "lead_id", "framework"),)


class SalesFeedback(Base):
    """Sales accepting or rejecting a lead, with the score it had then: feedback for
    analytics and model training."""

    __tablename__ = "sales_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(60))
    comment: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stage: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(120))


class PredictiveModelVersion(Base):
    """A trained predictive model with its report; one champion, at most one challenger."""

    __tablename__ = "predictive_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    artifact: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    digest: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(Json, deferred=True)
    role: Mapped[str | None] = mapped_column(String(10))
    share: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_predictive_models_name_version"),
    )


class FollowUpTask(Base):
    """A follow-up a rep owes a lead, with its speed-to-lead due time and what became of it."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(63))
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    rule: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))
    done_how: Mapped[str | None] = mapped_column(String(63))
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A notification written with the change that caused it; the worker delivers it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The lead the message is about, so an erasure can find and redact it."""
    target: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    """Who holds the message until ``locked_until``: only that holder records an outcome."""
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SavedSegment(Base):
    """A named group of leads: a live filter, members added by rules, or both."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    filter: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(100))
    """The user a personal view belongs to; a shared segment has none."""
    view: Mapped[dict[str, Any] | None] = mapped_column(Json)
    """How the inbox shows it (``domain.automation.ViewLayout``); none for a plain segment."""


class SegmentMember(Base):
    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(63))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingTurn(Base):
    """How many leads a team has been given: the next round-robin turn."""

    __tablename__ = "routing_turns"

    team: Mapped[str] = mapped_column(String(63), primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A person who signs in to the web UI; the role decides what they may do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Raised to end every web session of the user at once (sign-out, new password, new role,
    disabled): a session made in an older generation is refused."""
    language: Mapped[str | None] = mapped_column(String(10))
    """The language the user reads pages in; the browser's or the workspace's if unset."""
    time_zone: Mapped[str | None] = mapped_column(String(60))
    """The IANA zone pages show the user times in; the workspace's if unset."""


class AppSecret(Base):
    """A random secret made once per workspace (e.g. the session-cookie key), so every
    worker and every restart signs and checks the same way without configuration."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    """A lead's consent given or withdrawn for one purpose, with the wording they saw and
    where it was given; appended, the newest per purpose counts."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(100))
    wording_version: Mapped[str | None] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Base):
    """A free-text note a person left on a lead; appended, never edited."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignCost(Base):
    """What a campaign cost on a day (or the first day of a longer period), per source;
    ``source`` is empty when the cost is not split by source. Re-importing replaces."""

    __tablename__ = "campaign_costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(100), default="")
    spent_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign", "source", "spent_on",
                         name="uq_campaign_costs_campaign_source_spent_on"),
    )  # fmt: skip


class StreamPosition(Base):
    """How far a stream consumer has read a broker stream that keeps no offsets for it
    (RabbitMQ streams over AMQP): written in the transaction that stores the events it read."""

    __tablename__ = "stream_positions"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Visitor(Base):
    """A browser whose person gave consent to tracking, known by the random id the tracking
    script keeps; ``lead_id`` once the person is known (a form, an identify call)."""

    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    network: Mapped[str | None] = mapped_column(String(45))
    """The client address with its host part dropped (IPv4 /24, IPv6 /48)."""


class VisitorHit(Base):
    """What a visitor did before being known; moved to the lead's events (and deleted here)
    when the visitor is identified."""

    __tablename__ = "visitor_hits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"), index=True)
    hit: Mapped[str] = mapped_column(String(40))
    """The script's id of the hit: a retried batch is stored once."""
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)

    __table_args__ = (UniqueConstraint("visitor_id", "hit", name="uq_visitor_hits_visitor_hit"),)


class PageCount(Base):
    """Page views without consent: a number per day and path, nothing about who."""

    __tablename__ = "page_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)


class ModelCheck(Base):
    """One check of one model by ``leadq monitor``: a shift of its scores, grades, probability
    or an input column against its reference period, or its calibration. Appended per run;
    an alarm is raised when a check breaches that did not in the model's previous run."""

    __tablename__ = "model_checks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    model: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    limit: Mapped[float] = mapped_column(Float)
    breached: Mapped[bool] = mapped_column(Boolean)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)
    leads: Mapped[int] = mapped_column(Integer)
    reference: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)

    __table_args__ = (Index("ix_model_checks_model_run", "model", "run_at"),)


class ChannelIdentity(Base):
    """Who a lead is on a messenger or a phone line (the platform's id for the person), with
    the first and last time they wrote or called from it. A data-subject erasure deletes it."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(200))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint(
            "channel", "external_id", name="uq_channel_identities_channel_external_id"
        ),
    )


class ConnectorStatus(Base):
    """Each connector's last success and last error, for the health endpoint."""

    __tablename__ = "connector_status"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
