"""People who sign in to the web UI: a username, an argon2 password hash and a role."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.i18n import LANGUAGES, supported, valid_time_zone
from leadq.services.errors import Conflict, FieldError, InvalidInput, NotFound
from leadq.services.privacy import audit
from leadq.store.tables import User


class Role(StrEnum):
    """What a person does with leads; the web UI grants actions by role."""

    admin = "admin"
    marketing = "marketing"
    manager = "manager"
    rep = "rep"


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
_hasher = PasswordHasher()
# Unknown usernames are checked against this hash too, so a wrong name costs the same time
# as a wrong password and does not tell an attacker which names exist.
_DECOY = _hasher.hash("not a password anyone has")


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        reason = (
            "1–63 characters: lower-case letters, digits, '.', '_' or '-', starting with"
            " a letter or digit"
        )
        raise InvalidInput([FieldError("username", reason)])
    return username


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise InvalidInput([FieldError("role", f"must be one of {allowed}")]) from None


def _checked_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        reason = f"must be {MIN_PASSWORD}–{MAX_PASSWORD} characters"
        raise InvalidInput([FieldError("password", reason)])
    return password


def add_user(session: Session, username: str, password: str, role: str, actor: str,
             now: datetime) -> User:  # fmt: skip
    """A new user; the password is stored only as an argon2 hash."""
    check_username(username)
    chosen = parse_role(role)
    _checked_password(password)
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise Conflict("username", f"{username!r} is taken")
    user = User(username=username, password_hash=_hasher.hash(password), role=chosen.value,
                created_at=now)  # fmt: skip
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", "user", user.id, {"role": chosen.value}, now)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The live user with this password, or None; the same work for unknown names."""
    named = USERNAME.fullmatch(username) is not None  # no such name can exist (NUL, spaces…)
    user = session.scalars(select(User).where(User.username == username)).first() if named else None
    fits = len(password) <= MAX_PASSWORD  # no password is longer; hashing a huge one is costly
    try:
        _hasher.verify(user.password_hash if user and fits else _DECOY, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and fits and user.disabled_at is None else None


def find_user(session: Session, username: str) -> User | None:
    user = session.scalars(select(User).where(User.username == username)).first()
    return user if user is not None and user.disabled_at is None else None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def lead_owners(session: Session) -> list[str]:
    """The people a lead can be given to: enabled sales reps, managers and admins, by name."""
    return [u.username for u in list_users(session) if u.disabled_at is None
            and u.role in (Role.rep, Role.manager, Role.admin)]  # fmt: skip


def _named(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("user", username)
    return user


def end_sessions(user: User) -> None:
    """Every web session the user has open stops working at its next request."""
    user.session_generation = (user.session_generation or 0) + 1


def sign_out_everywhere(session: Session, username: str) -> None:
    end_sessions(_named(session, username))


def set_password(session: Session, username: str, password: str, actor: str,
                 now: datetime) -> User:  # fmt: skip
    user = _named(session, username)
    user.password_hash = _hasher.hash(_checked_password(password))
    end_sessions(user)
    audit.record(session, actor, "user.password_set", "user", user.id, {}, now)
    return user


def set_role(session: Session, username: str, role: str, actor: str, now: datetime) -> User:
    user = _named(session, username)
    chosen = parse_role(role)
    if user.role != chosen.value:
        details = {"from": user.role, "to": chosen.value}
        user.role = chosen.value
        end_sessions(user)
        audit.record(session, actor, "user.role_changed", "user", user.id, details, now)
    return user


def disable_user(session: Session, username: str, actor: str, now: datetime) -> User:
    user = _named(session, username)
    if user.disabled_at is None:
        user.disabled_at = now
        end_sessions(user)
        audit.record(session, actor, "user.disabled", "user", user.id, {}, now)
    return user


def set_reading(session: Session, username: str, language: str | None, time_zone: str | None,
                actor: str, now: datetime) -> User:  # fmt: skip
    """The language and time zone the user reads pages in (``""`` clears one: the browser's
    language and the workspace's zone then apply; ``None`` keeps it)."""
    user = _named(session, username)
    changes: dict[str, str | None] = {}
    if language is not None:
        chosen = supported(language) if language else None
        if language and chosen is None:
            allowed = ", ".join(LANGUAGES)
            raise InvalidInput([FieldError("language", f"must be one of {allowed}")])
        changes["language"] = chosen
    if time_zone is not None:
        if time_zone and not valid_time_zone(time_zone):
            raise InvalidInput([FieldError("time_zone", "not an IANA time zone (Europe/Warsaw)")])
        changes["time_zone"] = time_zone or None
    changed = {k: v for k, v in changes.items() if getattr(user, k) != v}
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        audit.record(session, actor, "user.reading_set", "user", user.id, changed, now)
    return user
