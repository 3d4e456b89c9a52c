"""An events file's rows as the rows ``record_rows`` stores, each exactly what ``EventInput``
makes of it, without a model per row: an import of millions of events spent a third of its
time building and checking one.

A chunk's rows repeat a handful of types, channels and property values, so the model checks
each such combination once; each row's own moment goes through the model's own type. A row
the quick way cannot take (an idempotency key of its own, a refusal) goes through the model
whole, so its reason reads as it always has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.boundary import EventMoment
from leadq.domain.events import EventInput, check_not_future
from leadq.domain.ids import REASON, canonical_id
from leadq.domain.leads import InvalidContact, normalise_email, normalise_phone
from leadq.services.intake.events import EventRow, event_row
from leadq.services.intake.policy import IntakePolicy
from leadq.store.sql import one_of
from leadq.store.tables import Lead

EVENT_COLUMNS = ("lead_id", "email", "phone", "type", "occurred_at", "channel", "idempotency_key")
"""The columns an event is made of; any other column is one of its properties."""
_MOMENT: TypeAdapter[datetime] = TypeAdapter(EventMoment)
_SAMPLE_MOMENT = "2000-01-01T00:00:00Z"
"""A moment every check accepts, for checking the rest of a row on its own."""


def _property(value: str) -> Any:
    """Numbers stay numbers (``35`` → 35) unless that would change the text (``007``)."""
    for kind in (int, float):
        try:
            number = kind(value)
        except ValueError:
            continue
        if str(number) == value:
            return number
    return value


def derived_key(lead_id: int, kind: str, occurred_at: datetime, properties: dict[str, Any]) -> str:
    """The same row always yields the same key, so a re-run import stores nothing twice."""
    return _key(lead_id, kind, occurred_at.isoformat(), json.dumps(properties, sort_keys=True))


def _key(lead_id: int, kind: str, moment: str, properties: str) -> str:
    """``derived_key`` from its parts' JSON: the text ``json.dumps([lead_id, kind, moment,
    properties], sort_keys=True)`` gives, written out (an event type and an ISO moment hold
    nothing JSON escapes), so a chunk's properties are turned into JSON once."""
    text = f'[{lead_id}, "{kind}", "{moment}", {properties}]'
    return "csv:" + hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Named:
    """The leads an events chunk names, by id, e-mail or phone (the first column a row fills),
    read in one statement per kind instead of one per row."""

    ids: set[int]
    by_email: dict[str, int]
    by_phone: dict[str, int]
    """A phone's oldest lead (a phone is not an identity: name leads by e-mail where you can)."""

    def lead_of(self, values: dict[str, str], policy: IntakePolicy) -> int:
        kind, key = reference(values, policy)
        found = {"lead_id": self.ids, "email": self.by_email, "phone": self.by_phone}[kind]
        if key not in found:
            raise ValueError(f"no lead {values[kind]!r}")
        return int(key) if kind == "lead_id" else found[key]  # type: ignore[index]


def named_leads(session: Session, rows: list[dict[str, str]], policy: IntakePolicy) -> Named:
    wanted: dict[str, set[Any]] = {"lead_id": set(), "email": set(), "phone": set()}
    for values in rows:
        try:
            kind, key = reference(values, policy)
        except (ValueError, InvalidContact):
            continue  # refused with its reason when the row is read
        wanted[kind].add(key)

    def read(column: Any, kind: str) -> dict[Any, int]:
        query = select(column, Lead.id).where(one_of(session, column, sorted(wanted[kind])))
        return {key: i for key, i in session.execute(query.order_by(Lead.id.desc()))}  # oldest

    ids = read(Lead.id, "lead_id")
    return Named(set(ids), read(Lead.email, "email"), read(Lead.phone, "phone"))


