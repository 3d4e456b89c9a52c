"""Every error leaves as ``{"error": kind, "errors": [{"field", "reason"}]}`` — one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from leadq.services.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    LeadqError,
    NotFound,
    ServerConfigError,
)

HTTP_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
SERVER_CONFIG = "a configuration file on the server cannot be used; the operator's log says why"


def error_response(
    status: int, errors: Sequence[FieldError], headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "error": HTTP_KINDS.get(status, "error"),
        "errors": [{"field": e.field, "reason": e.reason} for e in errors],
    }
    return JSONResponse(body, status_code=status, headers=headers)


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "events", 3, "occurred_at")`` → ``events[3].occurred_at``."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "body")


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e["type"] == "json_invalid" for e in errors):
        return error_response(400, [FieldError("body", "malformed JSON")])
    found = [FieldError(field_name(e["loc"]), _reason(e)) for e in errors[:100]]
    return error_response(422, found)


def _reason(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return str(error["msg"]).removeprefix("Value error, ")


def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return error_response(400, [FieldError("body", "malformed JSON")])
    return error_response(
        exc.status_code,
        [FieldError("request", str(exc.detail))],
        headers=getattr(exc, "headers", None),
    )


def _leadq_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        return error_response(422, exc.errors)
    if isinstance(exc, NotFound):
        field = f"{exc.what}_id" if isinstance(exc.key, int) else exc.what.replace(" ", "_")
        return error_response(404, [FieldError(field, str(exc))])
    if isinstance(exc, Conflict):
        return error_response(409, [exc.error])
    if isinstance(exc, ServerConfigError):
        return error_response(503, [FieldError("server", SERVER_CONFIG)])
    return error_response(400, [FieldError("request", str(exc))])


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(LeadqError, _leadq_error)
