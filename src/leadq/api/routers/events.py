"""Events: one at a time or in batches; a repeated idempotency key is stored once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from leadq.api.deps import Actor, Db, Now, Policy
from leadq.api.schemas import BatchOut, ErrorOut, EventBatch, EventOut
from leadq.domain.events import EventInput
from leadq.services import events as event_service

router = APIRouter(
    prefix="/events",
    tags=["events"],
    responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)


@router.post(
    "",
    response_model=EventOut,
    status_code=201,
    responses={200: {"model": EventOut, "description": "Already stored (same key)"}},
)
def record_event(
    event: EventInput, response: Response, db: Db, _: Actor, now: Now, policy: Policy
) -> EventOut:
    """Record what a lead did. With an ``idempotency_key`` a retry returns the stored event."""

    def work(session: Session) -> EventOut:
        stored, new = event_service.record_event(session, event, now, policy.clock_skew)
        return EventOut.model_validate(stored).model_copy(update={"duplicate": not new})

    out = db.run(work)
    if out.duplicate:
        response.status_code = 200
    return out


@router.post("/batch", response_model=BatchOut, responses={413: {"model": ErrorOut}})
def record_batch(
    batch: EventBatch, request: Request, db: Db, _: Actor, now: Now, policy: Policy
) -> BatchOut:
    """Record up to ``LEADQ_MAX_BATCH_EVENTS`` events at once, all or nothing."""
    limit = request.app.state.settings.max_batch_events
    if len(batch.events) > limit:
        raise HTTPException(413, f"at most {limit} events per batch, got {len(batch.events)}")
    recorded = db.run(
        lambda session: event_service.record_events(session, batch.events, now, policy.clock_skew)
    )
    return BatchOut(accepted=recorded.accepted, duplicates=recorded.duplicates)