def reference(values: dict[str, str], policy: IntakePolicy) -> tuple[str, Any]:
    """How a row names its lead: ``lead_id``, ``email`` or ``phone``, the first it fills, and
    the key to look it up by."""
    if "lead_id" in values:
        raw = values["lead_id"].strip()
        try:
            return "lead_id", canonical_id(raw)
        except ValueError:
            raise ValueError(f"lead_id: not a lead id: {raw!r} ({REASON})") from None
    if "email" in values:
        try:
            return "email", normalise_email(values["email"])
        except InvalidContact as exc:
            raise ValueError(f"email: {exc}") from None
    if "phone" in values:
        try:
            return "phone", normalise_phone(values["phone"], policy.phone_region)
        except InvalidContact as exc:
            raise ValueError(f"phone: {exc}") from None
    raise ValueError("lead_id: empty; give lead_id, email or phone")


@dataclass(frozen=True)
class _Kind:
    """What the model makes of a row's type, channel and properties."""

    type: str
    channel: str | None
    properties: dict[str, Any]
    properties_json: str
    """The properties as read (before the model), as the derived key spells them."""


class EventReader:
    """One chunk's rows as event rows received ``now``; raises ``ValidationError`` or
    ``ValueError`` with the row's reason, as ``EventInput`` and the clock check give it."""

    def __init__(self, named: Named, policy: IntakePolicy, now: datetime) -> None:
        self.named, self.policy, self.now = named, policy, now
        self._kinds: dict[tuple[str | None, ...], _Kind | None] = {}

    def row(self, values: dict[str, str]) -> EventRow:
        lead_id = self.named.lead_of(values, self.policy)
        raw = {k: v for k, v in values.items() if k not in EVENT_COLUMNS}
        kind = None if "idempotency_key" in values else self._kind(values, raw)
        if kind is None:
            return self._modelled(values, lead_id, raw)
        try:
            occurred_at = _MOMENT.validate_python(values.get("occurred_at"))
        except ValidationError:
            return self._modelled(values, lead_id, raw)  # the model names what is wrong
        self._not_future(occurred_at)
        key = _key(lead_id, kind.type, occurred_at.isoformat(), kind.properties_json)
        return {"lead_id": lead_id, "type": kind.type, "occurred_at": occurred_at,
                "received_at": self.now, "properties": dict(kind.properties),
                "channel": kind.channel, "idempotency_key": key}  # fmt: skip

    def _kind(self, values: dict[str, str], raw: dict[str, str]) -> _Kind | None:
        """The checked type, channel and properties, once per combination in the chunk; None
        when the model refuses them."""
        lookup = (values.get("type"), values.get("channel"), *(x for kv in raw.items() for x in kv))
        if lookup not in self._kinds:
            properties = {k: _property(v) for k, v in raw.items()}
            try:
                event = EventInput.model_validate({
                    "lead_id": 1, "type": values.get("type"), "occurred_at": _SAMPLE_MOMENT,
                    "channel": values.get("channel"), "properties": properties,
                })  # fmt: skip
            except ValidationError:
                self._kinds[lookup] = None
            else:
                text = json.dumps(properties, sort_keys=True)
                self._kinds[lookup] = _Kind(event.type, event.channel, event.properties, text)
        return self._kinds[lookup]

    def _modelled(self, values: dict[str, str], lead_id: int, raw: dict[str, str]) -> EventRow:
        """The row through ``EventInput`` whole, as every row once went."""
        properties = {k: _property(v) for k, v in raw.items()}
        event = EventInput.model_validate(
            {
                "lead_id": lead_id,
                "type": values.get("type"),
                "occurred_at": values.get("occurred_at"),
                "channel": values.get("channel"),
                "properties": properties,
                "idempotency_key": values.get("idempotency_key"),
            }
        )
        self._not_future(event.occurred_at)
        row = event_row(event, self.now)
        if event.idempotency_key is None:
            row["idempotency_key"] = derived_key(lead_id, event.type, event.occurred_at,
                                                 properties)  # fmt: skip
        return row

    def _not_future(self, occurred_at: datetime) -> None:
        try:
            check_not_future(occurred_at, self.now, self.policy.clock_skew)
        except ValueError as exc:
            raise ValueError(f"occurred_at: {exc}") from None
