"""Messenger and telephony webhooks: no API key (the platforms cannot send one), each request
proven by the platform's own signature. Without a valid one: 401 and nothing stored."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from leadq.api.deps import Db, Now, Policy
from leadq.config import Settings
from leadq.domain import channels
from leadq.domain.channels import Inbound, PayloadError
from leadq.logs import emit
from leadq.services.intake import channels as intake
from leadq.services.intake.policy import IntakePolicy
from leadq.store.db import Database

router = APIRouter(prefix="/channels", tags=["channels"])
CHANNELS_BODY_LIMIT = 1024 * 1024


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _configured(secret: str | None, connector: str) -> str:
    if not secret:
        raise HTTPException(404, f"the {connector} connector is not configured")
    return secret


def _refused(connector: str) -> HTTPException:
    emit("channel_refused", logging.WARNING, connector=connector)
    return HTTPException(401, "the request is not signed by the platform")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise HTTPException(400, "malformed JSON") from None


async def _store(
    db: Database,
    connector: str,
    now: datetime,
    policy: IntakePolicy,
    read: Callable[[], list[Inbound]],
) -> JSONResponse:
    """Read the signed payload (a payload that does not read is kept as the connector's last
    error and refused with 422), then store it."""
    try:
        inbound = read()
    except PayloadError as exc:
        reason = str(exc)
        await run_in_threadpool(db.run, lambda s: intake.failed(s, connector, now, reason))
        raise HTTPException(422, f"{connector}: {reason}") from None

    def work(session: Session) -> intake.Received:
        return intake.receive(session, inbound, connector, now, policy)

    received = await run_in_threadpool(db.run, work)
    return JSONResponse({"received": len(inbound), "stored": received.stored})


@router.post("/telegram", responses={401: {}, 404: {}, 422: {}})
async def telegram(request: Request, db: Db, now: Now, policy: Policy) -> JSONResponse:
    """A Telegram bot's update (set the webhook with ``secret_token`` =
    ``LEADQ_TELEGRAM_SECRET``)."""
    secret = _configured(_settings(request).telegram_secret, "telegram")
    if not channels.telegram_signed(secret, request.headers.get("x-telegram-bot-api-secret-token")):
        raise _refused("telegram")
    update = _json(await request.body())
    return await _store(db, "telegram", now, policy, lambda: channels.telegram_update(update))


@router.get("/meta", response_class=PlainTextResponse, responses={403: {}, 404: {}})
async def meta_verification(
    request: Request,
    mode: Annotated[str, Query(alias="hub.mode", max_length=40)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=200)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "",
) -> PlainTextResponse:
    """Meta's subscription check: the challenge back when the verify token is ours."""
    expected = _configured(_settings(request).meta_verify_token, "meta")
    if mode != "subscribe" or not channels.telegram_signed(expected, token):
        raise HTTPException(403, "the verify token does not match")
    return PlainTextResponse(challenge)


@router.post("/meta", responses={401: {}, 404: {}, 422: {}})
async def meta(request: Request, db: Db, now: Now, policy: Policy) -> JSONResponse:
    """WhatsApp Cloud API, Messenger and Instagram notifications, signed with the app secret
    (``LEADQ_META_APP_SECRET``)."""
    secret = _configured(_settings(request).meta_app_secret, "meta")
    body = await request.body()
    if not channels.meta_signed(secret, body, request.headers.get("x-hub-signature-256")):
        raise _refused("meta")
    payload = _json(body)
    return await _store(db, "meta", now, policy, lambda: channels.meta_notification(payload))


@router.post("/calls/twilio", responses={401: {}, 404: {}, 422: {}})
async def twilio(request: Request, db: Db, now: Now, policy: Policy) -> JSONResponse:
    """A Twilio call status callback, signed with the account's auth token
    (``LEADQ_TWILIO_AUTH_TOKEN``) over the URL Twilio called (``LEADQ_PUBLIC_URL`` + path)."""
    settings = _settings(request)
    token = _configured(settings.twilio_auth_token, "twilio")
    params = await _form(request)
    url = _called_url(request, settings)
    if not channels.twilio_signed(token, url, params, request.headers.get("x-twilio-signature")):
        raise _refused("twilio")
    return await _store(db, "twilio", now, policy, lambda: channels.twilio_call(params))


@router.get("/calls/zadarma", response_class=PlainTextResponse, responses={404: {}})
async def zadarma_check(
    request: Request, echo: Annotated[str, Query(alias="zd_echo", max_length=200)] = ""
) -> PlainTextResponse:
    """Zadarma's check of the notification address: its ``zd_echo`` back."""
    _configured(_settings(request).zadarma_secret, "zadarma")
    return PlainTextResponse(echo)


@router.post("/calls/zadarma", responses={401: {}, 404: {}, 422: {}})
async def zadarma(request: Request, db: Db, now: Now, policy: Policy) -> JSONResponse:
    """Zadarma PBX call notifications, signed with the API secret (``LEADQ_ZADARMA_SECRET``)."""
    secret = _configured(_settings(request).zadarma_secret, "zadarma")
    params = await _form(request)
    if not channels.zadarma_signed(secret, params, request.headers.get("signature")):
        raise _refused("zadarma")
    return await _store(db, "zadarma", now, policy, lambda: channels.zadarma_call(params))


@router.post("/calls/generic", responses={401: {}, 404: {}, 422: {}})
async def generic(request: Request, db: Db, now: Now, policy: Policy) -> JSONResponse:
    """Any telephony that can post JSON, signed with ``LEADQ_CALLS_SECRET``."""
    secret = _configured(_settings(request).calls_secret, "calls")
    body = await request.body()
    if not channels.generic_signed(secret, body, request.headers.get("x-leadq-signature")):
        raise _refused("calls")
    payload = _json(body)
    return await _store(db, "calls", now, policy, lambda: channels.generic_call(payload))


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded callback's fields (the providers send no files)."""
    form = await request.form(max_files=0, max_fields=100)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _called_url(request: Request, settings: Settings) -> str:
    """The URL the platform signed: behind a proxy, the public one leadq is reached at."""
    if settings.public_url:
        query = f"?{request.url.query}" if request.url.query else ""
        return settings.public_url.rstrip("/") + request.url.path + query
    return str(request.url)
