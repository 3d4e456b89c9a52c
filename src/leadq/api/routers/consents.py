"""A lead's consents per purpose and its Do Not Email / Do Not Call flags: history, current
state, what they allow, and recording a change. A rep sees only their own and unassigned leads;
any other lead answers 404."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from sqlalchemy.orm import Session

from leadq.api.deps import Caller, Db, Now, Policy
from leadq.api.schemas import ConsentStateOut, ErrorOut
from leadq.domain.consent import ConsentInput, Purpose, may_call, may_email, may_profile
from leadq.http.params import LeadPath
from leadq.services.people.access import lead_for
from leadq.services.privacy import consents as service
from leadq.services.privacy.consents import LeadConsents

router = APIRouter(prefix="/leads/{lead_id}/consents", tags=["consents"], responses={
    401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut},
    422: {"model": ErrorOut}})  # fmt: skip


class ConsentChange(BaseModel):
    """A consent record, a flag change, or both, applied together."""

    model_config = ConfigDict(extra="forbid")

    consent: ConsentInput | None = Field(default=None, description="Given or withdrawn")
    do_not_email: StrictBool | None = Field(default=None, description="Set (true) or clear")
    do_not_call: StrictBool | None = Field(default=None, description="Set (true) or clear")

    @model_validator(mode="after")
    def _something(self) -> ConsentChange:
        if self.consent is None and self.do_not_email is None and self.do_not_call is None:
            raise ValueError("send a consent, do_not_email or do_not_call")
        return self


class ConsentRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: str
    granted: bool
    at: datetime = Field(description="When the person gave or withdrew it")
    source: str
    wording_version: str | None
    actor: str = Field(description="Who recorded it")
    recorded_at: datetime


class AllowedOut(BaseModel):
    email: bool = Field(description="Marketing e-mail: explicit grant, no Do Not Email")
    call: bool = Field(description="Phone: no Do Not Call, sales_contact not withdrawn")
    profiling: bool = Field(description="Predictive scoring: profiling not withdrawn")


class ConsentsOut(BaseModel):
    lead_id: int
    current: dict[Purpose, ConsentStateOut | None] = Field(
        description="Every purpose's newest record; null: never recorded"
    )
    do_not_email: bool
    do_not_call: bool
    allowed: AllowedOut
    history: list[ConsentRecordOut] = Field(description="Every record, newest first")

    @classmethod
    def of(cls, found: LeadConsents) -> ConsentsOut:
        lead = found.lead
        cache = lead.consents or {}
        current = {p: ConsentStateOut.model_validate(cache[p.value]) if p.value in cache else None
                   for p in Purpose}  # fmt: skip
        allowed = AllowedOut(email=may_email(cache, lead.do_not_email),
                             call=may_call(cache, lead.do_not_call),
                             profiling=may_profile(cache))  # fmt: skip
        return cls(lead_id=lead.id, current=current, do_not_email=lead.do_not_email,
                   do_not_call=lead.do_not_call, allowed=allowed,
                   history=[ConsentRecordOut.model_validate(c) for c in found.history])  # fmt: skip


@router.get("", response_model=ConsentsOut)
def lead_consents(lead_id: LeadPath, db: Db, caller: Caller) -> ConsentsOut:
    """The lead's consents: current state per purpose, the flags, what they allow, history."""
    with db.reading() as session:
        lead = lead_for(session, caller, lead_id)
        return ConsentsOut.of(service.consents_of(session, lead.id, lead))


@router.post("", response_model=ConsentsOut)
def change_consents(lead_id: LeadPath, change: ConsentChange, db: Db, caller: Caller, now: Now,
                    policy: Policy) -> ConsentsOut:  # fmt: skip
    """Record a consent given or withdrawn (``at``: when the person did it) and/or set or
    clear Do Not Email / Do Not Call. An older record than the current one is kept in the
    history but does not change the current state. Answers the lead's consents."""

    def work(session: Session) -> ConsentsOut:
        lead = lead_for(session, caller, lead_id, for_update=True)
        if change.consent is not None:
            service.record_consent(session, lead.id, change.consent, caller.actor, now,
                                   policy.clock_skew, "consent.at")  # fmt: skip
        if change.do_not_email is not None or change.do_not_call is not None:
            service.set_flags(session, lead.id, caller.actor, now, change.do_not_email,
                              change.do_not_call)  # fmt: skip
        return ConsentsOut.of(service.consents_of(session, lead.id, lead))

    return db.run(work)
