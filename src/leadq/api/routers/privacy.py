"""Data-subject rights over HTTP: a person's export and erasure, and the retention run
(admin keys only: see the permission table)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from leadq.api.deps import Actor, Db, Now, settings
from leadq.api.schemas import ErrorOut
from leadq.config import Settings
from leadq.http.params import LeadPath
from leadq.services.privacy import subjects as privacy

router = APIRouter(tags=["privacy"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                              422: {"model": ErrorOut}})  # fmt: skip

Months = Annotated[int, Field(strict=True, ge=1, le=privacy.MAX_MONTHS)]


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Why (e.g. a ticket number); not stored: it may name the person"
    )


class ErasureOut(BaseModel):
    lead_id: int
    erased: bool = Field(description="false: the lead had been erased before; nothing changed")
    erased_at: datetime
    message: str
    counts: dict[str, int | bool] = Field(description="What was anonymised, by kind")


class RetainIn(BaseModel):
    """Omitted months come from the settings; ``null`` switches that part off."""

    model_config = ConfigDict(extra="forbid")

    inactive_months: Months | None = Field(
        default=None, description="Erase leads with no activity for this many months"
    )
    event_months: Months | None = Field(
        default=None, description="Anonymise events older than this many months"
    )
    include_customers: bool = Field(default=False, strict=True)
    dry_run: bool = Field(default=False, strict=True)


class RetentionOut(BaseModel):
    dry_run: bool
    inactive_before: datetime | None
    events_before: datetime | None
    leads: int
    lead_ids: list[int]
    customers_kept: int
    events: int
    import_runs: int
    """Old import runs whose rejected and warned rows went (their counts stay)."""
    visitors: int
    """Tracked browsers never identified and silent for the inactivity period, forgotten."""


@router.get("/leads/{lead_id}/export", responses={404: {"model": ErrorOut}})
def export_lead(lead_id: LeadPath, db: Db, actor: Actor, now: Now) -> dict[str, Any]:
    """Everything stored about the person (right of access and portability); audited."""
    return db.run(lambda session: privacy.export_lead(session, lead_id, actor, now))


@router.post("/leads/{lead_id}/erase", response_model=ErasureOut,
             responses={404: {"model": ErrorOut}})  # fmt: skip
def erase_lead(lead_id: LeadPath, db: Db, actor: Actor, now: Now,
               body: EraseIn | None = None) -> ErasureOut:  # fmt: skip
    """Erase the person and keep an anonymous shell, so statistics stay true; erasing an
    erased lead changes nothing and says so."""
    reason = body.reason if body is not None else None

    def work(session: Session) -> ErasureOut:
        report = privacy.erase_lead(session, lead_id, actor, now, reason)
        return ErasureOut(lead_id=report.lead_id, erased=report.erased,
                          erased_at=report.erased_at, message=report.message,
                          counts=report.counts())  # fmt: skip

    return db.run(work)


@router.post("/privacy/retain", response_model=RetentionOut)
def retain(db: Db, actor: Actor, now: Now, config: Annotated[Settings, Depends(settings)],
           body: RetainIn | None = None) -> RetentionOut:  # fmt: skip
    """Apply the retention period: erase silent leads (customers only when asked) and
    anonymise old events; ``dry_run`` lists what would change and changes nothing."""
    body = body or RetainIn()
    given = body.model_fields_set
    policy = privacy.RetentionPolicy(
        inactive_months=body.inactive_months if "inactive_months" in given
        else config.retention_inactive_months,
        event_months=body.event_months if "event_months" in given
        else config.retention_event_months,
        include_customers=body.include_customers,
    )  # fmt: skip

    def work(session: Session) -> RetentionOut:
        report = privacy.retain(session, policy, now, body.dry_run, actor)
        return RetentionOut(dry_run=report.dry_run, inactive_before=report.inactive_before,
                            events_before=report.events_before, leads=len(report.lead_ids),
                            lead_ids=report.lead_ids, customers_kept=report.customers_kept,
                            events=report.events, import_runs=report.import_runs,
                            visitors=report.visitors)  # fmt: skip

    return db.run(work)
