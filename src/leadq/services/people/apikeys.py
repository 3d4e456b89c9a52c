"""API keys: shown once at creation, stored only as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.services.errors import FieldError, InvalidInput, NotFound
from leadq.services.people.users import Role, parse_role
from leadq.services.privacy import audit
from leadq.store.tables import ApiKey

KEY_PREFIX = "lq_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(session: Session, name: str, now: datetime,
               role: str = Role.admin) -> tuple[str, ApiKey]:  # fmt: skip
    """A new key acting with ``role``; a rep's key acts for the rep its name gives (the
    leads' ``owner``). The plain token is returned here and never again."""
    name = name.strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise InvalidInput([FieldError("name", "must be 1–100 characters")])
    chosen = parse_role(role)
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=token[:10], key_hash=digest(token), created_at=now,
                 role=chosen.value)  # fmt: skip
    session.add(key)
    session.flush()
    details = {"name": name, "role": chosen.value}
    audit.record(session, "cli", "apikey.created", "api_key", key.id, details, now)
    return token, key


def authenticate(session: Session, token: str) -> ApiKey | None:
    """The live key this token is, or None; constant work whatever the token."""
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest(token))).first()
    return key if key is not None and key.revoked_at is None else None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int, now: datetime) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("api key", key_id)
    if key.revoked_at is None:
        key.revoked_at = now
        audit.record(session, "cli", "apikey.revoked", "api_key", key.id, {"name": key.name}, now)
    return key
