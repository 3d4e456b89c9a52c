"""The monitored inbox: read the IMAP folder, turn each message into what it is for leads, and
move it to the done folder.

- A person's message: the sender becomes a lead or merges into theirs (``email_received``); a
  reply to a message leadq sent (``In-Reply-To`` or ``References`` naming ``<key@leadq>``) is
  ``email_replied`` on the lead that message was about.
- An automatic reply (RFC 3834) creates nothing.
- A delivery status notification records ``email_bounced`` on the lead of each failed address.

A message is stored in its own transaction, then moved; each event's key is the message's own
id, so a message read again after a crash between the two is stored once.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.config import Settings
from leadq.domain.events import EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.mail_inbox import Mail, read_mail
from leadq.services.errors import InvalidInput, LeadqError
from leadq.services.intake.channels import failed, succeeded
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database
from leadq.store.tables import Lead, OutboxMessage

CONNECTOR = "imap"
TIMEOUT = 30.0


class MailboxError(LeadqError):
    """The inbox cannot be read: not configured, unreachable, or the login refused."""


@dataclass
class Polled:
    read: int = 0
    messages: int = 0
    replies: int = 0
    automatic: int = 0
    bounces: int = 0


def poll(db: Database, settings: Settings, now: datetime, policy: IntakePolicy) -> Polled:
    """One pass over the folder: every message in it is new (handled ones were moved)."""
    found = Polled()
    try:
        with _connected(settings) as imap:
            uids = _uids(imap)
            if uids:
                imap.create(_quoted(settings.imap_done_folder))  # refused if it exists: fine
            for uid in uids:
                raw = _fetch(imap, uid)
                if raw is None:
                    continue
                _store(db, read_mail(raw), now, policy, found)
                found.read += 1
                _move(imap, uid, settings.imap_done_folder)
    except (OSError, imaplib.IMAP4.error) as exc:
        reason = f"{type(exc).__name__}: {exc}"[:300]
        db.run(lambda s: failed(s, CONNECTOR, now, reason))
        raise MailboxError(f"the inbox {settings.imap_host}: {reason}") from None
    db.run(lambda s: succeeded(s, CONNECTOR, now))
    return found


def _store(db: Database, mail: Mail, now: datetime, policy: IntakePolicy, found: Polled) -> None:
    db.run(lambda session: _apply(session, mail, now, policy, found))


def check(settings: Settings) -> None:
    """The inbox answers: signed in and its folder opened, nothing read (a settings page's
    test); ``MailboxError`` says why not."""
    try:
        with _connected(settings):
            pass
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"the inbox {settings.imap_host}: {type(exc).__name__}: {exc}") from None


@contextmanager
def _connected(settings: Settings) -> Iterator[imaplib.IMAP4]:
    if not settings.imap_host or not settings.imap_user or settings.imap_password is None:
        raise MailboxError("set LEADQ_IMAP_HOST, LEADQ_IMAP_USER and LEADQ_IMAP_PASSWORD")
    context = ssl.create_default_context()
    if settings.imap_tls == "ssl":
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            settings.imap_host, settings.imap_port, ssl_context=context, timeout=TIMEOUT
        )
    else:
        imap = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=TIMEOUT)
        if settings.imap_tls == "starttls":
            imap.starttls(context)
    try:
        imap.login(settings.imap_user, settings.imap_password)
        status, _ = imap.select(_quoted(settings.imap_folder))
        if status != "OK":
            raise MailboxError(f"no folder {settings.imap_folder!r} in the inbox")
        yield imap
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\") + '"'


def _uids(imap: imaplib.IMAP4) -> list[bytes]:
    status, data = imap.uid("SEARCH", "ALL")
    return data[0].split() if status == "OK" and data and data[0] else []


def _fetch(imap: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    for part in data if status == "OK" else []:
        if isinstance(part, tuple) and len(part) == 2:
            return bytes(part[1])
    return None


def _move(imap: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    status, _ = imap.uid("MOVE", uid.decode(), _quoted(folder))
    if status != "OK":  # a server without MOVE (RFC 6851): copy, mark deleted, expunge
        imap.uid("COPY", uid.decode(), _quoted(folder))
        imap.uid("STORE", uid.decode(), "+FLAGS", "(\\Deleted)")
        imap.expunge()


def _apply(
    session: Session, mail: Mail, now: datetime, policy: IntakePolicy, found: Polled
) -> None:
    at = min(mail.sent_at or now, now)
    if mail.kind == "auto_reply":
        found.automatic += 1
        return
    if mail.kind == "bounce":
        found.bounces += 1
        leads = session.scalars(select(Lead.id).where(Lead.email.in_(mail.bounced))).all()
        _record(
            session,
            [
                EventInput(
                    lead_id=lead_id,
                    type="email_bounced",
                    occurred_at=at,
                    channel="email",
                    idempotency_key=f"mail:{mail.key}:{lead_id}",
                )
                for lead_id in leads
            ],
            now,
            policy,
        )
        return
    lead_id = _replied_lead(session, mail.replies_to)
    kind = "email_replied" if lead_id is not None else "email_received"
    if lead_id is None:
        lead_id = _sender_lead(session, mail, now, policy)
        if lead_id is None:
            return
    found.messages += 1
    found.replies += kind == "email_replied"
    properties = {"subject": mail.subject} if mail.subject else {}
    _record(
        session,
        [
            EventInput(
                lead_id=lead_id,
                type=kind,
                occurred_at=at,
                channel="email",
                properties=properties,
                idempotency_key=f"mail:{mail.key}",
            )
        ],
        now,
        policy,
    )


def _record(
    session: Session, events: list[EventInput], now: datetime, policy: IntakePolicy
) -> None:
    if events:
        record_events(session, events, now, policy.clock_skew)


def _replied_lead(session: Session, keys: list[str]) -> int | None:
    """The lead of the message leadq sent that this one answers."""
    if not keys:
        return None
    rows = session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.lead_id).where(
            OutboxMessage.idempotency_key.in_(keys)
        )
    ).all()
    sent = {key: lead_id for key, lead_id in rows if lead_id is not None}
    return next((sent[key] for key in keys if key in sent), None)


def _sender_lead(session: Session, mail: Mail, now: datetime, policy: IntakePolicy) -> int | None:
    if not mail.sender:
        return None
    first, _, last = (mail.sender_name or "").partition(" ")
    try:
        arrival = LeadInput.model_validate(
            {
                "email": mail.sender,
                "first_name": first or None,
                "last_name": last or None,
                "phone": mail.phone,
                "source": "email",
            }
        )
    except ValueError:
        return None  # an address that is not one: nobody to file it under
    try:
        return upsert_lead(session, arrival, f"channel:{CONNECTOR}", now, policy).lead.id
    except InvalidInput:
        return None
