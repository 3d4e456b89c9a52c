"""Lead intake and upkeep: create-or-merge by dedup key, edit, look up, list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from leadq.domain.free_mail import is_free_mail
from leadq.domain.leads import (
    ATTRIBUTE_PREFIX,
    CONTACT_FIELDS,
    PROFILE_FIELDS,
    LeadInput,
    email_domain,
    merge_values,
)
from leadq.domain.seniority import infer_seniority
from leadq.services.automation import reactions as automation
from leadq.services.errors import Conflict, FieldError, InvalidInput
from leadq.services.intake import duplicates
from leadq.services.intake.directory import Account, Directory
from leadq.services.intake.lookup import changeable_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy import audit, consents
from leadq.services.qualification import outcomes
from leadq.services.scoring.bulk import Unstored, rescore_together, score_unstored
from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.sql import Rows, insert_all, insert_rows, next_ids
from leadq.store.tables import (
    AuditEntry,
    Base,
    ChannelIdentity,
    DomainEvent,
    Lead,
    PossibleDuplicate,
    StageChange,
)

INITIAL_STAGE = "iql"
FEW = 8
"""New leads a batch inserts one statement each (a COPY pays off past them)."""
TOGETHER = 20
"""Leads from which a vectorised batch is rescored on that engine (its frames cost more than
scoring a few leads one by one)."""
PLACEHOLDER_SOURCE = "import"
"""The source of an imported row that named none: a later real channel replaces it."""


class Outcome(StrEnum):
    created = "created"
    merged = "merged"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Upsert:
    lead: Lead
    outcome: Outcome
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[FieldError] = field(default_factory=list)
    """Values intake could not use and kept aside (the lead was stored all the same)."""


@dataclass(frozen=True)
class History:
    """What an import from another CRM knows of the lead's past: when it arrived there and the
    stage its status means. A new lead starts from them; a known one keeps its own stage and
    takes the earlier arrival."""

    created_at: datetime | None = None
    stage: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Arrival:
    """A lead arriving: what it says of itself, and what a CRM it comes from knows of its past."""

    data: LeadInput
    history: History | None = None


def upsert_lead(
    session: Session,
    data: LeadInput,
    actor: str,
    now: datetime,
    policy: IntakePolicy,
    anonymous: bool = False,
    history: History | None = None,
) -> Upsert:
    """Create the lead, or merge this arrival into the lead the same person already is;
    ``anonymous`` for a door without credentials (a public form), whose consents never undo a
    withdrawal."""
    return upsert_leads(session, [Arrival(data, history)], actor, now, policy, anonymous)[0]


def upsert_leads(session: Session, arrivals: Sequence[Arrival], actor: str, now: datetime,
                 policy: IntakePolicy, anonymous: bool = False,
                 vectorised: bool = False) -> list[Upsert]:  # fmt: skip
    """``upsert_lead`` for each arrival in order, storing exactly what one at a time would, at
    the cost of a few statements for the batch: the leads and accounts they name are read
    together, new leads are inserted together, and the batch's leads are rescored together
    (a lead arriving twice is stored and rescored before it changes again), on the vectorised
    engine if ``vectorised`` (an import's chunk; it leaves the returned leads to be read again)."""
    ready = []
    for arrival in arrivals:
        data, warnings = policy.lenient(arrival.data)
        consents.check_times(data.consents, now, policy.clock_skew)
        ready.append(_Ready(data, warnings, arrival.history))
    domains = [domain for r in ready if (domain := _business_domain(r.data.email))]
    directory = Directory.load(session, [r.data for r in ready], domains)
    batch = _Batch(session, directory, actor, now, policy, anonymous, vectorised)
    todo: Sequence[tuple[int, _Ready, Lead | None]] = [(i, r, None) for i, r in enumerate(ready)]
    while todo:  # a round for the arrivals that came back to a lead stored in the round before
        with session.no_autoflush:
            for index, item, known in todo:
                batch.arrive(index, item, known)
        todo, batch.deferred, batch.held = batch.deferred, [], set()
        batch.store()
    return [batch.results[i] for i in range(len(ready))]


@dataclass(frozen=True)
class _Ready:
    data: LeadInput
    warnings: list[FieldError]
    history: History | None


class _Batch:
    """Arrivals decided in memory against the ``Directory``; what needs a new lead's id (stage
    history, audit, automation, possible duplicates, consents, rescoring) waits until ``store``
    inserts the leads."""

    def __init__(self, session: Session, directory: Directory, actor: str, now: datetime,
                 policy: IntakePolicy, anonymous: bool, vectorised: bool) -> None:  # fmt: skip
        self.session, self.directory, self.actor, self.now = session, directory, actor, now
        self.policy, self.anonymous, self.vectorised = policy, anonymous, vectorised
        self.rows: Rows = {}
        self.new: list[Lead] = []
        self.links: list[tuple[Lead, Account]] = []
        self.then: list[Callable[[], object]] = []
        self.waiting: dict[int, tuple[Lead, str | None]] = {}
        """The leads this batch changed (by Python id: a new one has no id yet), each with the
        reason it is to be rescored for."""
        self.results: dict[int, Upsert] = {}
        self.deferred: list[tuple[int, _Ready, Lead]] = []
        """Arrivals for a lead the batch changed, left to the next round (``_later_will_do``)."""
        self.held: set[int] = set()
        """The leads (by Python id) with arrivals left to the next round."""

    def arrive(self, index: int, arrival: _Ready, known: Lead | None = None) -> None:
        """Decide the arrival. One for a lead the batch changed waits for the next round when
        nothing after it depends on it; otherwise that lead is stored and rescored first, as
        one at a time would."""
        data = arrival.data
        existing = known or self.directory.find(data.email, data.phone)
        if existing is not None and (id(existing) in self.waiting or id(existing) in self.held):
            if self._later_will_do(existing, data):
                self.deferred.append((index, arrival, existing))
                self.held.add(id(existing))
                return
            if id(existing) in self.held:  # its earlier arrivals first
                self.held.remove(id(existing))
                for earlier in [d for d in self.deferred if d[2] is existing]:
                    self.deferred.remove(earlier)
                    self._catch_up(*earlier)
            self._catch_up(index, arrival, existing)
            return
        self._decide(index, arrival, existing)

    def _catch_up(self, index: int, arrival: _Ready, lead: Lead) -> None:
        """The arrival once ``lead`` is stored and rescored, as one at a time would have it."""
        if id(lead) in self.waiting:
            self.store(only=lead)
        self._decide(index, arrival, lead)

    def _later_will_do(self, lead: Lead, data: LeadInput) -> bool:
        """Whether this arrival for ``lead`` reads and changes nothing the arrivals after it in
        the batch read or change, so storing it in the next round (after ``lead`` is stored and
        rescored) gives what one at a time gives: it names the lead by an e-mail the directory
        already holds (that never changes hands), and fills neither its e-mail nor its phone
        (the only fields that find, pair or link other leads and accounts)."""
        named = self.directory.by_email.get(data.email) if data.email else None
        return (named is not None and lead.email is not None
                and (data.phone is None or lead.phone is not None))  # fmt: skip

    def _decide(self, index: int, arrival: _Ready, existing: Lead | None) -> None:
        data, history = arrival.data, arrival.history
        mark = len(self.then)
        if existing is None:
            result = Upsert(self._create(data, history), Outcome.created)
        else:
            result = self._merge(existing, data)
            if history and history.created_at and history.created_at < existing.created_at:
                existing.created_at = history.created_at  # it arrived earlier elsewhere
        if arrival.warnings:
            result = replace(result, warnings=arrival.warnings)
        lead, changed = result.lead, result.outcome is not Outcome.unchanged
        contact = bool(data.consents or data.do_not_email or data.do_not_call)
        policy, anonymous = self.policy, self.anonymous
        if contact:  # before the arrival's happenings: automation sees the consents it came with
            self.then.insert(mark, lambda: consents.record_intake(
                self.session, lead.id, data.consents, data.do_not_email, data.do_not_call,
                self.actor, self.now, policy.clock_skew, anonymous))  # fmt: skip
        if changed or contact:
            self.waiting[id(lead)] = (lead, f"lead {result.outcome.value}" if changed else None)
        self.results[index] = result

    def later(self, step: Callable[[], object]) -> None:
        self.then.append(step)

    def write(self, model: type[Base], row: dict[str, Any]) -> None:
        """A row for a table no one reads back from in the batch, inserted with the others."""
        self.rows.setdefault(model, []).append(row)

    def store(self, only: Lead | None = None) -> None:
        """Insert the new accounts and leads, take the steps that waited for them, and rescore
        the waiting leads (``only`` that one, before it changes again: the others keep
        waiting, as their scores do not depend on it). Many new leads are scored before they
        are inserted, where the engine can, so each is written once."""
        self.directory.store_accounts(self.session)
        for lead, account in self.links:
            lead.company_id = account.id
        many = len(self.new) > FEW
        if many:
            for lead, lead_id in zip(self.new, next_ids(self.session, Lead, len(self.new)),
                                     strict=True):  # fmt: skip
                lead.__dict__["id"] = lead_id  # the next ids, in arrival order
        scored = self._score_new() if many else None
        self._insert_new(many)
        self.session.flush()
        for step in self.then:
            step()
        pairs = self.rows.pop(PossibleDuplicate, [])
        insert_all(self.session, self.rows)
        duplicates.pair_rows(self.session, pairs)
        if scored is not None:  # scored as they arrived: done, unless an arrival changes them
            for lead in self.new:
                del self.waiting[id(lead)]
        self.new, self.links, self.then, self.rows = [], [], [], {}
        if only is not None:
            _, reason = self.waiting.pop(id(only), (only, None))
            if reason:
                rescore_leads(self.session, [only.id], self.now, reason)
        else:
            self._rescore_waiting()
        if scored is not None:
            scored.store(self.session)

    def _rescore_waiting(self) -> None:
        reasons = {lead.id: reason for lead, reason in self.waiting.values() if reason}
        self.waiting = {}
        if self.vectorised and len(reasons) >= TOGETHER:
            rescore_together(self.session, reasons, self.now)
        elif reasons:
            for reason in sorted(set(reasons.values())):
                ids = [i for i, why in reasons.items() if why == reason]
                rescore_leads(self.session, ids, self.now, reason)

    def _score_new(self) -> Unstored | None:
        if not self.vectorised or len(self.new) < TOGETHER:
            return None
        reasons = {lead.id: self.waiting[id(lead)][1] or "" for lead in self.new}
        return score_unstored(self.session, self.new, reasons, self.now)

    def _insert_new(self, many: bool) -> None:
        """Many: the new leads, numbered already, are inserted together, and the session holds
        them as read; a few: the session inserts them."""
        if not many:
            self.session.add_all(self.new)
            return
        columns = [c.key for c in Lead.__table__.columns]
        # the values set; an unset column is None, as ``getattr`` says
        rows = [{key: lead.__dict__.setdefault(key, None) for key in columns} for lead in self.new]
        insert_rows(self.session, Lead, rows)
        for lead in self.new:
            make_transient_to_detached(lead)  # every column held: nothing to read back
            self.session.add(lead)

    def _create(self, data: LeadInput, history: History | None) -> Lead:
        arrived = min(history.created_at, self.now) if history and history.created_at else self.now
        stage = history.stage if history and history.stage else INITIAL_STAGE
        lead = _new_lead({**data.profile(), "attributes": dict(data.attributes), "stage": stage,
                          "stage_changed_at": arrived,
                          "channels": [data.source] if data.source else [],
                          "created_at": arrived, "updated_at": self.now,
                          "seniority_inferred": False, "pql": False, "do_not_email": False,
                          "do_not_call": False})  # fmt: skip
        _infer_seniority(lead)
        self._link_company(lead)
        self._suggest(lead)
        self.directory.admit(lead)
        self.new.append(lead)
        outcomes.moved(lead, stage, arrived)
        reason = "lead created"
        if history and history.status and history.stage:
            reason = f"lead created; its status in the CRM it came from: {history.status}"[:500]
        session, actor, now, source = self.session, self.actor, self.now, data.source

        def stored() -> None:
            self.write(StageChange, {"lead_id": lead.id, "from_stage": None, "to_stage": stage,
                                     "actor": actor, "reason": reason, "at": arrived})  # fmt: skip
            self.write(AuditEntry, audit.entry(actor, "lead.created", "lead", lead.id,
                                               {"source": source}, now))  # fmt: skip
            self.write(DomainEvent, {"type": "lead.created", "lead_id": lead.id,
                                     "payload": {"source": source}, "at": now})  # fmt: skip
            automation.emit(session, "lead.created", lead.id, {"source": source}, now, False)

        self.later(stored)
        return lead

    def _merge(self, lead: Lead, data: LeadInput) -> Upsert:
        incoming = data.profile()
        holder = self.directory.by_email.get(incoming.get("email") or "")
        if holder is not None and holder is not lead:
            incoming.pop("email")  # the lead a person merged into this one keeps its address
        if lead.source and lead.source != PLACEHOLDER_SOURCE:
            incoming.pop("source", None)  # the first channel stays the source; later ones join
        elif lead.source and incoming.get("source", PLACEHOLDER_SOURCE) != PLACEHOLDER_SOURCE:
            lead.source = None  # a real channel replaces the placeholder of a file without one
        if lead.seniority_inferred and "seniority" in incoming:
            lead.seniority_inferred = False  # a stated seniority beats our guess: not a conflict
            lead.seniority = None
        profile = merge_values(lead.profile(), incoming)
        attributes = merge_values(lead.attributes, data.attributes, prefix=ATTRIBUTE_PREFIX)
        filled = dict(profile.filled)
        conflicts = {**profile.conflicts, **attributes.conflicts}
        for name, value in filled.items():
            setattr(lead, name, value)
        self.directory.filled(lead, "email" in filled, "phone" in filled)
        if "phone" in filled:
            self._suggest(lead)
        if attributes.filled:
            lead.attributes = {**lead.attributes, **attributes.filled}
        new_channel = data.source is not None and data.source not in lead.channels
        if data.source is not None and new_channel:
            lead.channels = [*lead.channels, data.source]
        if "job_title" in filled:
            _infer_seniority(lead)
        if "email" in filled:
            self._link_company(lead)
        changed = sorted([*filled, *(f"attributes.{k}" for k in attributes.filled)])
        if not (changed or conflicts or new_channel):
            return Upsert(lead, Outcome.unchanged)
        lead.updated_at = self.now
        # names only: the audit log is append-only, so it never holds a personal value
        details = {"source": data.source, "filled": _names(changed),
                   "conflicts": _names(sorted(conflicts))}  # fmt: skip
        self.later(lambda: self.write(AuditEntry, audit.entry(
            self.actor, "lead.merged", "lead", lead.id, details, self.now)))  # fmt: skip
        return Upsert(lead, Outcome.merged, conflicts)

    def _suggest(self, lead: Lead) -> None:
        """Pair the lead with the leads then on its phone, once all have ids."""
        others = self.directory.others_on(lead)

        def paired() -> None:
            for other in others:
                known = other if isinstance(other, int) else other.id
                self.write(PossibleDuplicate, duplicates.pair_row(lead.id, known, self.now))

        if others:
            self.later(paired)

    def _link_company(self, lead: Lead) -> None:
        lead.company_id = None
        if (domain := _business_domain(lead.email)) is not None:
            self.links.append((lead, self.directory.account(domain, lead.company,
                                                            lead.updated_at)))  # fmt: skip


def _new_lead(values: dict[str, Any]) -> Lead:
    """A lead holding ``values``, set without an attribute event each (an import makes
    thousands); inserting it writes what it holds, as for any new object."""
    lead: Lead = Lead.__mapper__.class_manager.new_instance()
    lead.__dict__.update(values)
    return lead


def _infer_seniority(lead: Lead) -> None:
    if lead.seniority is None or lead.seniority_inferred:
        inferred = infer_seniority(lead.job_title)
        lead.seniority = inferred.value if inferred else None
        lead.seniority_inferred = inferred is not None


def _business_domain(email: str | None) -> str | None:
    """The domain that groups a lead into an account; a free-mail address says nothing of one."""
    return None if not email or is_free_mail(email) else email_domain(email)


def _link_company(session: Session, lead: Lead) -> None:
    """A person's edit gave the lead an e-mail: its account, stored if new."""
    lead.company_id = None
    if (domain := _business_domain(lead.email)) is not None:
        directory = Directory.load(session, [], [domain])
        account = directory.account(domain, lead.company, lead.updated_at)
        directory.store_accounts(session)
        lead.company_id = account.id


def _names(fields: list[str]) -> list[str]:
    """Field names for the audit log: ours as they are, a custom attribute's name (anyone may
    choose it, an e-mail address included) as its digest."""
    return [f if f in PROFILE_FIELDS or f == "channels" else audit.digest(f) for f in fields]


def _by_channel(session: Session, lead_id: int) -> bool:
    """Whether the person wrote or called from a messenger or phone line leadq knows."""
    found = select(ChannelIdentity.id).where(ChannelIdentity.lead_id == lead_id)
    return session.scalars(found).first() is not None


def update_lead(
    session: Session, lead_id: int, changes: dict[str, Any], actor: str, now: datetime
) -> Lead:
    """Apply a person's edit: given fields overwrite, ``None`` clears, attributes merge-patch;
    consents and Do Not Email / Call go to the consent service, which records them."""
    lead = changeable_lead(session, lead_id)
    contact = {k: v for k, v in changes.items() if k in CONTACT_FIELDS}
    changes = {k: v for k, v in changes.items() if k not in CONTACT_FIELDS}
    email = changes.get("email")
    if email and session.scalars(select(Lead.id).where(Lead.email == email,
                                                       Lead.id != lead.id)).first():  # fmt: skip
        raise Conflict("email", "already used by another lead")  # never which: no oracle
    before = lead.profile()
    attributes = changes.get("attributes")
    for name, value in changes.items():
        if name != "attributes":
            setattr(lead, name, value)
    if not lead.email and not lead.phone and not _by_channel(session, lead.id):
        raise InvalidInput([FieldError("email", "a lead needs an email or a phone")])
    if "seniority" in changes:
        lead.seniority_inferred = False  # stated, or cleared to be inferred again below
    if {"job_title", "seniority"} & changes.keys():
        _infer_seniority(lead)  # leaves a stated seniority alone
    if "email" in changes:
        _link_company(session, lead)
    if changes.get("phone"):
        duplicates.suggest(session, lead, now)
    if attributes is not None:
        merged = {**lead.attributes, **attributes}
        lead.attributes = {k: v for k, v in merged.items() if v is not None}
    after = lead.profile()
    changed = [k for k in after if before[k] != after[k]]
    changed += [f"attributes.{k}" for k in sorted(attributes or {})]
    lead.updated_at = now
    # field names only: the audit log is append-only, so it never holds a personal value
    audit.record(session, actor, "lead.updated", "lead", lead.id, {"fields": _names(changed)}, now)
    if contact:
        consents.record_edit(session, lead.id, contact, actor, now)
    rescore_leads(session, [lead.id], now, "lead updated")
    return lead
