"""A real HTTP webhook receiver for tests: verifies signatures, fails on request, applies each
idempotency key once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from leadq.notify.webhook import KEY_HEADER, SIGNATURE_HEADER, verify


@dataclass
class Receiver:
    secret: str | None = None
    failures: int = 0  # answer 503 to this many requests first
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        time.sleep(self.delay)
        signed = headers.get(SIGNATURE_HEADER)
        verified = bool(self.secret and signed and verify(self.secret, signed, body, time.time()))
        with self.lock:
            self.requests.append({"headers": headers, "body": body, "verified": verified})
            if self.secret and not verified:
                return 401
            if len(self.requests) <= self.failures:
                return 503
            key = headers[KEY_HEADER]
            self.effects.setdefault(key, json.loads(body))  # applied once per key
            return 200


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
