"""Liveness and readiness in one: the API answers and the database answers; and whether the
automation file in force is the one on disk."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from leadq import __version__
from leadq.api.deps import Db
from leadq.api.schemas import AutomationHealth, Health
from leadq.services.automation.document import standing

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(db: Db) -> Health | JSONResponse:
    try:
        with db.reading() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        body = Health(status="unavailable", database="unreachable", version=__version__)
        return JSONResponse(body.model_dump(), status_code=503)
    found = standing()
    automation = AutomationHealth(status=found.status, loaded_at=found.loaded_at,
                                  since=found.stale_since, reason=found.reason)  # fmt: skip
    status = "degraded" if automation.status == "stale" else "ok"
    return Health(status=status, database=db.engine.dialect.name, version=__version__,
                  automation=automation)  # fmt: skip
