"""Delivering the outbox: at least once, never twice short of a crash, with exponential
back-off and a dead-letter state.

A worker claims due messages under a lease with a token of its own (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, the single writer on SQLite). Before each attempt it checks that it still holds
the message, renews the lease and counts the attempt; it sends outside any transaction, with a
timeout that fits inside the lease; and it records the outcome only if it still holds the lease
it claimed with. A slow batch whose later messages another worker took over skips them; a
worker killed mid-delivery leaves its claims to expire, and the next worker sends them again
with the same idempotency key (so the receiver applies each message once), the attempt counted.
"""

from __future__ import annotations

import uuid
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
from leadq.services.automation.reactions import notification_language, secret_of
from leadq.services.errors import Conflict, NotFound
from leadq.services.privacy import audit
from leadq.store.db import Database
from leadq.store.tables import OutboxMessage

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
LOST = "lost"
"""Not an outcome stored: the lease ran out and another worker holds the message."""
PHASES = 4
"""Blocking steps an attempt may wait on (connect, send, headers, body), each up to the
timeout: an attempt's timeout is at most the lease over this, so the attempt ends in time."""


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    target: str
    payload: dict[str, Any]
    key: str
    token: str


@dataclass
class Round:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead


def attempt_timeout(settings: Settings) -> float:
    """The configured delivery timeout, cut so that a whole attempt fits inside the lease."""
    return min(settings.delivery_timeout_seconds, settings.outbox_lease_seconds / PHASES)


def claim(db: Database, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Due messages nobody holds, now held by this worker (one token) until ``now + lease``."""
    token = uuid.uuid4().hex
    with db.unit_of_work() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.locked_until.is_(None),
                            OutboxMessage.locked_until <= now))
                 .order_by(OutboxMessage.id).limit(limit)
                 .with_for_update(skip_locked=True))  # fmt: skip
        rows = list(session.scalars(query))
        for row in rows:
            row.locked_until, row.lease_token = now + lease, token
        return [Claimed(r.id, r.channel, r.target, r.payload, r.idempotency_key, token)
                for r in rows]  # fmt: skip


def _held(session: Session, message: Claimed) -> OutboxMessage | None:
    """The message's row, locked, if this worker still holds it (pending, same token)."""
    row = session.get(OutboxMessage, message.id, with_for_update=True)
    held = row is not None and row.status == PENDING and row.lease_token == message.token
    return row if held else None


def begin_attempt(db: Database, message: Claimed, now: datetime, settings: Settings) -> bool:
    """Count an attempt and renew the lease for it; False if the message is no longer ours
    (or has used up its attempts without an outcome: then it is dead)."""
    with db.unit_of_work() as session:
        row = _held(session, message)
        if row is None:
            return False
        if row.attempts >= settings.outbox_max_attempts:
            row.status, row.locked_until, row.lease_token = DEAD, None, None
            row.last_error = row.last_error or f"{row.attempts} attempts ended without an outcome"
            return False
        row.attempts += 1
        row.locked_until = now + timedelta(seconds=settings.outbox_lease_seconds)
        return True


def send(message: Claimed, automation: Automation, settings: Settings, now: datetime) -> None:
    """One delivery attempt; ``DeliveryError`` says why it failed."""
    timeout = attempt_timeout(settings)
    if message.channel == "email":
        payload = message.payload
        email.send(settings, message.target, payload["subject"], payload["body"], message.key,
                   timeout, payload.get("html"), payload.get("headers"))  # fmt: skip
        return
    endpoint = automation.endpoints.get(message.target)
    if endpoint is None:
        raise DeliveryError(f"no endpoint {message.target!r} in the automation document")
    secret = secret_of(automation, message.target)
    slack = endpoint.format == "slack"  # the one body written in words
    language = notification_language(automation, settings) if slack else None
    webhook.post(endpoint.url, message.payload, message.key, secret, endpoint.format,
                 int(now.timestamp()), timeout, language)  # fmt: skip


def record(db: Database, message: Claimed, error: str | None, now: datetime,
           settings: Settings) -> str:  # fmt: skip
    """Store the outcome of an attempt, if this worker still holds the message; returns the
    new status, or ``LOST`` when the outcome was dropped (the holder sends it again)."""
    with db.unit_of_work() as session:
        row = _held(session, message)
        if row is None:
            return LOST
        row.locked_until, row.lease_token = None, None
        if error is None:
            row.status, row.delivered_at = DELIVERED, now
        elif row.attempts >= settings.outbox_max_attempts:
            row.status, row.last_error = DEAD, error
        else:
            backoff = settings.outbox_backoff_seconds * 2 ** (row.attempts - 1)
            row.next_attempt_at, row.last_error = now + timedelta(seconds=backoff), error
        return row.status


def deliver(db: Database, message: Claimed, automation: Automation, settings: Settings,
            clock: Callable[[], datetime]) -> str:  # fmt: skip
    """One message, start to outcome; ``LOST`` if it was not (or no longer) this worker's."""
    if not begin_attempt(db, message, clock(), settings):
        return LOST
    try:
        send(message, automation, settings, clock())
        error = None
    except DeliveryError as exc:
        error = str(exc)
    return record(db, message, error, clock(), settings)


def deliver_due(db: Database, automation: Automation, settings: Settings,
                clock: Callable[[], datetime], limit: int = 50) -> Round:  # fmt: skip
    """Claim and deliver everything due now, batch after batch."""
    done = Round()
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    while batch := claim(db, clock(), lease, limit):
        for message in batch:
            status = deliver(db, message, automation, settings, clock)
            done.delivered += status == DELIVERED
            done.dead += status == DEAD
            done.retried += status == PENDING
            done.lost += status == LOST
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
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, now
    row.locked_until, row.lease_token = None, None
    audit.record(session, actor, "outbox.retried", "outbox", row.id, {}, now)
    return row
