"""Dependencies: the database, the clock, the intake policy and the API-key check.

Cheap ones are ``async`` so FastAPI calls them on the event loop instead of sending each
to the thread pool; only the key lookup, which queries the database, goes there."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.config import Settings
from leadq.services.intake.policy import IntakePolicy
from leadq.services.people.access import Access
from leadq.services.people.apikeys import authenticate, digest
from leadq.services.people.users import Role
from leadq.store.db import Database

_bearer = HTTPBearer(auto_error=False, description="An API key from `leadq apikey create`")


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


async def policy(request: Request) -> IntakePolicy:
    value: IntakePolicy = request.app.state.policy
    return value


async def now() -> datetime:
    return datetime.now(UTC)


async def caller(
    request: Request,
    db: Annotated[Database, Depends(database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Access:
    """The API key's name and role; 401 without a live key."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send an API key as 'Authorization: Bearer <key>'", challenge)
    keys: KeyCache = request.app.state.keys
    found = keys.get(credentials.credentials)
    if found is None:
        found = await run_in_threadpool(_key_of, db, credentials.credentials)
        if found is None:
            raise HTTPException(401, "unknown or revoked API key", challenge)
        keys.put(credentials.credentials, found)
    return found


async def actor(access: Annotated[Access, Depends(caller)]) -> str:
    """The caller's name for the audit log (``api:<key name>``)."""
    return access.actor


def _key_of(db: Database, token: str) -> Access | None:
    with db.reading() as session:
        key = authenticate(session, token)
        return None if key is None else Access(f"api:{key.name}", Role(key.role), key.name)


class KeyCache:
    """Keys checked in the last few seconds, so real-time intake does not pay a database
    round trip per request for them; only valid keys are kept."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._keys: dict[str, tuple[Access, float]] = {}

    def get(self, token: str) -> Access | None:
        found = self._keys.get(digest(token))
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, token: str, access: Access) -> None:
        if self.seconds > 0:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest(token)] = (access, time.monotonic() + self.seconds)


Db = Annotated[Database, Depends(database)]
Policy = Annotated[IntakePolicy, Depends(policy)]
Now = Annotated[datetime, Depends(now)]
Actor = Annotated[str, Depends(actor)]
Caller = Annotated[Access, Depends(caller)]
