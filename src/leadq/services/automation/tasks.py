"""Follow-up tasks: listing, completing by hand, and the speed-to-lead SLA check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from leadq.services.automation.reactions import emit
from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.store.tables import FollowUpTask, Lead

SLA_BREACHED = "task.sla_breached"


def breach_overdue(session: Session, now: datetime) -> int:
    """Mark open tasks past their due time as breached, once each; the SLA rules fire."""
    overdue = select(FollowUpTask).where(FollowUpTask.done_at.is_(None),
                                         FollowUpTask.breached_at.is_(None),
                                         FollowUpTask.due_at < now).with_for_update()  # fmt: skip
    tasks = list(session.scalars(overdue))
    for task in tasks:
        breach(session, task, now)
    return len(tasks)


def breach(session: Session, task: FollowUpTask, at: datetime) -> None:
    """Mark one task's SLA breached at ``at`` and tell the rules (``sla_breached``)."""
    task.breached_at = at
    details = {"task": task.kind, "task_id": task.id, "owner": task.owner,
               "due_at": task.due_at.isoformat()}  # fmt: skip
    emit(session, SLA_BREACHED, task.lead_id, details, at)


def list_tasks(session: Session, owner: str | None = None, open_only: bool = False,
               overdue_at: datetime | None = None,
               limit: int = 100) -> list[FollowUpTask]:  # fmt: skip
    query = select(FollowUpTask).order_by(FollowUpTask.due_at).limit(limit)
    if owner is not None:
        query = query.where(FollowUpTask.owner == owner)
    if open_only or overdue_at is not None:
        query = query.where(FollowUpTask.done_at.is_(None))
    if overdue_at is not None:
        query = query.where(FollowUpTask.due_at < overdue_at)
    return list(session.scalars(query))


def complete(session: Session, task_id: int, actor: str, now: datetime) -> FollowUpTask:
    task = session.get(FollowUpTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound("task", task_id)
    if task.done_at is not None:
        raise Conflict("task", f"task {task_id} was done at {task.done_at.isoformat()}")
    task.done_at, task.done_by, task.done_how = now, actor, "manual"
    audit.record(session, actor, "task.completed", "lead", task.lead_id, {"task": task_id}, now)
    return task


def overdue(now: datetime) -> ColumnElement[bool]:
    """A condition on ``leads``: the lead has an open follow-up task past its due time."""
    late = select(FollowUpTask.lead_id).where(FollowUpTask.done_at.is_(None),
                                              FollowUpTask.due_at < now)  # fmt: skip
    return Lead.id.in_(late)
