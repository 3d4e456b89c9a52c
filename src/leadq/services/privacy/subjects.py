"""Data-subject rights and retention (GDPR / RODO): export everything about a person, erase
the person, and apply the retention period.

Erasure leaves an anonymous shell, so every aggregate (leads by stage, source, campaign and
week; conversions; revenue from purchase amounts; scores and grades) stays exactly true:

- the lead keeps its id, dates, stage, scores and grades, source, campaign and UTM fields,
  channels, owner, country, industry and the firmographics of its account
  (``leadq.domain.privacy.KEPT_FIELDS``); the personal fields
  (``PERSONAL_FIELDS``), every custom attribute, the texts of its predictive reasons, the
  values echoed in its score breakdown and the reasons cached with its overrides are cleared;
- its events keep type, time and channel; their properties keep numbers, yes/no flags,
  catalogue texts (asset type, plan, currency…) and bare paths; idempotency keys become
  their SHA-256 digest;
- free text people wrote about the lead is cleared: stage-change and override reasons, sales
  comments, note bodies (the note rows stay: who wrote one when is workload, not the person),
  framework text answers (numbers, yes/no and configured choices stay);
- outbox messages and domain events about the lead lose their payload; pending messages are
  not sent;
- the account (company) loses its name and domain when no other live lead belongs to it;
- import runs lose the rejected and warned rows that name the person, and a staged file that
  does (the uploader is told to upload it again).

Kept as they are: consent records (purpose, granted, when, where: proof, no personal value),
segment memberships and follow-up tasks (rule names and reps), the score history, and the
audit log — append-only by database triggers, so its details never hold a personal value.

Predictive models hold nothing of one person: they learn from shared profile columns (no
names, e-mails, phones, titles or cities), keep a category level only when at least
``min_category_rows`` leads share it, and report segments of at least 30 leads.

An erased lead is neither rescored nor re-predicted, and takes no new events; the same
person arriving again becomes a new lead (the shell has no e-mail or phone left to match).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from leadq.domain.privacy import (
    PERSONAL_FIELDS,
    URL_PROPERTIES,
    anonymous_breakdown,
    anonymous_consents,
    anonymous_properties,
    digested,
    hashed_key,
    months_before,
    shared_only,
)
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake import uploads
from leadq.services.intake.lookup import get_lead
from leadq.services.predictive.history import CONVERTED_STAGE
from leadq.services.privacy import audit
from leadq.services.qualification import outcomes
from leadq.services.qualification.rules import current_rules
from leadq.services.scoring import queue
from leadq.store.tables import (
    Base,
    CampaignCost,
    ChannelIdentity,
    Company,
    Consent,
    DomainEvent,
    Event,
    FollowUpTask,
    FrameworkAnswer,
    Lead,
    ManualOverride,
    Note,
    OutboxMessage,
    ReportSnapshot,
    SalesFeedback,
    SavedSegment,
    ScoreChange,
    SegmentMember,
    StageChange,
    Visitor,
    VisitorHit,
)

EXPORT_FORMAT = "leadq.export/1"
MAX_MONTHS = 1200
ERASED_PAYLOAD = "erased"
LEAD_ERASED = "lead erased"
_CHUNK = 1000
SHARED_BY = 2
"""A property name or a catalogue value stays on an erased lead's events only when at least
this many other leads' events have it too: what only this person has may be theirs."""
CAMPAIGN_FIELDS = ("campaign", "utm_source", "utm_medium", "utm_campaign")


# -- export ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _row(row: Base, *skip: str) -> dict[str, Any]:
    """Every column of a row, JSON-ready; a new column is exported without a change here."""
    columns = inspect(type(row)).column_attrs
    return {c.key: _plain(getattr(row, c.key)) for c in columns if c.key not in skip}


def _rows(session: Session, model: type[Base], lead_id: int, order: Any) -> list[Any]:
    column = model.__table__.c.lead_id
    query = select(model).where(column == lead_id).order_by(order, *model.__table__.primary_key)
    return list(session.scalars(query))


