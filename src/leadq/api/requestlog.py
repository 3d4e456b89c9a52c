"""A request id on every request and response, one log line per request, and a JSON answer
with that id for an error nobody foresaw (the server's own would be plain text without it)."""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadq.http.errors import error_response
from leadq.logs import REQUEST_ID, emit, log
from leadq.services.errors import FieldError

HEADER = b"x-request-id"
SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
INTERNAL = "internal error: the request id in X-Request-ID finds it in the server log"


class RequestLog:
    """Takes the caller's ``X-Request-ID`` when it is a plain token (so ids can be followed
    across services), else makes one; logs method, path without query, status and time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"")
        request_id = given.decode() if SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started, status, status_sent = time.perf_counter(), 500, False

        async def tagged(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception:
            if status_sent:
                raise  # the answer is under way: the server can only drop the connection
            log.error("unhandled_error", exc_info=True, extra={"fields": {"path": scope["path"]}})
            await error_response(500, [FieldError("request", INTERNAL)])(scope, receive, tagged)
        finally:
            emit("request", method=scope["method"], path=scope["path"], status=status,
                 ms=round((time.perf_counter() - started) * 1000, 1))  # fmt: skip
            REQUEST_ID.reset(token)
