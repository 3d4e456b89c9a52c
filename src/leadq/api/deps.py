"""Dependencies: the database, the clock, the intake policy and the API-key check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from leadq.config import Settings
from leadq.services.apikeys import authenticate
from leadq.services.policy import IntakePolicy
from leadq.store.db import Database

_bearer = HTTPBearer(auto_error=False, description="An API key from `leadq apikey create`")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def policy(request: Request) -> IntakePolicy:
    value: IntakePolicy = request.app.state.policy
    return value


def now() -> datetime:
    return datetime.now(UTC)


def api_key(
    db: Annotated[Database, Depends(database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's name for the audit log (``api:<key name>``); 401 without a live key."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send an API key as 'Authorization: Bearer <key>'", challenge)
    with db.reading() as session:
        key = authenticate(session, credentials.credentials)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key", challenge)
        return f"api:{key.name}"


Db = Annotated[Database, Depends(database)]
Policy = Annotated[IntakePolicy, Depends(policy)]
Now = Annotated[datetime, Depends(now)]
Actor = Annotated[str, Depends(api_key)]
