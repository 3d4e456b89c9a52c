"""Delivering the outbox: at least once, with exponential back-off and a dead-letter state.

A worker claims due messages under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
single writer on SQLite), delivers them outside any transaction, then records the outcome.
A worker killed mid-delivery leaves its claims to expire; the next worker sends them again
with the same idempotency key, so the receiver applies each message once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadq.config import Settings
from leadq.domain.automation import Automation
from leadq.notify import email, webhook
from leadq.notify.webhook import DeliveryError
from leadq.services.automation.reactions import secret_of
from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.store.db import Database
from leadq.store.tables import OutboxMessage

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    target: str
    payload: dict[str, Any]
    key: str
    attempts: int


@dataclass
class Round:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead


def claim(db: Database, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Due messages nobody holds, now held by this worker until ``now + lease``."""
    with db.unit_of_work() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.locked_until.is_(None),
                            OutboxMessage.locked_until <= now))
                 .order_by(OutboxMessage.id).limit(limit)
                 .with_for_update(skip_locked=True))  # fmt: skip
        rows = list(session.scalars(query))
        for row in rows:
            row.locked_until = now + lease
        return [Claimed(r.id, r.channel, r.target, r.payload, r.idempotency_key, r.attempts)
                for r in rows]  # fmt: skip


def send(message: Claimed, automation: Automation, settings: Settings, now: datetime) -> None:
    """One delivery attempt; ``DeliveryError`` says why it failed."""
    if message.channel == "email":
        email.send(settings, message.target, message.payload["subject"], message.payload["body"],
                   message.key)  # fmt: skip
        return
    endpoint = automation.endpoints.get(message.target)
    if endpoint is None:
        raise DeliveryError(f"no endpoint {message.target!r} in the automation document")
    secret = secret_of(automation, message.target)
    webhook.post(endpoint.url, message.payload, message.key, secret, endpoint.format,
                 int(now.timestamp()), settings.delivery_timeout_seconds)  # fmt: skip


def record(db: Database, message: Claimed, error: str | None, now: datetime,
           settings: Settings) -> str:  # fmt: skip
    """Store the outcome of an attempt; returns the message's new status."""
    with db.unit_of_work() as session:
        row = session.get(OutboxMessage, message.id, with_for_update=True)
        if row is None or row.status != PENDING:
            return row.status if row else DEAD
        row.attempts += 1
        row.locked_until = None
        if error is None:
            row.status, row.delivered_at = DELIVERED, now
        elif row.attempts >= settings.outbox_max_attempts:
            row.status, row.last_error = DEAD, error
        else:
            backoff = settings.outbox_backoff_seconds * 2 ** (row.attempts - 1)
            row.next_attempt_at, row.last_error = now + timedelta(seconds=backoff), error
        return row.status


def deliver_due(db: Database, automation: Automation, settings: Settings,
                clock: Callable[[], datetime], limit: int = 50) -> Round:  # fmt: skip
    """Claim and deliver everything due now, batch after batch."""
    done = Round()
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    while batch := claim(db, clock(), lease, limit):
        for message in batch:
            try:
                send(message, automation, settings, clock())
                error = None
            except DeliveryError as exc:
                error = str(exc)
            status = record(db, message, error, clock(), settings)
            done.delivered += status == DELIVERED
            done.dead += status == DEAD
            done.retried += status == PENDING
    return done


def messages(session: Session, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def retry(session: Session, message_id: int, actor: str, now: datetime) -> OutboxMessage:
    """Send a dead message again, with a fresh attempt budget and the same idempotency key."""
    row = session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound("outbox message", message_id)
    if row.status != DEAD:
        raise Conflict("status", f"message {message_id} is {row.status}; only dead ones retry")
    row.status, row.attempts, row.next_attempt_at, row.locked_until = PENDING, 0, now, None
    audit.record(session, actor, "outbox.retried", "outbox", row.id, {}, now)
    return row
