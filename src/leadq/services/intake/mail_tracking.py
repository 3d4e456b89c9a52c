"""What a lead does with an e-mail leadq sent: an open (a person's or a machine's), a click,
a one-click unsubscribe. Each is recorded once per e-mail (and per address clicked): a pixel
fetched again or a link clicked twice adds nothing."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from leadq.domain.consent import ConsentInput, Purpose
from leadq.domain.events import EventInput
from leadq.domain.mail_links import MAIL_SECRET, Link, verify
from leadq.services.errors import LeadqError
from leadq.services.intake.events import record_events
from leadq.services.intake.lookup import surviving
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy.consents import record_consent
from leadq.store.secrets import workspace_secret

CHANNEL = "email"


def link_of(session: Session, token: str, now: datetime) -> Link | None:
    """The signed link a token stands for; None for a changed or foreign one."""
    return verify(workspace_secret(session, MAIL_SECRET, now), token)


def _record(session: Session, link: Link, kind: str, key: str, properties: dict[str, object],
            now: datetime, policy: IntakePolicy) -> None:  # fmt: skip
    lead_id = surviving(session, link.lead_id)  # the e-mail went to a lead since merged
    if lead_id is None:
        return
    event = EventInput(lead_id=lead_id, type=kind, occurred_at=now, channel=CHANNEL,
                       properties={"message": link.message, **properties},
                       idempotency_key=key[:200])  # fmt: skip
    with contextlib.suppress(LeadqError):  # an erased or merged lead: nothing is kept
        record_events(session, [event], now, policy.clock_skew, queued=True)


def opened(session: Session, link: Link, machine: bool, now: datetime,
           policy: IntakePolicy) -> None:  # fmt: skip
    """``email_opened`` once per e-mail for a person, once for machines (``machine``: a
    privacy proxy or scanner fetching every image)."""
    who = "machine" if machine else "person"
    _record(session, link, "email_opened", f"mail-open:{link.message}:{who}",
            {"machine": machine}, now, policy)  # fmt: skip


def clicked(session: Session, link: Link, machine: bool, now: datetime,
            policy: IntakePolicy) -> None:  # fmt: skip
    """``email_clicked`` once per address, a scanner's visit apart (``machine``)."""
    assert link.url is not None
    target = hashlib.sha256(link.url.encode()).hexdigest()[:16]
    who = "machine" if machine else "person"
    _record(session, link, "email_clicked", f"mail-click:{link.message}:{target}:{who}",
            {"url": link.url[:1000], "machine": machine}, now, policy)  # fmt: skip


def unsubscribed(session: Session, link: Link, now: datetime, policy: IntakePolicy) -> None:
    """The person withdrew marketing e-mail with the e-mail's own link (RFC 8058)."""
    withdrawal = ConsentInput(purpose=Purpose.marketing_email, granted=False, at=now,
                              source="one-click unsubscribe")  # fmt: skip
    lead_id = surviving(session, link.lead_id)  # merged since: the person is the kept lead
    if lead_id is None:
        return
    record_consent(session, lead_id, withdrawal, "unsubscribe link", now)
    _record(session, link, "unsubscribed", f"mail-unsubscribe:{link.message}", {}, now, policy)
