"""The rescoring queue: intake appends the leads an event touched; a drainer rescores them.

Intake stays an append (events plus one queue row per touched lead with the span of its new
events, in the same transaction), so a batch of events costs about what storing it costs. A
drainer — the server's own thread and every ``leadq worker`` — claims queue rows in
micro-batches (and every other row of the same leads), moves the leads' first and last activity,
rescores them with the active model and the lifecycle rules, and deletes exactly the rows it
claimed, all in one transaction: a crash rolls the claim back and the rows are claimed again; a
row queued while a claim is being worked is a new row, left for the next round, so no event is
ever missed. Rescoring is a recomputation at a moment, so a lead claimed twice (its rows from
two batches) is scored once per claim and reaches the same score: no event counts twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, true
from sqlalchemy.orm import Session

from leadq.services.qualification import outcomes
from leadq.services.qualification.outcomes import Span
from leadq.services.scoring.bulk import rescore_together
from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.db import Database
from leadq.store.sql import driver_cursor, insert_rows, on_postgres, one_of
from leadq.store.tables import Lead, RescoreRequest, naive_utc

log = logging.getLogger(__name__)

BATCH = 500
"""Leads rescored per claim: small enough that a claim commits well within a second."""
_SQLITE_PARAMETERS = 5_000


def enqueue(session: Session, activity: dict[int, Span], at: datetime) -> None:
    """Ask for these leads to be rescored, with the span of their new events (one row per lead,
    in the caller's transaction)."""
    ids = sorted(activity)
    if not ids:
        return
    if on_postgres(session):
        params = [naive_utc(at), ids, [naive_utc(activity[k][0]) for k in ids],
                  [naive_utc(activity[k][1]) for k in ids]]  # fmt: skip
        driver_cursor(session).execute(_ENQUEUE_ARRAYS, params)
        return
    rows = [{"lead_id": k, "queued_at": at, "first_event_at": activity[k][0],
             "last_event_at": activity[k][1]} for k in ids]  # fmt: skip
    insert_rows(session, RescoreRequest, rows)


_ENQUEUE_ARRAYS = (
    "INSERT INTO rescore_queue (lead_id, queued_at, first_event_at, last_event_at)"
    " SELECT id, %b::timestamp, first, last FROM unnest(%b::integer[], %b::timestamp[],"
    " %b::timestamp[]) AS t(id, first, last)"
)
"""PostgreSQL: a batch's requests in one statement, its arrays sent in binary (as text, the
driver writes and the server parses every timestamp)."""


def waiting(session: Session) -> int:
    """Queue rows not rescored yet."""
    return session.scalar(select(func.count()).select_from(RescoreRequest)) or 0


Claimed = list[tuple[int, int, datetime, datetime]]
"""Queue rows held by this transaction: (row id, lead id, first event, last event)."""


def _claim(session: Session, where: ColumnElement[bool], limit: int | None = None,
           skip_locked: bool = True) -> Claimed:  # fmt: skip
    """Lock the oldest queue rows matching ``where`` (those another drainer holds are skipped,
    or waited for). Their events were committed with them, so what follows reads them all."""
    query = select(RescoreRequest.id, RescoreRequest.lead_id, RescoreRequest.first_event_at,
                   RescoreRequest.last_event_at).where(where)  # fmt: skip
    query = query.order_by(RescoreRequest.id).limit(limit)
    rows = session.execute(query.with_for_update(skip_locked=skip_locked))
    return [(row_id, lead, first, last) for row_id, lead, first, last in rows]


def _settle(session: Session, claimed: Claimed, now: datetime, vectorised: bool = False) -> int:
    """Apply the claimed requests: the leads' activity moves, then they are rescored (with the
    lifecycle rules; ``vectorised``: on that engine, for many leads of few events each), then
    the requests are gone. Returns how many requests were handled."""
    leads = {lead for _, lead, _, _ in claimed}
    live = select(Lead.id).where(
        one_of(session, Lead.id, sorted(leads)),
        Lead.erased_at.is_(None),
        Lead.merged_into_id.is_(None),
    )
    live_ids = list(session.scalars(live.order_by(Lead.id).with_for_update(key_share=True)))
    spans = outcomes.spans([(lead, first, last) for _, lead, first, last in claimed])
    if vectorised:  # the activity moves in the same write as the score
        moving = {lead: spans[lead] for lead in live_ids}
        rescore_together(session, dict.fromkeys(live_ids, "event"), now, moving)
    else:
        outcomes.move_activity(session, spans)
        rescore_leads(session, live_ids, now, "event")
    handled = [row_id for row_id, _, _, _ in claimed]
    _forget(session, handled)
    return len(handled)


def _forget(session: Session, handled: list[int]) -> None:
    """Delete the handled requests; on SQLite a few thousand at a time: a lead touched by each
    chunk of a long import waits with a request per chunk, more than a statement takes
    parameters (32,766 in SQLite's default build)."""
    size = len(handled) if on_postgres(session) else _SQLITE_PARAMETERS
    for start in range(0, len(handled), size):
        part = handled[start : start + size]
        session.execute(delete(RescoreRequest).where(one_of(session, RescoreRequest.id, part)))


def catch_up(session: Session, lead_ids: Sequence[int], now: datetime) -> None:
    """Settle at once the requests waiting for these leads: for a use case that must find every
    accepted event in the score first (an erasure keeps the score as it stands); a drainer
    holding some of them is waited for."""
    claimed = _claim(session, one_of(session, RescoreRequest.lead_id, sorted(set(lead_ids))),
                     skip_locked=False)  # fmt: skip
    if claimed:
        _settle(session, claimed, now)


def drain_once(db: Database, clock: Callable[[], datetime], limit: int = BATCH,
               vectorised: bool = False) -> int:  # fmt: skip
    """Claim up to ``limit`` queue rows (rows another drainer holds are skipped) and every other
    row waiting for the same leads, settle them once, in one transaction; returns how many
    rows were handled."""
    with db.unit_of_work() as session:
        first = _claim(session, true(), limit)
        if not first:
            return 0
        more = _claim(
            session, one_of(session, RescoreRequest.lead_id, sorted({row[1] for row in first}))
        )
        claimed = list({row[0]: row for row in first + more}.values())
        return _settle(session, claimed, clock(), vectorised)


def drain(db: Database, clock: Callable[[], datetime], limit: int = BATCH,
          rounds: int = 1_000_000, vectorised: bool = False) -> int:  # fmt: skip
    """Claim and rescore until the queue is empty (of rows this drainer can claim) or after
    ``rounds`` claims; returns the rows handled."""
    handled = 0
    for _ in range(rounds):
        done = drain_once(db, clock, limit, vectorised)
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
