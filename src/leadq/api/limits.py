"""Request body limits, enforced before a handler reads a byte more than allowed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body over {limit} bytes")


class BodyLimit:
    """Refuse bodies over a size limit with 413: by Content-Length at once, and by counting
    when a client streams without one. ``prefixes`` set tighter limits for some paths."""

    def __init__(self, app: ASGIApp, default: int, prefixes: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.prefixes = prefixes

    def _limit(self, path: str) -> int:
        return next((n for p, n in self.prefixes.items() if path.startswith(p)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
            return message

        await self.app(scope, counted, send)


async def _send_413(send: Send, limit: int) -> None:
    body = (
        b'{"error":"too_large","errors":[{"field":"body","reason":"request body over '
        + str(limit).encode()
        + b' bytes"}]}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
