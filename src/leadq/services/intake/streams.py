"""Events read from a message broker: each message one event, stored through the same intake as
``POST /events/batch``; a message that cannot be stored is named with its reason, not lost."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.events import EventInput
from leadq.services.errors import InvalidInput
from leadq.services.intake.events import record_events
from leadq.store.sql import dialect_insert
from leadq.store.tables import StreamPosition, utcnow

MAX_MESSAGE_BYTES = 256 * 1024
"""One event's message; a bigger one is dead-lettered unread (an event's properties are capped
far below this)."""

_ITEM = re.compile(r"^events\[(\d+)\]\.")


@dataclass(frozen=True)
class Message:
    """A broker message as intake sees it: its body and the broker's stable name for it (the
    idempotency key of an event that brings none, so a replayed stream is stored once)."""

    body: bytes
    key: str


@dataclass(frozen=True)
class Stored:
    accepted: int
    duplicates: int
    refused: dict[int, str] = field(default_factory=dict)
    """Index of each message that was not stored → why: for the dead-letter subject."""


def broker_key(*parts: object) -> str:
    """An idempotency key from the broker's names for a message, hashed when it would not fit."""
    key = ":".join(str(p) for p in parts)
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _decode(message: Message) -> EventInput | str:
    """The event a message carries, or why it carries none."""
    if len(message.body) > MAX_MESSAGE_BYTES:
        return f"message of {len(message.body)} bytes: at most {MAX_MESSAGE_BYTES}"
    try:
        event = EventInput.model_validate_json(message.body)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:10]
        )
    if event.idempotency_key is None:
        event = event.model_copy(update={"idempotency_key": message.key})
    return event


def _refused_items(error: InvalidInput, indexes: Sequence[int]) -> dict[int, str]:
    """The messages an intake refusal names (``events[i].field: reason``), by message index."""
    refused: dict[int, str] = {}
    for e in error.errors:
        if match := _ITEM.match(e.field):
            at = indexes[int(match[1])]
            reason = f"{e.field[match.end() :]}: {e.reason}"
            refused[at] = f"{refused[at]}; {reason}" if at in refused else reason
    return refused


def record_messages(
    session: Session,
    messages: Sequence[Message],
    now: datetime,
    skew: timedelta,
    queued: bool,
    position: tuple[str, int] | None = None,
) -> Stored:
    """Store what can be stored of a batch and name the rest; ``position`` (consumer, offset)
    is saved in the same transaction, so the consumer resumes exactly after what was stored."""
    refused: dict[int, str] = {}
    events: dict[int, EventInput] = {}
    for i, message in enumerate(messages):
        decoded = _decode(message)
        if isinstance(decoded, str):
            refused[i] = decoded
        else:
            events[i] = decoded
    accepted = duplicates = 0
    while events:
        indexes = list(events)
        try:
            with session.begin_nested():
                recorded = record_events(session, list(events.values()), now, skew, queued)
        except InvalidInput as exc:
            named = _refused_items(exc, indexes)
            if not named:  # a refusal of the batch as a whole: no message is to blame
                raise
            refused.update(named)
            events = {i: e for i, e in events.items() if i not in named}
            continue
        accepted, duplicates = recorded.accepted, recorded.duplicates
        break
    if position is not None:
        save_position(session, *position)
    return Stored(accepted, duplicates, refused)


def position_of(session: Session, consumer: str) -> int | None:
    """The offset of the last message ``consumer`` stored, if it has stored any."""
    return session.scalar(
        select(StreamPosition.position).where(StreamPosition.consumer == consumer)
    )


def save_position(session: Session, consumer: str, position: int) -> None:
    insert = dialect_insert(session, StreamPosition).values(
        consumer=consumer, position=position, updated_at=utcnow()
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["consumer"],
            set_={"position": insert.excluded.position, "updated_at": insert.excluded.updated_at},
        )
    )
