"""Events: one at a time or in batches; a repeated idempotency key is stored once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.api.deps import Actor, Db, Now, Policy
from leadq.api.schemas import BatchOut, ErrorOut, EventBatch, EventOut
from leadq.domain.events import EventInput
from leadq.services.intake import events as event_service
from leadq.services.intake.events import Recorded

Wait = Annotated[
    bool,
    Query(
        description="Rescore the leads before answering (read your writes) instead of "
        "through the rescoring queue"
    ),
]


def _queued(request: Request, wait: bool) -> bool:
    return request.app.state.settings.intake_scoring == "queued" and not wait


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
    event: EventInput, request: Request, response: Response, db: Db, _: Actor, now: Now,
    policy: Policy, wait: Wait = False,
) -> EventOut:  # fmt: skip
    """Record what a lead did. With an ``idempotency_key`` a retry returns the stored event."""
    queued = _queued(request, wait)

    def work(session: Session) -> EventOut:
        stored, new = event_service.record_event(session, event, now, policy.clock_skew, queued)
        return EventOut.model_validate(stored).model_copy(update={"duplicate": not new})

    out = db.run(work)
    if out.duplicate:
        response.status_code = 200
    return out


BATCH_BODY = {  # documented by hand: the body is parsed by pydantic-core in one pass (below)
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "events": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/EventInput"},
                    }
                },
                "required": ["events"],
                "additionalProperties": False,
            }
        }
    },
}


@router.post(
    "/batch",
    response_model=BatchOut,
    responses={413: {"model": ErrorOut}},
    openapi_extra={"requestBody": BATCH_BODY},
)
async def record_batch(
    request: Request, db: Db, _: Actor, now: Now, policy: Policy, wait: Wait = False
) -> BatchOut:
    """Record up to ``LEADQ_MAX_BATCH_EVENTS`` events at once, all or nothing."""
    try:  # parse and validate in one pass: a quarter of the cost of json.loads + validate
        batch = EventBatch.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    limit = request.app.state.settings.max_batch_events
    if len(batch.events) > limit:
        raise HTTPException(413, f"at most {limit} events per batch, got {len(batch.events)}")

    queued = _queued(request, wait)

    def work(session: Session) -> Recorded:
        return event_service.record_events(session, batch.events, now, policy.clock_skew, queued)

    recorded = await run_in_threadpool(db.run, work)
    return BatchOut(accepted=recorded.accepted, duplicates=recorded.duplicates)
