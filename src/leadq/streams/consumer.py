"""The broker-neutral consume loop: fetch a batch, store it, dead-letter what was refused, then
acknowledge — so a crash at any point redelivers, and the idempotency key stores a redelivered
event once (at least once from the broker, exactly once in the database)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from leadq.services.intake.streams import Message, Stored, record_messages
from leadq.store.db import Database

log = logging.getLogger(__name__)

RETRY_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds between attempts to store a batch while the database is unreachable; the batch stays
unacknowledged meanwhile, so nothing more is fetched (back-pressure) and nothing is lost."""


def header_value(text: str, limit: int = 1000) -> str:
    """A reason as a broker header takes it: one line, bounded."""
    return " ".join(text.split())[:limit]


@dataclass(frozen=True)
class Received:
    message: Message
    handle: Any
    """The broker's own message, for the adapter to acknowledge or dead-letter."""
    offset: int | None = None
    """Where the message sits in its stream, for brokers whose offsets leadq keeps."""


class Source(Protocol):
    """A broker adapter. ``fetch`` returns at most ``limit`` messages and waits at most ``wait``
    seconds for the first; nothing more arrives until a batch is acknowledged."""

    name: str
    keeps_offsets: bool
    """Whether leadq keeps this consumer's offset (saved with the events it stored)."""

    async def fetch(self, limit: int, wait: float) -> list[Received]: ...

    async def dead_letter(self, received: Received, reason: str) -> None: ...

    async def acknowledge(self, batch: list[Received]) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Tally:
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    dead: int = 0

    def add(self, stored: Stored) -> None:
        self.batches += 1
        self.stored += stored.accepted
        self.duplicates += stored.duplicates
        self.dead += len(stored.refused)


@dataclass(frozen=True)
class Intake:
    """How the consumer stores: the database, the clock, the allowed skew, and whether rescoring
    is left to the queue's drainers (``LEADQ_INTAKE_SCORING``)."""

    db: Database
    clock: Callable[[], datetime]
    skew: timedelta
    queued: bool


async def consume(
    source: Source,
    intake: Intake,
    stop: asyncio.Event,
    batch_size: int = 500,
    wait: float = 1.0,
    until_idle: bool = False,
) -> Tally:
    """Store batches until ``stop`` is set (the batch in hand is finished first) or, with
    ``until_idle``, until a fetch finds nothing."""
    tally = Tally()
    while not stop.is_set():
        batch = await source.fetch(batch_size, wait)
        if not batch:
            if until_idle:
                break
            continue
        stored = await _store(source, intake, batch, stop)
        if stored is None:  # stopped while the database was away: the broker redelivers
            break
        await source.acknowledge(batch)
        tally.add(stored)
    return tally


async def _store(
    source: Source, intake: Intake, batch: list[Received], stop: asyncio.Event
) -> Stored | None:
    loop = asyncio.get_running_loop()
    offset = max((r.offset for r in batch if r.offset is not None), default=None)
    position = (source.name, offset) if source.keeps_offsets and offset is not None else None

    def work(session: Session) -> Stored:
        stored = record_messages(
            session, [r.message for r in batch], intake.clock(), intake.skew, intake.queued,
            position,
        )  # fmt: skip
        for i, reason in stored.refused.items():  # before the commit: a crash re-sends them
            asyncio.run_coroutine_threadsafe(source.dead_letter(batch[i], reason), loop).result()
        return stored

    for pause in itertools.chain(RETRY_PAUSES, itertools.repeat(RETRY_PAUSES[-1])):
        try:
            return await asyncio.to_thread(intake.db.run, work)
        except (OperationalError, InterfaceError) as exc:  # the database is away, not the data
            log.warning("storing %d messages failed, retrying in %.0f s: %s",
                        len(batch), pause, exc.orig)  # fmt: skip
            try:
                await asyncio.wait_for(stop.wait(), pause)
                return None
            except TimeoutError:
                continue
    return None
