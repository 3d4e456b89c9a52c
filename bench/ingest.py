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
def _server(database_url: str) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "LEADQ_DATABASE_URL": database_url}
    subprocess.run([*LEADQ, "init"], env=env, check=True, capture_output=True)
    key = subprocess.run(
        [*LEADQ, "apikey", "create", "bench"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    port = _free_port()
    process = subprocess.Popen([*LEADQ, "serve", "--port", str(port)], env=env)
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


async def _leads(client: httpx.AsyncClient, count: int) -> list[int]:
    ids = []
    for i in range(count):
        response = await client.post("/api/v1/leads", json={"email": f"bench{i}@acme.com"})
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


async def _batches(
    client: httpx.AsyncClient, leads: list[int], batches: int, concurrency: int
) -> float:
    bodies = [
        {"events": [_event(leads[(b * 1000 + i) % len(leads)], i) for i in range(1000)]}
        for b in range(batches)
    ]
    queue = list(bodies)

    async def worker() -> None:
        while queue:
            response = await client.post("/api/v1/events/batch", json=queue.pop())
            response.raise_for_status()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return batches * 1000 / (time.perf_counter() - start)


async def _singles(
    client: httpx.AsyncClient, leads: list[int], count: int, concurrency: int
) -> float:
    remaining = iter(range(count))

    async def worker() -> None:
        for i in remaining:
            response = await client.post("/api/v1/events", json=_event(leads[i % len(leads)], i))
            response.raise_for_status()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


async def _paced(
    client: httpx.AsyncClient, leads: list[int], rate: int, seconds: float
) -> tuple[list[float], float]:
    """Open loop: a request every 1/rate s whatever the answers do, so queueing shows."""
    latencies: list[float] = []

    async def one(i: int) -> None:
        start = time.perf_counter()
        response = await client.post("/api/v1/events", json=_event(leads[i % len(leads)], i))
        response.raise_for_status()
        latencies.append((time.perf_counter() - start) * 1000)

    tasks = []
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies, len(tasks) / (time.perf_counter() - begin)


async def measure(url: str, key: str, label: str, args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=120
    ) as client:
        leads = await _leads(client, args.leads)
        batch_rate = await _batches(client, leads, args.batches, args.concurrency)
        single_rate = await _singles(client, leads, args.singles, args.concurrency)
        latencies, achieved = await _paced(client, leads, args.rate, args.seconds)
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
        with _database(backend) as database_url, _server(database_url) as (url, key):
            asyncio.run(measure(url, key, backend, args))


if __name__ == "__main__":
    main()
