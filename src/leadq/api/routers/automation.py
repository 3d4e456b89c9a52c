"""Automation over HTTP: the rules in force and their validation, follow-up tasks, segments
and the outbox (list, retry a dead message)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from leadq.api.deps import Actor, Caller, Db, Now
from leadq.api.schemas import ErrorOut, LeadOut
from leadq.domain.automation import NAME_PATTERN, SegmentFilter, parse_automation
from leadq.domain.documents import DocumentError
from leadq.http.params import MessagePath, TaskPath
from leadq.services.automation import outbox, segments, tasks
from leadq.services.automation.document import current_automation
from leadq.services.errors import FieldError, InvalidInput
from leadq.store.tables import FollowUpTask, OutboxMessage

router = APIRouter(tags=["automation"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip
SegmentName = Annotated[str, Path(pattern=NAME_PATTERN)]
YamlBody = Annotated[str, Body(media_type="application/yaml", max_length=256_000)]
Limit = Annotated[int, Query(ge=1, le=500)]
Owner = Annotated[str | None, Query(max_length=100)]


class TaskOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    lead_id: int
    kind: str
    owner: str | None
    rule: str
    created_at: datetime
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    done_how: str | None
    breached_at: datetime | None


class MessageOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    channel: str
    target: str
    status: str
    attempts: int
    idempotency_key: str
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class SegmentIn(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    filter: SegmentFilter


class SegmentOut(BaseModel):
    name: str
    filter: dict[str, Any]
    created_at: datetime


@router.get("/automation")
def automation_in_force(_: Actor) -> dict[str, Any]:
    """The automation document in force (``LEADQ_AUTOMATION_FILE``)."""
    return current_automation().model_dump(mode="json", by_alias=True)


@router.post("/automation/validate")
def validate(document: YamlBody, _: Actor) -> dict[str, Any]:
    """Check a document without putting it in force; errors name the path inside it."""
    try:
        parsed = parse_automation(document, "request")
    except DocumentError as exc:
        raise InvalidInput([FieldError(exc.path, exc.reason)]) from None
    return {"rules": [rule.id for rule in parsed.rules], "teams": sorted(parsed.teams)}


@router.get("/tasks", response_model=list[TaskOut])
def list_tasks(db: Db, caller: Caller, now: Now, owner: Owner = None,
               state: Literal["all", "open", "overdue"] = "open",
               limit: Limit = 100) -> list[FollowUpTask]:  # fmt: skip
    """Follow-up tasks by due time; a rep's key lists the rep's own tasks."""
    owner = caller.owner or owner
    with db.reading() as session:
        return tasks.list_tasks(session, owner, state != "all",
                                now if state == "overdue" else None, limit)  # fmt: skip


@router.post("/tasks/{task_id}/complete", response_model=TaskOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def complete_task(task_id: TaskPath, db: Db, actor: Actor,
                  now: Now) -> TaskOut:  # fmt: skip
    return db.run(lambda s: TaskOut.model_validate(tasks.complete(s, task_id, actor, now)))


@router.get("/segments", response_model=list[SegmentOut])
def list_segments(db: Db, _: Actor) -> list[dict[str, Any]]:
    with db.reading() as session:
        return segments.listing(session)


@router.post("/segments", response_model=SegmentOut, status_code=201)
def save_segment(body: SegmentIn, db: Db, actor: Actor, now: Now) -> SegmentOut:
    def work(session: Any) -> SegmentOut:
        saved = segments.save(session, body.name, body.filter, actor, now)
        return SegmentOut(name=saved.name, filter=saved.filter, created_at=saved.created_at)

    return db.run(work)


@router.delete("/segments/{name}", status_code=204,
               responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def remove_segment(name: SegmentName, db: Db, actor: Actor, now: Now) -> None:
    db.run(lambda s: segments.remove(s, name, actor, now))


@router.get("/segments/{name}/leads", response_model=list[LeadOut],
            responses={404: {"model": ErrorOut}})  # fmt: skip
def segment_leads(name: SegmentName, db: Db, caller: Caller, now: Now,
                  limit: Limit = 100) -> list[LeadOut]:  # fmt: skip
    with db.reading() as session:
        found = segments.members(session, name, now, limit, caller.lead_filter())
        return [LeadOut.model_validate(lead) for lead in found]


@router.get("/outbox", response_model=list[MessageOut])
def list_outbox(db: Db, _: Actor, status: Literal["pending", "delivered", "dead"] | None = None,
                limit: Limit = 100) -> list[OutboxMessage]:  # fmt: skip
    with db.reading() as session:
        return outbox.messages(session, status, limit)


@router.post("/outbox/{message_id}/retry", response_model=MessageOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})  # fmt: skip
def retry(message_id: MessagePath, db: Db, actor: Actor,
          now: Now) -> MessageOut:  # fmt: skip
    return db.run(lambda s: MessageOut.model_validate(outbox.retry(s, message_id, actor, now)))
