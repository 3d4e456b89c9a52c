"""The FastAPI application: routers under /api/v1, errors and limits installed once."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import BaseRoute

from leadq import __version__
from leadq.api import docs
from leadq.api.deps import KeyCache
from leadq.api.limits import BodyLimit
from leadq.api.permissions import API_PREFIX, authorize
from leadq.api.requestlog import RequestLog
from leadq.api.routers import (
    analytics,
    audit,
    automation,
    channels,
    collect,
    consents,
    duplicates,
    events,
    forms,
    health,
    imports,
    leads,
    mail,
    models,
    predictive,
    privacy,
    qualification,
)  # fmt: skip
from leadq.config import Settings, get_settings
from leadq.http import errors
from leadq.http.boundary import InputGuard
from leadq.http.throttle import Throttle
from leadq.services.automation.document import check_at_start
from leadq.services.intake.policy import IntakePolicy
from leadq.services.intake.webforms import load_forms
from leadq.services.qualification.rules import load_rules
from leadq.services.scoring.queue import Drainer
from leadq.store.db import Database
from leadq.web import app as web


@asynccontextmanager
async def _draining(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, a thread of its own rescores the leads intake queued."""
    drainer = Drainer(app.state.db, lambda: datetime.now(UTC))
    drainer.start()
    try:
        yield
    finally:
        drainer.stop()


@functools.cache
def _api_routes() -> tuple[BaseRoute, ...]:
    """The API's routes, shared by every app of the process: FastAPI works an included
    router's routes out (parameters, bodies, answers) at its first request, once per include,
    and a process making many apps (the test suite makes one a test) paid 0.08 s an app."""
    api = APIRouter()
    for public in (health, forms, collect, channels):
        api.include_router(public.router, prefix=API_PREFIX)
    api.include_router(collect.script)
    api.include_router(mail.router)
    for module in (leads, duplicates, imports, events, models, qualification, predictive,
                   automation, analytics, consents, privacy, audit):  # fmt: skip
        api.include_router(module.router, prefix=API_PREFIX, dependencies=[Depends(authorize)])
    return tuple(api.routes)


def serve_app() -> FastAPI:
    """The app ``leadq serve`` runs: with queued intake scoring, it drains the queue too."""
    return create_app(drain=get_settings().intake_scoring == "queued")


def create_app(settings: Settings | None = None, db: Database | None = None,
               drain: bool = False) -> FastAPI:  # fmt: skip
    """An app bound to one database; the schema must exist (``leadq init``)."""
    settings = settings or get_settings()
    app = FastAPI(title="leadq", version=__version__, docs_url=None, redoc_url=None,
                  description="Lead qualification and lead scoring API.",
                  lifespan=_draining if drain else None)  # fmt: skip
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.policy = IntakePolicy.from_settings(settings)
    app.state.forms = load_forms(settings.forms_file)
    app.state.rules = load_rules(settings.lifecycle_file, settings.frameworks_dir)
    check_at_start()  # a broken file later leaves this one in force
    app.state.keys = KeyCache(settings.api_key_cache_seconds)
    app.state.login_throttle = Throttle(settings.login_rate)
    app.state.form_throttle = Throttle(settings.form_rate)
    app.state.collect_throttle = Throttle(settings.collect_rate)
    errors.install(app)
    docs.install(app)
    app.router.routes.extend(_api_routes())
    web.install(app, settings, app.state.db)
    app.add_middleware(
        InputGuard, prefix=API_PREFIX
    )  # inside BodyLimit: it reads only bodies within the limit
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        prefixes={
            f"{API_PREFIX}/forms/": forms.FORM_BODY_LIMIT,
            f"{API_PREFIX}/collect": collect.COLLECT_BODY_LIMIT,
            f"{API_PREFIX}/channels/": channels.CHANNELS_BODY_LIMIT,
            f"{API_PREFIX}/analytics/costs": analytics.COSTS_BODY_LIMIT,
            f"{API_PREFIX}/imports": imports.BODY_LIMIT,
            "/imports": imports.BODY_LIMIT,
        },
    )
    app.add_middleware(RequestLog)
    return app
