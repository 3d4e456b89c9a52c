"""The one door check for the HTTP API: the path, the query string and JSON or url-encoded
bodies pass ``leadq.domain.boundary.problems`` before any route reads them. (The web UI's
pages refuse the same values with a page that says why.)

A refused request answers 422 with every offending field; a body that is not JSON at all is
left to the route, which answers 400 "malformed JSON" as before."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadq.domain.boundary import problems, text_problem
from leadq.http.errors import error_response
from leadq.services.errors import FieldError

_CHECKED_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _constant(name: str) -> float:
    """``NaN``, ``Infinity``, ``-Infinity``: not JSON, read as the non-finite number they
    spell so that the check names the field they stand in."""
    return float(name.lower().replace("infinity", "inf"))


def _pairs(encoded: bytes) -> list[tuple[str, str]]:
    """Query or form pairs; bytes that are not UTF-8 become lone surrogates, refused later."""
    return parse_qsl(encoded.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                     errors="surrogateescape")  # fmt: skip


def _pair_errors(pairs: list[tuple[str, str]], prefix: str) -> list[FieldError]:
    found = []
    for name, value in pairs:
        for field, reason in problems({name: value}):
            found.append(FieldError(f"{prefix}.{field}" if prefix else field, reason))
    return found


def _json_errors(body: bytes) -> list[FieldError]:
    try:
        data = json.loads(body, parse_constant=_constant)
    except (ValueError, RecursionError):
        return []  # not JSON: the route answers 400
    return [FieldError(field or "body", reason) for field, reason in problems(data)]


def _media_type(scope: Scope) -> str:
    header: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return header.decode("latin-1").split(";")[0].strip().lower()


async def _whole_body(receive: Receive) -> tuple[bytes, list[Message]]:
    chunks, messages = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


class InputGuard:
    """Refuse text that cannot be stored and numbers out of range, at the API's door."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)  # web pages answer the same refusals as pages
            return
        errors = []
        if reason := text_problem(scope["path"]):
            errors.append(FieldError("path", reason))
        errors += _pair_errors(_pairs(scope.get("query_string", b"")), "query")
        kind = _media_type(scope)
        body_checked = scope["method"] in _CHECKED_METHODS and (
            kind == "application/json" or kind.endswith("+json")
            or kind == "application/x-www-form-urlencoded"
        )  # fmt: skip
        if body_checked:
            try:
                body, messages = await _whole_body(receive)
            except HTTPException as exc:  # over the body limit, raised while reading
                await error_response(exc.status_code, [FieldError("body", str(exc.detail))],
                                     {"connection": "close"})(scope, receive, send)  # fmt: skip
                return
            if kind == "application/x-www-form-urlencoded":
                errors += _pair_errors(_pairs(body), "")
            else:
                errors += _json_errors(body)
            receive = _replay(messages, receive)
        if errors:
            await error_response(422, errors[:100])(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
