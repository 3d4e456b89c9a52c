"""The rescoring queue: intake appends the leads an event touched; a drainer rescores them.

Intake stays an append (events plus one queue row per touched lead, in the same transaction),
so a batch of events costs about what storing it costs. A drainer — the server's own thread
and every ``leadq worker`` — claims queue rows in micro-batches, rescores their leads with the
active model and the lifecycle rules, and deletes exactly the rows it claimed, all in one
transaction: a crash rolls the claim back and the rows are claimed again; a row queued while a
claim is being worked is a new row, left for the next round, so no event is ever missed.
Rescoring is a recomputation at a moment, so a lead claimed twice (its rows from two batches)
is scored once per claim and reaches the same score: no event counts twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.db import Database
from leadq.store.tables import Lead, RescoreRequest

log = logging.getLogger(__name__)

BATCH = 500
"""Leads rescored per claim: small enough that a claim commits well within a second."""


def enqueue(session: Session, lead_ids: Sequence[int], at: datetime) -> None:
    """Ask for these leads to be rescored (one row per lead, in the caller's transaction)."""
    if lead_ids:
        rows = [{"lead_id": lead_id, "queued_at": at} for lead_id in lead_ids]
        session.connection().execute(insert(RescoreRequest), rows)


def waiting(session: Session) -> int:
    """Queue rows not rescored yet."""
    return session.scalar(select(func.count()).select_from(RescoreRequest)) or 0


def catch_up(session: Session, lead_ids: Sequence[int], now: datetime) -> None:
    """Rescore at once those of these leads with requests waiting, and drop the requests: for
    a use case that must find every accepted event in the score first (an erasure keeps the
    score as it stands; a drainer holding the requests is waited for)."""
    waiting = select(RescoreRequest.id, RescoreRequest.lead_id).where(
        RescoreRequest.lead_id.in_(lead_ids)).with_for_update()  # fmt: skip
    found = session.execute(waiting).all()
    if found:
        rescore_leads(session, sorted({lead for _, lead in found}), now, "event")
        session.execute(delete(RescoreRequest).where(RescoreRequest.id.in_([i for i, _ in found])))


def drain_once(db: Database, clock: Callable[[], datetime], limit: int = BATCH) -> int:
    """Claim up to ``limit`` queue rows (rows another drainer holds are skipped), rescore their
    leads and delete the rows, in one transaction; returns how many rows were handled."""
    with db.unit_of_work() as session:
        claim = (
            select(RescoreRequest.id, RescoreRequest.lead_id)
            .order_by(RescoreRequest.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = session.execute(claim).all()
        if not claimed:
            return 0
        live = select(Lead.id).where(
            Lead.id.in_({lead for _, lead in claimed}),
            Lead.erased_at.is_(None),
            Lead.merged_into_id.is_(None),
        )
        rescore_leads(session, sorted(session.scalars(live)), clock(), "event")
        handled = [row_id for row_id, _ in claimed]
        session.execute(delete(RescoreRequest).where(RescoreRequest.id.in_(handled)))
        return len(handled)


def drain(db: Database, clock: Callable[[], datetime], limit: int = BATCH,
          rounds: int = 1_000_000) -> int:  # fmt: skip
    """Claim and rescore until the queue is empty (of rows this drainer can claim) or after
    ``rounds`` claims; returns the rows handled."""
    handled = 0
    for _ in range(rounds):
        done = drain_once(db, clock, limit)
        handled += done
        if done < limit:
            break
    return handled


class Drainer(threading.Thread):
    """A background thread that keeps the queue drained (the server runs one, so a workspace
    without a separate worker still scores its events)."""

    def __init__(self, db: Database, clock: Callable[[], datetime], pause: float = 0.1) -> None:
        super().__init__(name="leadq-rescoring", daemon=True)
        self.db, self.clock, self.pause = db, clock, pause
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                handled = drain(self.db, self.clock, rounds=20)
            except Exception:  # a lost connection or a bad lead: say so, wait, claim again
                log.exception("rescoring queue: a claim failed, retrying")
                handled = 0
                self.stopping.wait(2.0)
            if not handled:
                self.stopping.wait(self.pause)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
