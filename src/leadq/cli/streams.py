"""``leadq consume``: events from NATS JetStream or a RabbitMQ stream into intake, until stopped."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import typer

from leadq.cli.support import UserError, database, err, out
from leadq.cli.support import now as _now
from leadq.config import get_settings
from leadq.services.intake.streams import broker_key, position_of
from leadq.store.db import Database
from leadq.streams.consumer import Intake, Source, Tally, consume

consume_app = typer.Typer(
    help="Read events from NATS JetStream or a RabbitMQ stream into intake, until stopped.",
    no_args_is_help=True,
)
"""Each message is one event, as in ``POST /events``; a refused one goes to the dead-letter
subject or queue with the reason."""

Batch = Annotated[int, typer.Option(min=1, max=10_000, help="Messages stored per transaction")]
Wait = Annotated[
    float, typer.Option(min=0.05, max=60, help="Seconds a fetch waits for the first message")
]
UntilIdle = Annotated[
    bool, typer.Option(help="Exit when the broker has nothing more (a backfill or a replay)")
]
Subject = Annotated[str, typer.Option(help="Subject (or filter) of the events")]
Durable = Annotated[str, typer.Option(help="Durable consumer name: where reading resumes")]
ConnectTimeout = Annotated[
    float, typer.Option(min=0.1, max=600, help="Seconds to wait for the server at start")
]
AmqpUrl = Annotated[str, typer.Option(envvar="LEADQ_AMQP_URL")]
Start = Annotated[
    str,
    typer.Option(
        help="Where a consumer with no stored offset starts: first, next, last or an offset"
    ),
]
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


@consume_app.command("nats")
def consume_nats(
    url: Annotated[str, typer.Option(envvar="LEADQ_NATS_URL")] = "nats://127.0.0.1:4222",
    subject: Subject = "leadq.events",
    durable: Durable = "leadq",
    dead_letter: Annotated[str, typer.Option(help="Subject for refused messages")] = "leadq.dead",
    connect_timeout: ConnectTimeout = 10.0,
    batch: Batch = 500,
    wait: Wait = 1.0,
    until_idle: UntilIdle = False,
) -> None:
    """From a NATS JetStream stream, through a durable pull consumer."""
    from leadq.streams.nats import JetStreamSource

    source = lambda: JetStreamSource.open(  # noqa: E731
        url, subject, durable, dead_letter, connect_within=connect_timeout
    )
    _run(database(), source, batch, wait, until_idle)


@consume_app.command("rabbitmq")
def consume_rabbitmq(
    url: AmqpUrl = RABBITMQ,
    queue: Annotated[str, typer.Option(help="Stream queue of the events")] = "leadq.events",
    dead_letter: Annotated[str, typer.Option(help="Queue for refused messages")] = "leadq.dead",
    name: Annotated[str | None, typer.Option(help="Consumer name: where reading resumes")] = None,
    start: Start = "first",
    batch: Batch = 500,
    wait: Wait = 1.0,
    until_idle: UntilIdle = False,
) -> None:
    """From a RabbitMQ stream queue; the offset is kept with the events, so a restart resumes
    after the last message stored."""
    from leadq.streams.rabbitmq import RabbitStreamSource

    db = database()
    consumer = broker_key(name) if name else broker_key("rabbitmq", queue)  # fits its column
    offset = _start(db, consumer, start)
    _run(db, lambda: RabbitStreamSource.open(url, queue, dead_letter, consumer, offset, batch),
         batch, wait, until_idle)  # fmt: skip


def _start(db: Database, consumer: str, given: str) -> str | int:
    """Resume after the stored offset; the ``--start`` option only for a new consumer."""
    with db.reading() as session:
        stored = position_of(session, consumer)
    if stored is not None:
        return stored + 1
    if given in ("first", "next", "last"):
        return given
    if given.isdigit():
        return int(given)
    raise UserError(f"--start {given!r}: use first, next, last or an offset (a whole number)")


def _run(db: Database, open_source: Callable[[], Awaitable[Source]], batch: int, wait: float,
         until_idle: bool) -> None:  # fmt: skip
    settings = get_settings()
    if batch > settings.max_batch_events:
        raise UserError(f"--batch {batch}: at most LEADQ_MAX_BATCH_EVENTS"
                        f" ({settings.max_batch_events})")  # fmt: skip
    intake = Intake(db, _now, timedelta(seconds=settings.clock_skew_seconds),
                    settings.intake_scoring == "queued")  # fmt: skip
    tally = asyncio.run(_consume(open_source, intake, batch, wait, until_idle))
    out.print(f"stored {tally.stored} events, {tally.duplicates} already stored, {tally.dead}"
              f" dead-lettered, in {tally.batches} batches")  # fmt: skip


async def _consume(open_source: Callable[[], Awaitable[Source]], intake: Intake, batch: int,
                   wait: float, until_idle: bool) -> Tally:  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # finish the batch in hand, then leave
        loop.add_signal_handler(signum, stop.set)
    try:
        source = await open_source()
    except OSError as exc:
        raise UserError(f"cannot reach the broker: {exc}") from None
    err.print(f"consuming as {source.name}; Ctrl+C (or SIGTERM) stops after the batch in hand")
    try:
        return await consume(source, intake, stop, batch, wait, until_idle)
    finally:
        await source.close()