_EXPORTED: tuple[tuple[str, type[Base], Any], ...] = (
    ("events", Event, Event.occurred_at),
    ("score_history", ScoreChange, ScoreChange.id),
    ("stage_history", StageChange, StageChange.id),
    ("overrides", ManualOverride, ManualOverride.id),
    ("framework_answers", FrameworkAnswer, FrameworkAnswer.id),
    ("sales_feedback", SalesFeedback, SalesFeedback.id),
    ("consents", Consent, Consent.id),
    ("notes", Note, Note.id),
    ("tasks", FollowUpTask, FollowUpTask.id),
    ("visitors", Visitor, Visitor.first_seen_at),
    ("channel_identities", ChannelIdentity, ChannelIdentity.first_at),
)
"""The lead's rows in each table that holds facts about it, in the order they happened."""


def _message(message: OutboxMessage, lead: Lead) -> dict[str, Any]:
    """What was sent about the person and where; a rep's own address is not theirs to see."""
    own = message.channel != "email" or message.target == lead.email
    return {"id": message.id, "channel": message.channel,
            "target": message.target if own else None, "payload": message.payload,
            "status": message.status, "created_at": _plain(message.created_at),
            "delivered_at": _plain(message.delivered_at)}  # fmt: skip


def export_lead(session: Session, lead_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data (the right of access and to
    portability); audited without a personal value."""
    lead = get_lead(session, lead_id)
    company = session.get(Company, lead.company_id) if lead.company_id is not None else None
    segments = session.execute(
        select(SavedSegment.name, SegmentMember.rule, SegmentMember.added_at)
        .join(SavedSegment, SavedSegment.id == SegmentMember.segment_id)
        .where(SegmentMember.lead_id == lead_id).order_by(SavedSegment.name)
    ).all()  # fmt: skip
    outbox = list(session.scalars(select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)
                                  .order_by(OutboxMessage.id)))  # fmt: skip
    exported: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "lead_id": lead.id,
        "profile": _row(lead),
        "company": None if company is None else _row(company, "created_at"),
    }
    for name, model, order in _EXPORTED:
        exported[name] = [_row(x) for x in _rows(session, model, lead_id, order)]
    exported["segments"] = [
        {"segment": name, "rule": rule, "added_at": _plain(at)} for name, rule, at in segments
    ]
    exported["outbox"] = [_message(m, lead) for m in outbox]
    audit.record(session, actor, "lead.exported", "lead", lead_id, {}, now)
    return exported


# -- erasure -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed, in counts (nothing personal)."""

    lead_id: int
    erased: bool
    """False when the lead had been erased before: nothing changed."""
    erased_at: datetime
    events: int = 0
    stage_changes: int = 0
    overrides: int = 0
    answers: int = 0
    feedback: int = 0
    notes: int = 0
    outbox: int = 0
    domain_events: int = 0
    company: bool = False
    """The account's name and domain were cleared: no other live lead belongs to it."""
    imports: int = 0
    """Import runs whose rejected or warned rows (or staged file) named the person."""
    visitors: int = 0
    """Browsers the website tracking had tied to the person: forgotten, with their network."""
    channel_identities: int = 0
    """Who the person was on messengers and phone lines: deleted (their messages' texts go
    with the events' personal properties)."""

    @property
    def message(self) -> str:
        if not self.erased:
            return f"lead {self.lead_id} was already erased at {self.erased_at.isoformat()}"
        return (f"lead {self.lead_id} erased: {self.events} events anonymised, "
                f"{self.outbox} outbox messages redacted")  # fmt: skip

    def counts(self) -> dict[str, int | bool]:
        return {"events": self.events, "stage_changes": self.stage_changes,
                "overrides": self.overrides, "answers": self.answers,
                "feedback": self.feedback, "notes": self.notes, "outbox": self.outbox,
                "domain_events": self.domain_events, "company": self.company,
                "imports": self.imports, "visitors": self.visitors,
                "channel_identities": self.channel_identities}  # fmt: skip


def _event_changes(
    session: Session, where: ColumnElement[bool], skip: frozenset[int] = frozenset()
) -> Iterator[list[dict[str, Any]]]:
    """Chunks of events under ``where`` whose anonymous form differs from what is stored;
    read in id order by keyset, so millions of old events never sit in memory at once."""
    last = 0
    while True:
        query = (select(Event.id, Event.lead_id, Event.properties, Event.idempotency_key)
                 .where(where, Event.id > last).order_by(Event.id).limit(_CHUNK))  # fmt: skip
        rows = session.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        changes = []
        for event_id, lead_id, properties, key in rows:
            kept, digest = anonymous_properties(properties), hashed_key(key)
            if lead_id not in skip and (kept != (properties or {}) or digest != key):
                changes.append({"id": event_id, "properties": kept, "idempotency_key": digest})
        yield changes


def anonymise_events(session: Session, where: ColumnElement[bool], dry_run: bool = False,
                     skip: frozenset[int] = frozenset()) -> int:  # fmt: skip
    """Strip personal properties and readable keys from the events under ``where``; returns
    how many changed (or would change)."""
    changed = 0
    for changes in _event_changes(session, where, skip):
        if changes and not dry_run:
            session.execute(update(Event), changes)  # bulk update by primary key
        changed += len(changes)
    return changed


def _anonymise_profile(lead: Lead, now: datetime) -> None:
    for name in PERSONAL_FIELDS:
        setattr(lead, name, None)
    lead.seniority_inferred = False
    lead.attributes = {}
    lead.score_breakdown = anonymous_breakdown(lead.score_breakdown)
    if lead.predictive_reasons is not None:
        lead.predictive_reasons = [{**r, "reason": ""} for r in lead.predictive_reasons]
    if lead.overrides is not None:
        lead.overrides = [{**o, "reason": ""} for o in lead.overrides]
    lead.erased_at = lead.updated_at = now


def _anonymise_company(session: Session, lead: Lead) -> bool:
    """An account only this person belonged to (e.g. their own domain) would name them."""
    if lead.company_id is None:
        return False
    others = select(Lead.id).where(Lead.company_id == lead.company_id, Lead.id != lead.id,
                                   Lead.erased_at.is_(None)).limit(1)  # fmt: skip
    company = session.get(Company, lead.company_id)
    if company is None or session.scalar(others) is not None:
        return False
    anonymous = f"erased:{company.id}"  # unique as the id; a new arrival makes a new account
    changed = company.name is not None or company.domain != anonymous
    company.name, company.domain = None, anonymous
    return changed


def _blank_answers(session: Session, lead_id: int) -> int:
    """Text a rep typed is personal; numbers, yes/no and the framework's choices are not."""
    frameworks = current_rules().frameworks
    changed = 0
    for row in _rows(session, FrameworkAnswer, lead_id, FrameworkAnswer.id):
        if not isinstance(row.value, str):
            continue
        framework = frameworks.get(row.framework)
        question = framework.question(row.question) if framework is not None else None
        if question is None or question.choices is None or row.value not in question.choices:
            row.value = None
            changed += 1
    return changed


def _redact_messages(session: Session, lead_id: int, email: str | None) -> int:
    changed = 0
    for message in _rows(session, OutboxMessage, lead_id, OutboxMessage.id):
        message.payload = {"lead_id": lead_id, ERASED_PAYLOAD: True}
        if email and message.target.strip().lower() == email.lower():
            message.target = ""
        if message.status == "pending":
            message.status, message.locked_until = "dead", None
        if message.status != "delivered" or message.last_error is not None:
            message.last_error = LEAD_ERASED
        changed += 1
    return changed


def _cleared(session: Session, model: type[Base], lead_id: int, where: ColumnElement[bool],
             **values: Any) -> int:  # fmt: skip
    """Set ``values`` on the lead's rows of ``model`` matching ``where``; returns how many."""
    statement = update(model).where(model.__table__.c.lead_id == lead_id, where).values(**values)
    result: Any = session.execute(statement)
    return int(result.rowcount)


def _shared(session: Session, column: Any, lead_id: int, condition: ColumnElement[bool]) -> bool:
    others = select(column).where(condition, column != lead_id).distinct().limit(SHARED_BY)
    return len(session.scalars(others).all()) >= SHARED_BY


def _keep_shared_properties(session: Session, lead_id: int) -> None:
    """The lead's events keep only property names, and texts, that other leads' events have."""
    rows = session.execute(select(Event.id, Event.properties)
                           .where(Event.lead_id == lead_id)).all()  # fmt: skip
    names = {name for _, properties in rows for name in properties or {}}
    readable = {n for n in names if '"' not in n and "\\" not in n}  # a JSON path can name it

    def used(condition: ColumnElement[bool]) -> bool:
        return _shared(session, Event.lead_id, lead_id, condition)

    kept = {n for n in readable if used(Event.properties[n].as_string().is_not(None))}
    texts = {(n, v) for _, properties in rows for n, v in (properties or {}).items()
             if isinstance(v, str) and n in kept and n not in URL_PROPERTIES}  # fmt: skip
    values = {(n, v) for n, v in texts if used(Event.properties[n].as_string() == v)}
    changes = [{"id": event_id, "properties": shared_only(properties or {}, kept, values)}
               for event_id, properties in rows]  # fmt: skip
    changed = [c for c, (_, before) in zip(changes, rows, strict=True) if c["properties"] != before]
    if changed:
        session.execute(update(Event), changed)


def _personal_texts(lead: Lead) -> list[str]:
    """The person's own words to look for elsewhere: contact, names, the company they typed."""
    names = [lead.email, lead.phone, lead.first_name, lead.last_name, lead.company,
             " ".join(n for n in (lead.first_name, lead.last_name) if n)]  # fmt: skip
    return [n.strip() for n in names if n and len(n.strip()) >= 3]


def _digest_named_campaigns(session: Session, lead: Lead) -> None:
    """A campaign or UTM value naming the person (a referral named after them, say) becomes a
    digest on the lead and on every campaign-cost row that names them, so spend and leads still
    add up per campaign without the name."""
    texts = _personal_texts(lead)
    if not texts:
        return
    for name in CAMPAIGN_FIELDS:
        value = getattr(lead, name)
        if value and any(t.lower() in value.lower() for t in texts):
            setattr(lead, name, digested(value))
    naming = [func.lower(CampaignCost.campaign).contains(t.lower(), autoescape=True)
              for t in texts]  # fmt: skip
    for row in session.scalars(select(CampaignCost).where(or_(*naming))):
        row.campaign = digested(row.campaign) or row.campaign


def _digest_consents(session: Session, lead: Lead) -> None:
    """Consent records keep purpose, granted and when as proof; their source and wording are
    free text, kept as digests (still checkable against the text, no longer readable)."""
    for row in _rows(session, Consent, lead.id, Consent.id):
        row.source = digested(row.source) or ""
        row.wording_version = digested(row.wording_version)
    lead.consents = anonymous_consents(lead.consents)


def _forget_visitors(session: Session, which: ColumnElement[bool], dry_run: bool = False) -> int:
    """Delete tracked browsers (and any hits still waiting for them): the random id that
    tied a browser to a person, and the network it came from."""
    ids = list(session.scalars(select(Visitor.id).where(which)))
    if ids and not dry_run:
        session.execute(delete(VisitorHit).where(VisitorHit.visitor_id.in_(ids)))
        session.execute(delete(Visitor).where(Visitor.id.in_(ids)))
    return len(ids)


def _forget_identities(session: Session, lead_id: int) -> int:
    """Delete who the person was on messengers and phone lines."""
    ids = list(
        session.scalars(select(ChannelIdentity.id).where(ChannelIdentity.lead_id == lead_id))
    )
    if ids:
        session.execute(delete(ChannelIdentity).where(ChannelIdentity.id.in_(ids)))
    return len(ids)


def erase_lead(session: Session, lead_id: int, actor: str, now: datetime,
               reason: str | None = None, by: str = "request") -> ErasureReport:  # fmt: skip
    """Remove the person's data everywhere and keep the anonymous shell (see the module
    docstring). ``reason`` is free text that may name the person, so it is not stored: the
    audit entry says only whether one was given. Erasing an erased lead changes nothing."""
    lead = get_lead(session, lead_id, exclusive=True)  # intake waits until it is erased
    if lead.erased_at is not None:
        return ErasureReport(lead.id, False, lead.erased_at)
    queue.catch_up(session, [lead.id], now)  # the shell keeps a score with every event in it
    email = lead.email
    contacts = [t for t in (lead.email, lead.phone) if t and len(t) >= 3]
    name = tuple(n for n in (lead.first_name, lead.last_name) if n)
    company = _anonymise_company(session, lead)
    _digest_named_campaigns(session, lead)
    _digest_consents(session, lead)
    _anonymise_profile(lead, now)
    overridden = (ManualOverride.reason != "") | ManualOverride.removal_reason.is_not(None)
    redacted = {"lead_id": lead.id, ERASED_PAYLOAD: True}
    report = ErasureReport(
        lead.id,
        True,
        now,
        events=anonymise_events(session, Event.lead_id == lead.id),
        stage_changes=_cleared(session, StageChange, lead.id, StageChange.reason.is_not(None),
                               reason=None),
        overrides=_cleared(session, ManualOverride, lead.id, overridden, reason="",
                           removal_reason=None),
        answers=_blank_answers(session, lead.id),
        feedback=_cleared(session, SalesFeedback, lead.id, SalesFeedback.comment.is_not(None),
                          comment=None),
        notes=_cleared(session, Note, lead.id, Note.body != "", body=""),
        outbox=_redact_messages(session, lead.id, email),
        domain_events=_cleared(session, DomainEvent, lead.id, DomainEvent.payload.is_not(None),
                               payload=redacted),
        company=company,
        imports=uploads.forget_person(session, contacts, name if len(name) == 2 else ()),
        visitors=_forget_visitors(session, Visitor.lead_id == lead.id),
        channel_identities=_forget_identities(session, lead.id),
    )  # fmt: skip
    _keep_shared_properties(session, lead.id)
    outcomes.refresh(session, [lead.id])
    session.execute(delete(ReportSnapshot))  # kept reports may show what named the person
    details = {"by": by, "reason_given": reason is not None, **report.counts()}
    audit.record(session, actor, "lead.erased", "lead", lead.id, details, now)
    return report


# -- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data is kept: a lead silent for ``inactive_months`` is erased (a
    customer only with ``include_customers``); an event older than ``event_months`` keeps
    only its anonymous properties. ``None`` switches a part off."""

    inactive_months: int | None = 24
    event_months: int | None = None
    include_customers: bool = False

    def check(self) -> None:
        errors = [
            FieldError(name, f"must be a whole number of months from 1 to {MAX_MONTHS}")
            for name in ("inactive_months", "event_months")
            if (value := getattr(self, name)) is not None and not 1 <= value <= MAX_MONTHS
        ]
        if errors:
            raise InvalidInput(errors)


@dataclass(frozen=True)
class RetentionReport:
    dry_run: bool
    inactive_before: datetime | None
    events_before: datetime | None
    lead_ids: list[int] = field(default_factory=list)
    """Leads erased (or, in a dry run, that would be)."""
    customers_kept: int = 0
    events: int = 0
    """Events anonymised by age (or that would be), besides those of erased leads."""
    import_runs: int = 0
    """Import runs older than the inactivity period whose rejected and warned rows went."""
    visitors: int = 0
    """Tracked browsers never identified and not seen for the inactivity period."""


def retain(session: Session, policy: RetentionPolicy, now: datetime, dry_run: bool,
           actor: str) -> RetentionReport:  # fmt: skip
    """Apply the retention policy as of ``now``; a dry run finds the same leads and events
    and changes nothing."""
    policy.check()
    inactive = months_before(now, policy.inactive_months) if policy.inactive_months else None
    old = months_before(now, policy.event_months) if policy.event_months else None
    ids: list[int] = []
    customers = 0
    if inactive is not None:
        activity = func.coalesce(Lead.last_activity_at, Lead.created_at)
        silent = select(Lead.id, Lead.stage).where(Lead.erased_at.is_(None), activity < inactive)
        for lead_id, stage in session.execute(silent.order_by(Lead.id)):
            if stage == CONVERTED_STAGE and not policy.include_customers:
                customers += 1
            else:
                ids.append(lead_id)
    if not dry_run:
        for lead_id in ids:
            erase_lead(session, lead_id, actor, now, by="retention")
    events = 0
    if old is not None:
        events = anonymise_events(session, Event.occurred_at < old, dry_run, frozenset(ids))
    runs = uploads.expire(session, inactive, dry_run) if inactive is not None else 0
    visitors = 0
    if inactive is not None:  # browsers never identified, silent as long as an inactive lead
        unknown = Visitor.lead_id.is_(None) & (Visitor.last_seen_at < inactive)
        visitors = _forget_visitors(session, unknown, dry_run)
    if not dry_run and (ids or events or runs or visitors):
        details = {"leads": len(ids), "events": events, "customers_kept": customers,
                   "import_runs": runs, "visitors": visitors,
                   "inactive_months": policy.inactive_months,
                   "event_months": policy.event_months}  # fmt: skip
        audit.record(session, actor, "privacy.retention", "privacy", "-", details, now)
    return RetentionReport(dry_run, inactive, old, ids, customers, events, runs, visitors)
