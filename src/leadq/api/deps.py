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
from leadq.services.apikeys import authenticate, digest
from leadq.services.policy import IntakePolicy
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


async def api_key(
    request: Request,
    db: Annotated[Database, Depends(database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's name for the audit log (``api:<key name>``); 401 without a live key."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send an API key as 'Authorization: Bearer <key>'", challenge)
    keys: KeyCache = request.app.state.keys
    name = keys.get(credentials.credentials)
    if name is None:
        name = await run_in_threadpool(_key_name, db, credentials.credentials)
        if name is None:
            raise HTTPException(401, "unknown or revoked API key", challenge)
        keys.put(credentials.credentials, name)
    return f"api:{name}"


def _key_name(db: Database, token: str) -> str | None:
    with db.reading() as session:
        key = authenticate(session, token)
        return None if key is None else key.name


class KeyCache:
    """Keys checked in the last few seconds, so real-time intake does not pay a database
    round trip per request for them; only valid keys are kept."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._names: dict[str, tuple[str, float]] = {}

    def get(self, token: str) -> str | None:
        found = self._names.get(digest(token))
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, token: str, name: str) -> None:
        if self.seconds > 0:
            if len(self._names) > 10_000:
                self._names.clear()
            self._names[digest(token)] = (name, time.monotonic() + self.seconds)


Db = Annotated[Database, Depends(database)]
Policy = Annotated[IntakePolicy, Depends(policy)]
Now = Annotated[datetime, Depends(now)]
Actor = Annotated[str, Depends(api_key)]
