"""Ingest benchmark: events/s for single-event POSTs and 1,000-event batches, and single-event
latency (p50/p99) at a fixed 200 requests/s, against a running ``leadq serve``. Beside the
batches, the same rows are inserted raw (psycopg ``executemany``, or sqlite3) into a copy of the
``events`` table with the same indexes, and the time until the queued leads are rescored (the
score, grade and stage of an event visible) is read from the rescoring queue.

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
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


AUTOMATION = """
teams:
  sales: {members: [{name: anna, email: anna@example.com}, {name: jan, email: jan@example.com}]}
rules:
  - {id: route, trigger: lead_created, do: [{assign: {round_robin: sales}}]}
  - id: call_hot
    trigger: grade_changed
    when: {to: [hot]}
    do: [{task: {kind: first_touch, due_minutes: 15}}]
"""
"""Rules in force with ``--automation``: routing of new leads, a task for each hot lead."""


@contextmanager
def _server(database_url: str, workers: int, model: str | None, automation: bool = False,
            worker: bool = False,
            settings: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:  # fmt: skip
    """``leadq serve`` on a new workspace, with ``model`` active and more ``settings``
    (``LEADQ_…`` variables); its address and an API key."""
    env = {**os.environ, "LEADQ_DATABASE_URL": database_url, **(settings or {})}
    if automation:
        rules = Path(tempfile.mkdtemp()) / "automation.yaml"
        rules.write_text(AUTOMATION, encoding="utf-8")
        env["LEADQ_AUTOMATION_FILE"] = str(rules)
    subprocess.run([*LEADQ, "init"], env=env, check=True, capture_output=True)
    if model:  # real-time rescoring on every event
        subprocess.run([*LEADQ, "model", "add", model], env=env, check=True, capture_output=True)
        subprocess.run([*LEADQ, "model", "activate", model], env=env, check=True,
                       capture_output=True)  # fmt: skip
    key = subprocess.run(
        [*LEADQ, "apikey", "create", "bench"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    port = _free_port()
    log_path = Path(tempfile.mkdtemp()) / "serve.log"
    print(f"server log: {log_path}", flush=True)  # one JSON line per request: not on screen
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*LEADQ, "serve", "--port", str(port), "--workers", str(workers)], env=env,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        drainer = (subprocess.Popen([*LEADQ, "worker"], env=env, stdout=log,
                                    stderr=subprocess.STDOUT) if worker else None)  # fmt: skip
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
            for running in (process, drainer):
                if running:
                    running.terminate()
                    running.wait(timeout=15)


class QueueWatch(threading.Thread):
    """Reads the rescoring queue every 10 ms: when each accepted batch's requests were gone."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(database_url)
        self.samples: list[tuple[float, int | None, int | None]] = []
        self.done = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.done.is_set():
                low, high = conn.execute(text("SELECT min(id), max(id) FROM rescore_queue")).one()
                conn.commit()
                self.samples.append((time.perf_counter(), low, high))
                time.sleep(0.01)

    def delays(self, accepted: list[float]) -> list[float]:
        """Seconds from each acceptance until every request queued by then was drained."""
        delays = []
        for at in accepted:
            after = [s for s in self.samples if s[0] >= at]
            if not after:
                continue
            target = after[0][2]
            gone = next((t for t, low, _ in after if low is None or target is None or low > target),
                        None)  # fmt: skip
            if gone is not None:
                delays.append(gone - at)
        return delays


def _raw_insert(database_url: str, leads: list[int], batches: int) -> float:
    """Rows/s of a plain insert of the batches' rows into a copy of ``events`` (same indexes)."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = [
        (leads[(b * 1000 + i) % len(leads)], "page_view", now - timedelta(seconds=i), now,
         json.dumps({"path": "/pricing", "seconds": i % 300}), None, f"raw-{uuid.uuid4().hex}")
        for b in range(batches) for i in range(1000)
    ]  # fmt: skip
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE TABLE events_raw (LIKE events INCLUDING ALL)"))
        else:
            schema = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'events'"))
            conn.execute(text(schema.scalar_one().replace("events", "events_raw", 1)))
    insert = ("INSERT INTO events_raw (lead_id, type, occurred_at, received_at, properties,"
              " channel, idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, %s)")  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            insert = insert.replace("%s", "?")
            rows = [(*r[:2], r[2].isoformat(), r[3].isoformat(), *r[4:]) for r in rows]
        start = time.perf_counter()
        for b in range(batches):  # one transaction per batch, as intake commits one per request
            cursor.executemany(insert, rows[b * 1000 : (b + 1) * 1000])
            raw.commit()
        return len(rows) / (time.perf_counter() - start)
    finally:
        raw.close()
        engine.dispose()


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


async def _batches(conns: list[Connection], leads: list[int], batches: int,
                   accepted: list[float]) -> float:  # fmt: skip
    bodies = [  # encoded before the clock starts: the client's JSON work is not the server's
        json.dumps(
            {"events": [_event(leads[(b * 1000 + i) % len(leads)], i) for i in range(1000)]}
        ).encode()
        for b in range(batches)
    ]

    async def worker(conn: Connection) -> None:
        while bodies:
            await conn.post("/api/v1/events/batch", bodies.pop())
            accepted.append(time.perf_counter())

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


async def measure(url: str, key: str, label: str, args: argparse.Namespace,
                  database_url: str | None = None) -> None:  # fmt: skip
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    conns = [Connection(host, port, key) for _ in range(args.concurrency)]
    leads = await _leads(conns[0], args.leads)
    watch = QueueWatch(database_url) if database_url else None
    if watch:
        watch.start()
    accepted: list[float] = []
    batch_rate = await _batches(conns, leads, args.batches, accepted)
    if watch and database_url:
        await asyncio.sleep(5)  # let the drainers finish
        watch.done.set()
        watch.join()
        delays = watch.delays(accepted)
        raw = _raw_insert(database_url, leads, args.batches)
        print(f"{label:<11} batches of 1,000: {batch_rate:,.0f} events/s, raw insert of the same"
              f" rows {raw:,.0f} rows/s: ratio {batch_rate / raw:.2f}; rescored within"
              f" p50 {statistics.median(delays):.2f} s, p99"
              f" {statistics.quantiles(delays, n=100)[98]:.2f} s, max {max(delays):.2f} s"
              f" ({len(delays)} batches)", flush=True)  # fmt: skip
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
    parser.add_argument("--automation", action="store_true", help="put automation rules in force")
    parser.add_argument("--worker", action="store_true",
                        help="run leadq worker beside the server (a second drainer)")  # fmt: skip
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
            _server(database_url, args.workers, args.model, args.automation, args.worker) as server,
        ):
            label = backend if args.workers == 1 else f"{backend}×{args.workers}"
            label += f"+{args.model}" if args.model else ""
            asyncio.run(measure(*server, label, args, database_url))


if __name__ == "__main__":
    main()
