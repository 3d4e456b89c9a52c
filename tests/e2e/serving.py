"""Starting ``leadq serve`` in tests: a free port, and waiting until it answers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(base: str, seconds: float, log: Path | None = None) -> None:
    """Poll ``/api/v1/health`` until it answers 200; fail the test (with the server's log,
    when there is one) if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("leadq serve did not answer" + (f": {log.read_text()}" if log else ""))
