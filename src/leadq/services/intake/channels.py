"""Messages and calls from messengers and phone lines into leads: the sender is found by their
channel identity, else by the phone the platform gives (as intake matches phones), else a new
lead; each message or call is an event stored once (its key is the platform's own id), so a
delivery the platform retries changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.channels import Contact, Inbound
from leadq.domain.events import EventInput
from leadq.domain.leads import BY_CHANNEL, LeadInput
from leadq.services.errors import InvalidInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.tables import ChannelIdentity, ConnectorStatus, Event

CONNECTORS = {"telegram": "telegram_secret", "meta": "meta_app_secret",
              "twilio": "twilio_auth_token", "zadarma": "zadarma_secret",
              "calls": "calls_secret", "imap": "imap_host"}  # fmt: skip
"""Each connector and the setting that turns it on."""

SOURCES = {
    "telegram": "messenger",
    "whatsapp": "messenger",
    "messenger": "social",
    "instagram": "social",
    "phone": "phone",
}


@dataclass(frozen=True)
class Received:
    leads: list[int]
    stored: int
    """Events stored now; a retried delivery stores none."""


def receive(
    session: Session,
    inbound: Sequence[Inbound],
    connector: str,
    now: datetime,
    policy: IntakePolicy,
) -> Received:
    """Store what a connector delivered, each sender as a lead, and note the connector's
    success."""
    keys = [item.key for item in inbound]
    known = (
        set(session.scalars(select(Event.idempotency_key).where(Event.idempotency_key.in_(keys))))
        if keys
        else set()
    )
    leads, events = [], []
    for item in inbound:
        lead_id = _lead_of(session, item.contact, item.occurred_at, connector, now, policy)
        leads.append(lead_id)
        events.append(
            EventInput(
                lead_id=lead_id,
                type=item.kind,
                occurred_at=item.occurred_at,
                properties=item.properties,
                channel=item.contact.channel,
                idempotency_key=item.key,
            )
        )
    if events:
        record_events(session, events, now, policy.clock_skew)
    succeeded(session, connector, now)
    return Received(leads, sum(item.key not in known for item in inbound))


def _lead_of(
    session: Session,
    contact: Contact,
    at: datetime,
    connector: str,
    now: datetime,
    policy: IntakePolicy,
) -> int:
    identity = session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == contact.channel,
            ChannelIdentity.external_id == contact.external_id,
        )
    ).first()
    if identity is not None:
        identity.first_at, identity.last_at = min(identity.first_at, at), max(identity.last_at, at)
        identity.name = contact.name or identity.name
        return identity.lead_id
    first, _, last = (contact.name or "").partition(" ")
    data: dict[str, Any] = {
        "first_name": first or None,
        "last_name": last or None,
        "phone": contact.phone,
        "source": SOURCES[contact.channel],
    }
    try:
        arrival = LeadInput.model_validate(data, context={BY_CHANNEL: True})
        lead = upsert_lead(session, arrival, f"channel:{connector}", now, policy).lead
    except (InvalidInput, ValueError):  # a number the platform gave that does not read
        arrival = LeadInput.model_validate({**data, "phone": None}, context={BY_CHANNEL: True})
        lead = upsert_lead(session, arrival, f"channel:{connector}", now, policy).lead
    session.flush()
    session.add(
        ChannelIdentity(
            lead_id=lead.id,
            channel=contact.channel,
            name=contact.name,
            external_id=contact.external_id,
            first_at=at,
            last_at=at,
        )
    )
    return lead.id


def identities(session: Session, lead_id: int) -> list[ChannelIdentity]:
    return list(
        session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.lead_id == lead_id)
            .order_by(ChannelIdentity.first_at)
        )
    )


def succeeded(session: Session, connector: str, now: datetime) -> None:
    _status(session, connector).last_success_at = now


def failed(session: Session, connector: str, now: datetime, reason: str) -> None:
    """A signed delivery that does not read, or an inbox that refused: kept for health (a bad
    signature is only logged, so forged requests cost no writes)."""
    status = _status(session, connector)
    status.last_error_at, status.last_error = now, reason[:300]


def _status(session: Session, connector: str) -> ConnectorStatus:
    status = session.get(ConnectorStatus, connector)
    if status is None:
        status = ConnectorStatus(name=connector)
        session.add(status)
    return status


def standing(session: Session) -> list[ConnectorStatus]:
    return list(session.scalars(select(ConnectorStatus).order_by(ConnectorStatus.name)))
