"""Recording behaviour events: validated as a whole, stored once per idempotency key."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.events import EventInput, check_not_future
from leadq.services.automation import reactions as automation
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.predictive.history import CONVERTING_EVENT
from leadq.services.qualification import outcomes
from leadq.services.scoring import queue
from leadq.services.scoring.rescoring import rescore_leads
from leadq.store.sql import (
    driver_cursor,
    insert_ignoring_conflicts,
    insert_rows,
    on_postgres,
    one_of,
)
from leadq.store.tables import Event, Lead, naive_utc

EventRow = dict[str, Any]
"""An event as stored: lead_id, type, occurred_at, received_at, properties, channel,
idempotency_key."""
_IN_CHUNK = 5_000  # stays under every backend's bound-parameter limit


@dataclass(frozen=True)
class Recorded:
    accepted: int
    duplicates: int
    lead_ids: list[int]
    """Leads with new activity: the ones a scoring engine must rescore."""


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _known_leads(session: Session, lead_ids: set[int],
                 lock: bool = False) -> dict[int, tuple[bool, int | None]]:  # fmt: skip
    """The stored leads among ``lead_ids``: whether each was erased, and the lead it was merged
    into. ``lock`` holds them (``FOR KEY SHARE``, in id order) until the events are stored, so
    no merge or erasure slips between the check and the insert, while drainers rescoring them
    and other intake are not waited for."""
    found: dict[int, tuple[bool, int | None]] = {}
    for chunk in _chunks(sorted(lead_ids)):
        query = select(Lead.id, Lead.erased_at.is_not(None), Lead.merged_into_id).where(
            one_of(session, Lead.id, chunk))  # fmt: skip
        if lock:
            query = query.order_by(Lead.id).with_for_update(read=True, key_share=True)
        found.update((lead_id, (erased, into)) for lead_id, erased, into in session.execute(query))
    return found


def _refusal(lead_id: int, known: dict[int, tuple[bool, int | None]]) -> str | None:
    """Why the lead takes no events: unknown, erased (its shell stays anonymous), or merged
    into another lead (whose timeline holds its events now)."""
    if lead_id not in known:
        return f"no lead with id {lead_id}"
    erased, into = known[lead_id]
    if erased:
        return f"lead {lead_id} was erased: it takes no events"
    return f"lead {lead_id} was merged into lead {into}: send its events there" if into else None


def _stored_keys(session: Session, keys: list[str]) -> set[str]:
    if on_postgres(session):  # one array, sent in binary (as text it is escaped key by key)
        cursor = driver_cursor(session)
        cursor.execute("SELECT idempotency_key FROM events WHERE idempotency_key = ANY(%b)",
                       [keys])  # fmt: skip
        return {key for (key,) in cursor.fetchall()}
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            k
            for k in session.scalars(
                select(Event.idempotency_key).where(one_of(session, Event.idempotency_key, chunk))
            )
            if k
        )
    return found


def _check(
    session: Session,
    rows: Sequence[EventRow],
    now: datetime,
    skew: timedelta,
    where: Callable[[int], str],
    lock: bool,
) -> None:
    """Refuse the whole batch if any item is unusable, naming every bad item (first 100)."""
    errors: list[FieldError] = []
    for i, row in enumerate(rows):
        try:
            check_not_future(row["occurred_at"], now, skew)
        except ValueError as exc:
            errors.append(FieldError(f"{where(i)}occurred_at", str(exc)))
    known = _known_leads(session, {row["lead_id"] for row in rows}, lock)
    errors += [
        FieldError(f"{where(i)}lead_id", reason)
        for i, row in enumerate(rows)
        if (reason := _refusal(row["lead_id"], known)) is not None
    ]
    if errors:
        raise InvalidInput(errors[:100])


def record_events(
    session: Session,
    events: Sequence[EventInput],
    now: datetime,
    skew: timedelta,
    queued: bool = False,
) -> Recorded:
    """Store a batch all-or-nothing; a stored idempotency key makes its item a duplicate.
    ``queued`` leaves rescoring to the queue's drainers instead of doing it here."""
    return record_rows(session, [event_row(item, now) for item in events], now, skew, queued)


def record_rows(
    session: Session,
    batch: Sequence[EventRow],
    now: datetime,
    skew: timedelta,
    queued: bool = False,
) -> Recorded:
    """``record_events`` for rows already in the shape of ``event_row`` (an import builds them
    without a model per row)."""
    _check(session, batch, now, skew, lambda i: f"events[{i}].", queued)
    seen = _stored_keys(session, [row["idempotency_key"] for row in batch
                                  if row["idempotency_key"]])  # fmt: skip
    rows: list[EventRow] = []
    for row in batch:
        key = row["idempotency_key"]
        if key in seen:
            continue
        if key:
            seen.add(key)
        rows.append(row)
    if rows:
        if not queued:  # queued: the drainer moves the activity, the check locked the leads
            _touch_leads(session, rows)  # locks the leads, in id order, before any key can wait
        rows = _insert(session, rows)
    touched = _stored(session, rows, now, queued)
    return Recorded(len(rows), len(batch) - len(rows), touched)


