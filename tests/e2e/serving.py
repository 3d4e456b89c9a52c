"""Starting ``leadq serve`` in tests: a free port, waiting until it answers, and the
commands that prepare its workspace."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli import LEADQ, invoke
from tests.e2e.browsing import PASSWORD


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STARTUP = 120.0
"""Seconds a server gets to answer: it answers in a few on an idle machine, but the suite runs
its workers, PostgreSQL and browsers on two cores, and a slow hour made 30 s too short."""


def wait_until_up(base: str, seconds: float = STARTUP, log: Path | None = None) -> None:
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


@contextmanager
def serving(where: Path, env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """``leadq serve`` in ``where`` with ``env`` on ``port`` (a free one if not given), until
    the block ends; its address."""
    port = port or free_port()
    process = subprocess.Popen([*LEADQ, "serve", "--port", str(port)], cwd=where,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def ran(where: Path, env: dict[str, str], *args: str) -> str:
    """``leadq ARGS`` through the real entry point in this process (a step that prepares a
    workspace; the browser tests serve it from a real process), which must succeed; its
    output."""
    done = invoke(where, list(args), env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def demo_copy(demo_database: Path, where: Path) -> dict[str, str]:
    """A copy of the demo in ``where`` (through SQLite's backup, which reads what its
    write-ahead log still holds), and the settings that serve it."""
    with closing(sqlite3.connect(demo_database)) as source, \
            closing(sqlite3.connect(where / "demo.db")) as target:  # fmt: skip
        source.backup(target)
    return {"LEADQ_DATABASE_URL": f"sqlite:///{where / 'demo.db'}", "LEADQ_TEST_PASSWORD": PASSWORD}
