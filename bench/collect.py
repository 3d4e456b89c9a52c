"""Tracking benchmark: hits per second ``POST /api/v1/collect`` accepts from many browsers
at once, on ``leadq serve`` (one process, ``classic`` active, the site allowed), SQLite and
PostgreSQL, three kinds of traffic:

- cookieless: page views without consent (a count per day and path);
- visitors: consenting browsers not known yet (hits kept for them);
- known: the same browsers after an ``identify`` (hits stored on their leads and queued for
  rescoring; the identify moved their earlier hits).

    python bench/collect.py                       # SQLite then PostgreSQL, 20 s per kind
    python bench/collect.py --backend postgresql --seconds 30 --clients 32

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from ingest import _database, _server

SITE = "https://www.example.com"
HEADERS = {"Origin": SITE, "Content-Type": "text/plain",
           "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"}  # fmt: skip
PATHS = ["/", "/pricing", "/blog/lead-scoring", "/docs", "/about"]


def _hits(count: int, identify: str | None = None) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    hits: list[dict[str, Any]] = [
        {"id": uuid.uuid4().hex[:16], "type": "page_view", "at": now,
         "path": PATHS[i % len(PATHS)], "title": "Page"} if i % 2 == 0 else
        {"id": uuid.uuid4().hex[:16], "type": "engaged", "at": now,
         "path": PATHS[i % len(PATHS)], "seconds": 10.0}
        for i in range(count)
    ]  # fmt: skip
    if identify:
        hits.append({"id": uuid.uuid4().hex[:16], "type": "identify", "at": now, "path": "/c",
                     "email": identify})  # fmt: skip
    return hits


async def _browser(client: httpx.AsyncClient, url: str, kind: str, until: float,
                   taken: list[int]) -> None:  # fmt: skip
    visitor = uuid.uuid4().hex if kind != "cookieless" else None
    if kind == "known":
        body = {"visitor": visitor, "consent": True,
                "events": _hits(1, f"{visitor}@bench.example")}  # fmt: skip
        await client.post(f"{url}/api/v1/collect", json=body, headers=HEADERS)
    while time.monotonic() < until:
        body = {"visitor": visitor, "consent": kind != "cookieless", "events": _hits(10)}
        reply = await client.post(f"{url}/api/v1/collect", json=body, headers=HEADERS)
        if reply.status_code == 202:
            taken.append(reply.json()["taken"])


async def _measure(url: str, kind: str, clients: int, seconds: float) -> float:
    taken: list[int] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as c:
        start = time.monotonic()
        until = start + seconds
        await asyncio.gather(*(_browser(c, url, kind, until, taken) for _ in range(clients)))
        elapsed = time.monotonic() - start
    return sum(taken) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        allowed = {"LEADQ_TRACKING_ORIGINS": SITE, "LEADQ_COLLECT_RATE": "1000000/minute"}
        with (
            _database(backend) as database_url,
            _server(database_url, 1, "classic", settings=allowed) as (url, _),
        ):
            for kind in ("cookieless", "visitors", "known"):
                rate = asyncio.run(_measure(url, kind, args.clients, args.seconds))
                print(f"{backend:10s} {kind:10s} {rate:8.0f} hits/s"
                      f" ({args.clients} browsers, batches of 10)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