def _stored(session: Session, rows: list[EventRow], now: datetime, queued: bool) -> list[int]:
    """What follows every stored event, whichever way it came in: the touch rules (a reply,
    call or meeting completes follow-up tasks), then rescoring, at once or through the queue.
    Returns the leads touched."""
    for row in rows:
        automation.touched(session, row["lead_id"], row["type"], row["properties"] or {},
                           row["occurred_at"], row.get("channel"))  # fmt: skip
    touched = sorted({r["lead_id"] for r in rows})
    if queued:
        queue.enqueue(session, _activity(rows), now)
    else:
        rescore_leads(session, touched, now, "event")  # nothing to do without rows
    outcomes.refresh(session, sorted({r["lead_id"] for r in rows if r["type"] == CONVERTING_EVENT}))
    return touched


def _insert(session: Session, rows: list[EventRow]) -> list[EventRow]:
    """Insert the rows; returns the ones stored. On PostgreSQL a key another transaction
    stored since ``_stored_keys`` looked (a retry racing itself) is skipped by the database;
    a SQLite writer holds the database's lock from its start, so none can have been."""
    if on_postgres(session):
        return _insert_arrays(session, rows)
    insert_rows(session, Event, rows)
    return rows


_INSERT_ARRAYS = (
    "INSERT INTO events (lead_id, type, occurred_at, received_at, properties, channel,"
    " idempotency_key)"
    " SELECT lead_id, type, occurred_at, %b::timestamp, properties::jsonb, channel, key"
    " FROM unnest(%b::integer[], %b::text[], %b::timestamp[], %b::text[], %b::text[],"
    " %b::text[]) AS t(lead_id, type, occurred_at, properties, channel, key)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
)
"""PostgreSQL: a batch as one statement over column arrays sent in binary, so its cost is the
rows' cost (the driver escapes every text of an array it sends as text)."""


def _insert_arrays(session: Session, rows: list[EventRow]) -> list[EventRow]:
    params = [
        naive_utc(rows[0]["received_at"]),
        [row["lead_id"] for row in rows],
        [row["type"] for row in rows],
        [naive_utc(row["occurred_at"]) for row in rows],
        [json.dumps(row["properties"]) if row["properties"] else "{}" for row in rows],
        [row["channel"] for row in rows],
        [row["idempotency_key"] for row in rows],
    ]
    cursor = driver_cursor(session)
    cursor.execute(_INSERT_ARRAYS, params)
    stored = {key for (key,) in cursor.fetchall()}
    return [row for row in rows if not row["idempotency_key"] or row["idempotency_key"] in stored]


def event_row(item: EventInput, now: datetime) -> EventRow:
    """An event as the row it is stored as, received ``now``."""
    return {
        "lead_id": item.lead_id,
        "type": item.type,
        "occurred_at": item.occurred_at,
        "received_at": now,
        "properties": item.properties,
        "channel": item.channel,
        "idempotency_key": item.idempotency_key,
    }


def _touch_leads(session: Session, rows: list[EventRow]) -> int:
    """Lock the leads in id order (the order every writer takes them in) and move their last
    activity and first event; returns how many of the leads exist and take events."""
    activity = _activity(rows)
    if on_postgres(session) and len(activity) > 1:
        session.execute(select(Lead.id).where(Lead.id.in_(sorted(activity))).order_by(Lead.id)
                        .with_for_update(key_share=True))  # fmt: skip
    return outcomes.move_activity(session, activity)


def _activity(rows: list[EventRow]) -> dict[int, outcomes.Span]:
    """The span of the rows' times per lead: what their leads' activity moves by."""
    return outcomes.spans([(r["lead_id"], r["occurred_at"], r["occurred_at"]) for r in rows])


def find_by_key(session: Session, key: str) -> Event | None:
    return session.scalars(select(Event).where(Event.idempotency_key == key)).first()


def record_event(
    session: Session, item: EventInput, now: datetime, skew: timedelta, queued: bool = False
) -> tuple[Event, bool]:
    """One event in as few statements as possible (the hot path of real-time intake); returns
    it and whether it is new — a retry with a stored idempotency key returns the stored one.
    ``queued`` leaves rescoring to the queue's drainers."""
    try:
        check_not_future(item.occurred_at, now, skew)
    except ValueError as exc:
        raise InvalidInput([FieldError("occurred_at", str(exc))]) from None
    row = event_row(item, now)
    if queued:
        reason = _refusal(item.lead_id, _known_leads(session, {item.lead_id}, lock=True))
        if reason:
            raise InvalidInput([FieldError("lead_id", reason)])
    elif not _touch_leads(session, [row]):  # the update doubles as the existence check
        reason = _refusal(item.lead_id, _known_leads(session, {item.lead_id}))
        raise InvalidInput([FieldError("lead_id", reason or "no lead to record it for")])
    insert = insert_ignoring_conflicts(session, Event, "idempotency_key").values(**row)
    event = session.scalars(insert.returning(Event)).first()
    if event is not None:
        _stored(session, [row], now, queued)
        return event, True
    assert item.idempotency_key is not None  # only a key can conflict
    stored = find_by_key(session, item.idempotency_key)
    assert stored is not None
    return stored, False


def list_events(session: Session, lead_id: int, limit: int = 100) -> list[Event]:
    query = (
        select(Event)
        .where(Event.lead_id == lead_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
