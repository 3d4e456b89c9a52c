"""Consents and the Do Not Email / Do Not Call flags: record them, show them, and apply their
effects at once (a withdrawn profiling consent empties the predictive score, a lead who may no
longer be e-mailed leaves its nurture track).

Consent records are appended, never changed; the lead's ``consents`` column caches the newest
record per purpose, which is what automation and predictive scoring read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.consent import (
    ConsentInput,
    Purpose,
    cache_entry,
    check_consent_time,
    email_refusal,
    may_profile,
    supersedes,
)
from leadq.services.automation import reactions as automation
from leadq.services.errors import FieldError, InvalidInput, NotFound
from leadq.services.intake.lookup import changeable_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.predictive import registry
from leadq.services.privacy import audit
from leadq.store.tables import Consent, Lead

CLOCK_SKEW = IntakePolicy.clock_skew
"""How far in the future a consent's time may be when no intake policy is at hand."""


@dataclass(frozen=True)
class LeadConsents:
    lead: Lead
    history: list[Consent]
    """Every record, newest ``at`` first."""


def check_times(consents: Sequence[ConsentInput], now: datetime, skew: timedelta,
                where: str = "consents") -> None:  # fmt: skip
    """Refuse consents given in the future, before anything is written."""
    errors = []
    for index, consent in enumerate(consents):
        try:
            check_consent_time(consent.at, now, skew)
        except ValueError as exc:
            errors.append(FieldError(f"{where}[{index}].at", str(exc)))
    if errors:
        raise InvalidInput(errors)


def record_consent(session: Session, lead_id: int, consent: ConsentInput, actor: str,
                   now: datetime, skew: timedelta = CLOCK_SKEW,
                   field: str = "at") -> Consent:  # fmt: skip
    """Append the record; it becomes the lead's current state for its purpose only if it is
    the newest one, so records arriving out of order never undo a later decision."""
    try:
        check_consent_time(consent.at, now, skew)
    except ValueError as exc:
        raise InvalidInput([FieldError(field, str(exc))]) from None
    lead = changeable_lead(session, lead_id)
    row = Consent(lead_id=lead.id, purpose=consent.purpose.value, granted=consent.granted,
                  source=consent.source, wording_version=consent.wording_version,
                  actor=actor[:100], at=consent.at, recorded_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    cache = dict(lead.consents or {})
    current = supersedes(consent.at, cache.get(consent.purpose.value))
    if current:
        cache[consent.purpose.value] = cache_entry(consent)
        lead.consents = cache  # a new dict: the JSON column notices assignment, not mutation
    wording = consent.wording_version  # free text from outside: digests, never the words
    details = {"consent_id": row.id, "purpose": consent.purpose.value,
               "granted": consent.granted, "source": audit.digest(consent.source),
               "wording_version": audit.digest(wording) if wording else None,
               "current": current}  # fmt: skip
    audit.record(session, actor, "consent.recorded", "lead", lead.id, details, now)
    if current:
        _apply(session, lead, now)
    return row


def set_flags(session: Session, lead_id: int, actor: str, now: datetime,
              do_not_email: bool | None = None,
              do_not_call: bool | None = None) -> Lead:  # fmt: skip
    """Set or clear Do Not Email / Do Not Call (None leaves a flag as it is); audited when
    a flag changes."""
    lead = changeable_lead(session, lead_id)
    changed = {}
    for name, wanted in (("do_not_email", do_not_email), ("do_not_call", do_not_call)):
        if wanted is not None and getattr(lead, name) != wanted:
            changed[name] = {"before": getattr(lead, name), "after": wanted}
            setattr(lead, name, wanted)
    if changed:
        audit.record(session, actor, "consent.flags_set", "lead", lead.id, changed, now)
        _apply(session, lead, now)
    return lead


def record_intake(session: Session, lead_id: int, consents: Sequence[ConsentInput],
                  do_not_email: bool | None, do_not_call: bool | None, actor: str,
                  now: datetime, skew: timedelta = CLOCK_SKEW,
                  anonymous: bool = False) -> None:  # fmt: skip
    """What a lead brought along at intake (API, web form, import). Intake only ever raises a
    flag: an import that says ``do_not_email: false`` must not undo a person's request; clearing
    one is a deliberate act on the lead (its consents endpoint or card). An ``anonymous`` intake
    (a public form: anyone may type anyone's address) never widens consent over a withdrawal:
    such a grant is not recorded, and the audit log says so."""
    for index, consent in enumerate(consents):
        if anonymous and consent.granted and _ever_withdrawn(session, lead_id, consent.purpose):
            ignored = {"purpose": consent.purpose.value, "why": "withdrawn_before"}
            audit.record(session, actor, "consent.anonymous_grant_ignored", "lead", lead_id,
                         ignored, now)  # fmt: skip
            continue
        record_consent(session, lead_id, consent, actor, now, skew, f"consents[{index}].at")
    if do_not_email or do_not_call:
        set_flags(session, lead_id, actor, now, do_not_email or None, do_not_call or None)


def _ever_withdrawn(session: Session, lead_id: int, purpose: Purpose) -> bool:
    query = select(Consent.id).where(Consent.lead_id == lead_id, Consent.granted.is_(False),
                                     Consent.purpose == purpose.value)  # fmt: skip
    return session.scalars(query.limit(1)).first() is not None


def record_edit(session: Session, lead_id: int, contact: dict[str, Any], actor: str,
                now: datetime) -> None:  # fmt: skip
    """A person's edit of the lead (``PATCH``): consents are recorded; the flags are set or
    cleared as sent (a person may clear them; ``null`` leaves a flag as it is)."""
    given = [ConsentInput.model_validate(c) for c in contact.get("consents") or []]
    check_times(given, now, CLOCK_SKEW)
    for index, consent in enumerate(given):
        record_consent(session, lead_id, consent, actor, now, field=f"consents[{index}].at")
    set_flags(session, lead_id, actor, now, contact.get("do_not_email"), contact.get("do_not_call"))


def _apply(session: Session, lead: Lead, now: datetime) -> None:
    """The effects of the lead's current consents, at once rather than at the next run."""
    if not may_profile(lead.consents):
        registry.forget_prediction(lead)
    refusal = email_refusal(lead.consents, lead.do_not_email)
    if refusal is not None and lead.nurture_track is not None:
        automation.stop_nurture(session, lead, refusal, now)


def consents_of(session: Session, lead_id: int, lead: Lead | None = None) -> LeadConsents:
    """The lead's consent history and, on the lead, its current state and flags."""
    found = lead or session.get(Lead, lead_id)
    if found is None:
        raise NotFound("lead", lead_id)
    query = (select(Consent).where(Consent.lead_id == found.id)
             .order_by(Consent.at.desc(), Consent.id.desc()))  # fmt: skip
    return LeadConsents(found, list(session.scalars(query)))
