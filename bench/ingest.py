"""Ingest benchmark: events/s for single-event POSTs and 1,000-event batches, and single-event
latency (p50/p99) at a fixed 200 requests/s, against a running ``leadq serve``.

    python bench/ingest.py                       # starts leadq serve on SQLite, then PostgreSQL
    python bench/ingest.py --backend sqlite
    python bench/ingest.py --url http://host:8000 --key lq_…   # an already running server

Prints figures; asserts nothing (speed goals are read, not tested).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get(
    "LEADQ_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LEADQ = [sys.executable, "-m", "leadq"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"leadq_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _server(database_url: str, workers: int, model: str | None) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "LEADQ_DATABASE_URL": database_url}
    subprocess.run([*LEADQ, "init"], env=env, check=True, capture_output=True)
    if model:  # real-time rescoring on every event
        subprocess.run([*LEADQ, "model", "add", model], env=env, check=True, capture_output=True)
        subprocess.run([*LEADQ, "model", "activate", model], env=env, check=True,
                       capture_output=True)  # fmt: skip
    key = subprocess.run(
        [*LEADQ, "apikey", "create", "bench"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    port = _free_port()
    process = subprocess.Popen(
        [*LEADQ, "serve", "--port", str(port), "--workers", str(workers)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=15)


def _event(lead_id: int, i: int) -> dict[str, object]:
    when = datetime.now(UTC) - timedelta(seconds=i)
    return {
        "lead_id": lead_id,
        "type": "page_view",
        "occurred_at": when.isoformat(),
        "properties": {"path": "/pricing", "seconds": i % 300},
        "idempotency_key": f"bench-{uuid.uuid4().hex}",
    }


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator shares two
    cores with the server, so it must cost far less per request than a full client library."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: object) -> tuple[int, bytes]:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.key}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        for _ in range(2):  # the server closes idle keep-alive connections: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            self.writer.write(head + payload)
            status_line = await self.reader.readline()
            if status_line:
                break
            self.writer.close()
            self.writer = None
        assert self.reader is not None
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        status = int(status_line.split()[1])
        if status >= 400:
            raise RuntimeError(f"{path}: HTTP {status}: {data[:200]!r}")
        return status, data


async def _leads(conn: Connection, count: int) -> list[int]:
    ids = []
    for i in range(count):
        _, data = await conn.post("/api/v1/leads", {"email": f"bench{i}@acme.com"})
        ids.append(json.loads(data)["id"])
    return ids


async def _batches(conns: list[Connection], leads: list[int], batches: int) -> float:
    bodies = [  # encoded before the clock starts: the client's JSON work is not the server's
        json.dumps(
            {"events": [_event(leads[(b * 1000 + i) % len(leads)], i) for i in range(1000)]}
        ).encode()
        for b in range(batches)
    ]

    async def worker(conn: Connection) -> None:
        while bodies:
            await conn.post("/api/v1/events/batch", bodies.pop())

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return batches * 1000 / (time.perf_counter() - start)


async def _singles(conns: list[Connection], leads: list[int], count: int) -> float:
    bodies = [json.dumps(_event(leads[i % len(leads)], i)).encode() for i in range(count)]

    async def worker(conn: Connection) -> None:
        while bodies:
            await conn.post("/api/v1/events", bodies.pop())

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return count / (time.perf_counter() - start)


async def _paced(
    host: str, port: int, key: str, leads: list[int], rate: int, seconds: float
) -> tuple[list[float], float]:
    """Open loop: a request every 1/rate s whatever the answers do, so queueing shows."""
    bodies = [
        json.dumps(_event(leads[i % len(leads)], i)).encode() for i in range(int(rate * seconds))
    ]
    idle = [Connection(host, port, key) for _ in range(32)]
    latencies: list[float] = []

    async def one(body: object) -> None:
        conn = idle.pop() if idle else Connection(host, port, key)
        start = time.perf_counter()
        await conn.post("/api/v1/events", body)
        latencies.append((time.perf_counter() - start) * 1000)
        idle.append(conn)

    tasks = []
    begin = time.perf_counter()
    for i, body in enumerate(bodies):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    return latencies, len(tasks) / (time.perf_counter() - begin)


async def measure(url: str, key: str, label: str, args: argparse.Namespace) -> None:
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    conns = [Connection(host, port, key) for _ in range(args.concurrency)]
    leads = await _leads(conns[0], args.leads)
    batch_rate = await _batches(conns, leads, args.batches)
    single_rate = await _singles(conns, leads, args.singles)
    latencies, achieved = await _paced(host, port, key, leads, args.rate, args.seconds)
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"{label:<11} batches of 1,000: {batch_rate:>9,.0f} events/s | "
        f"single POSTs: {single_rate:>7,.0f} events/s | "
        f"at {achieved:.0f} req/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running leadq serve; needs --key")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="leadq serve --workers")
    parser.add_argument("--model", help="activate this scoring model first (e.g. classic)")
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--batches", type=int, default=40, help="1,000-event batches to send")
    parser.add_argument("--singles", type=int, default=3000, help="single events, closed loop")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=int, default=200, help="paced single events per second")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    if args.url:
        if not args.key:
            parser.error("--url needs --key")
        asyncio.run(measure(args.url, args.key, "server", args))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with (
            _database(backend) as database_url,
            _server(database_url, args.workers, args.model) as server,
        ):
            label = backend if args.workers == 1 else f"{backend}×{args.workers}"
            label += f"+{args.model}" if args.model else ""
            asyncio.run(measure(*server, label, args))


if __name__ == "__main__":
    main()
