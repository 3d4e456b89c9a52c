"""Stream consumer benchmark: events/s that ``leadq consume`` stores from NATS JetStream and from
a RabbitMQ stream (each message one event of the types ``classic`` counts, for 500 leads), then
the rate of a full replay of the same stream by a new consumer (every message a duplicate).

    python bench/consume.py                    # PostgreSQL, 50,000 events per broker
    python bench/consume.py --backend sqlite --events 20000

Rescoring is left to the queue as in ``leadq serve``'s default (``LEADQ_INTAKE_SCORING=queued``).
Needs the brokers on 127.0.0.1 (4222, 5672). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import aio_pika
import nats

from ingest import _database, _event
from leadq.domain.leads import LeadInput
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.streams.consumer import Intake, Source, Tally, consume
from leadq.streams.nats import JetStreamSource
from leadq.streams.rabbitmq import RabbitStreamSource

NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _workspace(url: str, leads: int) -> list[int]:
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        ids = [upsert_lead(session, LeadInput(email=f"b{i}@firm.example"), "bench", now,
                           IntakePolicy()).lead.id for i in range(leads)]  # fmt: skip
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic.yaml", now).name, now)
    db.dispose()
    return ids


def _bodies(leads: list[int], count: int) -> list[bytes]:
    return [json.dumps(_event(leads[i % len(leads)], i)).encode() for i in range(count)]


async def _nats_publish(subject: str, stream: str, bodies: list[bytes]) -> None:
    connection = await nats.connect(NATS_URL)
    js = connection.jetstream()
    await js.add_stream(name=stream, subjects=[subject])
    for start in range(0, len(bodies), 1000):  # published in flight, a thousand at a time
        await asyncio.gather(*(js.publish(subject, b) for b in bodies[start : start + 1000]))
    await connection.close()


async def _rabbit_publish(queue: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "stream"})
    for start in range(0, len(bodies), 1000):
        await asyncio.gather(*(channel.default_exchange.publish(aio_pika.Message(b), queue)
                               for b in bodies[start : start + 1000]))  # fmt: skip
    await connection.close()


def _timed(url: str, source: Callable[[], Awaitable[Source]], batch: int) -> tuple[Tally, float]:
    intake = Intake(Database(url), lambda: datetime.now(UTC), timedelta(minutes=5), queued=True)

    async def go() -> Tally:
        opened = await source()
        try:
            return await consume(opened, intake, asyncio.Event(), batch, 0.5, until_idle=True)
        finally:
            await opened.close()

    started = time.perf_counter()
    tally = asyncio.run(go())
    return tally, time.perf_counter() - started


def _line(what: str, tally: Tally, seconds: float) -> None:
    handled = tally.stored + tally.duplicates
    rate = handled / seconds
    counts = f"stored {tally.stored}, duplicates {tally.duplicates}"
    print(f"  {what:<24} {handled:>7} messages in {seconds:6.1f} s: {rate:7.0f}/s in"
          f" {tally.batches} batches ({counts})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with _database(args.backend) as url:
        leads = _workspace(url, 500)
        bodies = _bodies(leads, args.events)
        tag = uuid.uuid4().hex[:8]
        print(f"{args.backend}, {args.events} events, batches of {args.batch}, classic active")

        subject, stream = f"bench{tag}.events", f"BENCH{tag}"
        asyncio.run(_nats_publish(subject, stream, bodies))
        dead = f"bench{tag}.dead"
        for durable, what in (("first", "NATS JetStream"), ("replay", "NATS JetStream replay")):
            nats_source = partial(JetStreamSource.open, NATS_URL, subject, durable, dead)
            _line(what, *_timed(url, nats_source, args.batch))

        queue = f"bench{tag}.events"
        asyncio.run(_rabbit_publish(queue, _bodies(leads, args.events)))  # keys of their own
        for name, what in (("first", "RabbitMQ stream"), ("replay", "RabbitMQ stream replay")):
            rabbit_source = partial(RabbitStreamSource.open, AMQP_URL, queue, f"bench{tag}.dead",
                                    name, "first", args.batch)  # fmt: skip
            _line(what, *_timed(url, rabbit_source, args.batch))
        asyncio.run(_cleanup(stream, queue, f"bench{tag}.dead"))


async def _cleanup(stream: str, queue: str, dead: str) -> None:
    connection = await nats.connect(NATS_URL)
    for name in (stream, f"{stream}_DEAD"):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await connection.jetstream().delete_stream(name)
    await connection.close()
    amqp = await aio_pika.connect(AMQP_URL)
    channel = await amqp.channel()
    for name in (queue, dead):
        await channel.queue_delete(name)
    await amqp.close()


if __name__ == "__main__":
    main()
