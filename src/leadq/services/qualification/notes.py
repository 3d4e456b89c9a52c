"""Notes people leave on a lead card: appended with author and time, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.lookup import changeable_lead
from leadq.services.privacy import audit
from leadq.store.tables import Note

MAX_NOTE = 10_000


def add_note(session: Session, lead_id: int, body: str, author: str, now: datetime) -> Note:
    text = body.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        reason = f"must be 1–{MAX_NOTE} characters of text"
        raise InvalidInput([FieldError("body", reason)])
    changeable_lead(session, lead_id)
    note = Note(lead_id=lead_id, body=text, author=author, at=now)
    session.add(note)
    session.flush()
    audit.record(session, author, "note.added", "lead", lead_id, {"note": note.id}, now)
    return note


def notes_of(session: Session, lead_id: int) -> list[Note]:
    query = select(Note).where(Note.lead_id == lead_id).order_by(Note.at.desc(), Note.id.desc())
    return list(session.scalars(query))
