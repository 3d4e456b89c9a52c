"""``leadq consume`` against the real brokers (NATS JetStream and RabbitMQ streams, started by
``.ci/run``): every good message is stored once however often the stream is replayed or
redelivered, every bad one reaches the dead-letter subject or queue with its reason, a stopped
consumer finishes its batch and a restarted one resumes where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import nats
import pytest
from sqlalchemy import func, select

from leadq.domain.leads import LeadInput
from leadq.services.errors import Conflict
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.intake.streams import position_of
from leadq.store.db import Database
from leadq.store.tables import Event
from leadq.streams import consumer as consumer_module
from leadq.streams.consumer import Intake, Received, Source, Tally, consume
from leadq.streams.nats import JetStreamSource
from leadq.streams.rabbitmq import RabbitStreamSource
from tests.cli import invoke

NATS_URL = os.environ.get("LEADQ_TEST_NATS_URL", "nats://127.0.0.1:4222")
AMQP_URL = os.environ.get("LEADQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


needs_nats = pytest.mark.skipif(not _reachable(4222), reason="no NATS server on 127.0.0.1:4222"
                                " (.ci/run starts one)")  # fmt: skip
needs_rabbitmq = pytest.mark.skipif(not _reachable(5672), reason="no RabbitMQ on 127.0.0.1:5672"
                                    " (.ci/run starts one)")  # fmt: skip


@pytest.fixture
def leads(db: Database) -> list[int]:
    with db.unit_of_work() as session:
        return [
            upsert_lead(session, LeadInput(email=f"p{i}@firm.example"), "tests", NOW,
                        IntakePolicy()).lead.id
            for i in range(3)
        ]  # fmt: skip


def _intake(db: Database) -> Intake:
    return Intake(db, lambda: NOW, timedelta(minutes=5), queued=False)


def _event(lead_id: int, n: int, **extra: Any) -> bytes:
    body = {"lead_id": lead_id, "type": "page_view", "properties": {"n": n},
            "occurred_at": (NOW - timedelta(minutes=n)).isoformat(), **extra}  # fmt: skip
    return json.dumps(body).encode()


def _messages(leads: list[int]) -> tuple[list[bytes], dict[int, str]]:
    """Twelve good events (two with their own keys, one of them sent twice) and, by position,
    the bad messages with a word their dead-letter reason must contain."""
    good = [_event(leads[n % 3], n) for n in range(10)]
    keyed = _event(leads[0], 50, idempotency_key="crm-50")
    good += [keyed, keyed, _event(leads[1], 51, idempotency_key="crm-51")]
    bad = {
        3: (b'{"lead_id": ', "json"),
        7: (b"\xff\xfe not text", "json"),
        9: (json.dumps([1, 2]).encode(), "object"),
        11: (_event(999_999, 1), "no lead"),
        12: (_event(leads[2], 1, extra="field"), "extra"),
        14: (_event(leads[2], -60), "future"),
        15: (b"x" * 300_000, "bytes"),
    }
    messages = list(good)
    for at, (body, _) in sorted(bad.items()):
        messages.insert(at, body)
    return messages, {at: word for at, (_, word) in bad.items()}


def _events(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def _run(source: Awaitable[Source], db: Database, **options: Any) -> Tally:
    async def go() -> Tally:
        opened = await source
        try:
            return await consume(opened, _intake(db), asyncio.Event(), until_idle=True,
                                 **options)  # fmt: skip
        finally:
            await opened.close()

    return asyncio.run(go())


# --- NATS JetStream -------------------------------------------------------------------------


@pytest.fixture
def jetstream() -> Iterator[str]:
    """A stream of its own (``<prefix>.events`` and dead letters on ``<prefix>.dead``)."""
    prefix = f"t{uuid.uuid4().hex[:12]}"

    async def add() -> None:
        connection = await nats.connect(NATS_URL)
        await connection.jetstream().add_stream(name=prefix.upper(), subjects=[f"{prefix}.events"])
        await connection.close()

    async def remove() -> None:
        connection = await nats.connect(NATS_URL)
        for name in (prefix.upper(), f"{prefix.upper()}_DEAD"):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await connection.jetstream().delete_stream(name)
        await connection.close()

    asyncio.run(add())
    yield prefix
    asyncio.run(remove())


def _publish_nats(subject: str, bodies: list[bytes]) -> None:
    async def go() -> None:
        connection = await nats.connect(NATS_URL)
        for body in bodies:
            await connection.jetstream().publish(subject, body)
        await connection.close()

    asyncio.run(go())


def _dead_nats(prefix: str) -> list[tuple[int, str]]:
    """(original stream sequence, reason) of each dead letter, in order."""

    async def go() -> list[tuple[int, str]]:
        connection = await nats.connect(NATS_URL)
        js = connection.jetstream()
        sub = await js.pull_subscribe(f"{prefix}.dead", stream=f"{prefix.upper()}_DEAD")
        try:
            letters = await sub.fetch(100, timeout=2)
        except nats.errors.TimeoutError:
            letters = []
        await connection.close()
        return [(int(h["Leadq-Sequence"]), h["Leadq-Reason"]) for m in letters if (h := m.headers)]

    return asyncio.run(go())


def _open_nats(prefix: str, durable: str = "leadq", ack_wait: float = 60.0) -> Awaitable[Source]:
    return JetStreamSource.open(NATS_URL, f"{prefix}.events", durable, f"{prefix}.dead",
                                ack_wait)  # fmt: skip


@needs_nats
def test_nats_stores_each_event_once_and_dead_letters_the_rest_with_reasons(
    db: Database, leads: list[int], jetstream: str
) -> None:
    messages, bad = _messages(leads)
    _publish_nats(f"{jetstream}.events", messages)

    first = _run(_open_nats(jetstream), db, batch_size=5)

    assert (first.stored, first.duplicates, first.dead) == (12, 1, len(bad))
    assert first.batches == -(-len(messages) // 5)  # never more than a batch in hand
    dead = _dead_nats(jetstream)
    assert sorted(seq - 1 for seq, _ in dead) == sorted(bad)  # sequences count from 1
    for seq, reason in dead:
        assert bad[seq - 1] in reason.lower(), reason
    # A replay of the whole stream by a new consumer stores nothing twice.
    again = _run(_open_nats(jetstream, durable="replay"), db, batch_size=100)
    assert (again.stored, again.duplicates) == (0, 13)
    assert _events(db) == 12


class _CrashAfterStoring:
    """A source whose process dies between the commit and the acknowledgement."""

    def __init__(self, inner: Source) -> None:
        self.inner, self.name, self.keeps_offsets = inner, inner.name, inner.keeps_offsets

    async def fetch(self, limit: int, wait: float) -> list[Received]:
        return await self.inner.fetch(limit, wait)

    async def dead_letter(self, received: Received, reason: str) -> None:
        await self.inner.dead_letter(received, reason)

    async def acknowledge(self, batch: list[Received]) -> None:
        raise ConnectionResetError("killed before the acknowledgement")

    async def close(self) -> None:
        await self.inner.close()


async def _crashing(opened: Awaitable[Source]) -> Source:
    return _CrashAfterStoring(await opened)


@needs_nats
def test_nats_redelivery_after_a_crash_between_commit_and_ack_is_stored_once(
    db: Database, leads: list[int], jetstream: str
) -> None:
    _publish_nats(f"{jetstream}.events", [_event(leads[0], n) for n in range(8)])
    with pytest.raises(ConnectionResetError):
        _run(_crashing(_open_nats(jetstream, ack_wait=1.0)), db, batch_size=8)
    assert _events(db) == 8
    time.sleep(1.5)  # the server redelivers what was never acknowledged
    after = _run(_open_nats(jetstream, ack_wait=1.0), db, batch_size=8)
    assert (after.stored, after.duplicates) == (0, 8)
    assert _events(db) == 8


@needs_nats
def test_nats_dead_letter_subject_inside_the_consumed_stream_is_refused(jetstream: str) -> None:
    with pytest.raises(Conflict, match="would come back"):
        asyncio.run(JetStreamSource.open(NATS_URL, f"{jetstream}.events", "leadq",
                                         f"{jetstream}.events"))  # fmt: skip
    with pytest.raises(Conflict, match="no JetStream stream"):
        asyncio.run(JetStreamSource.open(NATS_URL, "nobody.stores.this", "leadq", "x.dead"))


@needs_nats
@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_leadq_consume_stops_gracefully_on_sigterm(
    db: Database, leads: list[int], jetstream: str, tmp_path: Any
) -> None:
    env = {**os.environ, "LEADQ_DATABASE_URL": db.url}
    subjects = ["--subject", f"{jetstream}.events", "--dead-letter", f"{jetstream}.dead"]
    command = [sys.executable, "-m", "leadq", "consume", "nats", "--wait", "0.2", *subjects]
    consumer = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        _wait_for(lambda: _consumer_listening(jetstream))
        _publish_nats(f"{jetstream}.events", [_event(leads[1], n) for n in range(20)])
        _wait_for(lambda: _events(db) == 20)
        consumer.send_signal(signal.SIGTERM)
        stdout, stderr = consumer.communicate(timeout=30)
    finally:
        consumer.kill()
    assert consumer.returncode == 0, stderr
    assert "stored 20 events, 0 already stored, 0 dead-lettered" in stdout


def _consumer_listening(prefix: str) -> bool:
    async def go() -> bool:
        connection = await nats.connect(NATS_URL)
        try:
            await connection.jetstream().consumer_info(prefix.upper(), "leadq")
            return True
        except nats.js.errors.NotFoundError:
            return False
        finally:
            await connection.close()

    return asyncio.run(go())


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# --- RabbitMQ streams -----------------------------------------------------------------------


@pytest.fixture
def rabbit_queue() -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name

    async def remove() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        for queue in (f"{name}.events", f"{name}.dead"):
            await channel.queue_delete(queue)
        await connection.close()

    asyncio.run(remove())


def _publish_rabbit(queue: str, bodies: list[bytes]) -> None:
    async def go() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "stream"})
        for body in bodies:
            await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue)
        await connection.close()

    asyncio.run(go())


def _dead_rabbit(queue: str) -> list[tuple[int, str]]:
    async def go() -> list[tuple[int, str]]:
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        dead = await channel.declare_queue(queue, durable=True)
        letters = []
        while (message := await dead.get(fail=False)) is not None:
            letters.append((int(message.headers["x-leadq-offset"]),  # type: ignore[arg-type]
                            str(message.headers["x-leadq-reason"])))  # fmt: skip
            await message.ack()
        await connection.close()
        return letters

    return asyncio.run(go())


def _open_rabbit(name: str, consumer: str, start: str | int, batch: int) -> Awaitable[Source]:
    return RabbitStreamSource.open(AMQP_URL, f"{name}.events", f"{name}.dead", consumer, start,
                                   batch)  # fmt: skip


@needs_rabbitmq
def test_rabbitmq_resumes_after_its_stored_offset_and_a_replay_stores_nothing_twice(
    db: Database, leads: list[int], rabbit_queue: str
) -> None:
    messages, bad = _messages(leads)
    _publish_rabbit(f"{rabbit_queue}.events", messages)
    consumer = f"rabbitmq:{rabbit_queue}"

    first = _run(_open_rabbit(rabbit_queue, consumer, "first", 4), db, batch_size=4)

    assert (first.stored, first.duplicates, first.dead) == (12, 1, len(bad))
    dead = _dead_rabbit(f"{rabbit_queue}.dead")
    assert sorted(offset for offset, _ in dead) == sorted(bad)
    for offset, reason in dead:
        assert bad[offset] in reason.lower(), reason
    with db.reading() as session:
        assert position_of(session, consumer) == len(messages) - 1
    # Restarted, it reads only what arrived since: nothing is fetched twice.
    _publish_rabbit(f"{rabbit_queue}.events", [_event(leads[2], n) for n in range(20, 25)])
    resumed = _run(_open_rabbit(rabbit_queue, consumer, len(messages), 4), db, batch_size=4)
    assert (resumed.stored, resumed.duplicates, resumed.dead) == (5, 0, 0)
    # A replay from the first offset by another consumer stores nothing twice.
    replay = _run(_open_rabbit(rabbit_queue, "replay", "first", 50), db, batch_size=50)
    assert (replay.stored, replay.duplicates) == (0, 18)
    assert _events(db) == 17


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["rabbitmq", "--start", "yesterday"], "--start 'yesterday': use first, next, last"),
        (
            ["rabbitmq", "--url", "amqp://guest:guest@127.0.0.1:1/", "--batch", "50"],
            "cannot reach the broker",
        ),
        (
            ["nats", "--url", "nats://127.0.0.1:1", "--batch", "50", "--connect-timeout", "0.5"],
            "cannot reach the broker: no NATS server answered at nats://127.0.0.1:1 within 0.5 s",
        ),
        (["nats", "--batch", "0"], "--batch"),
        (["nats", "--wait", "-1"], "--wait"),
        (["rabbitmq", "--batch", "5000"], "at most LEADQ_MAX_BATCH_EVENTS (100)"),
    ],
)
def test_consume_refuses_bad_options_and_unreachable_brokers_in_one_line(
    db: Database, tmp_path: Any, args: list[str], said: str
) -> None:
    env = {"LEADQ_DATABASE_URL": db.url, "LEADQ_MAX_BATCH_EVENTS": "100"}
    result = invoke(tmp_path, ["consume", *args], env)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr


@needs_rabbitmq
def test_rabbitmq_refuses_a_queue_that_is_not_a_stream(rabbit_queue: str) -> None:
    async def go() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        await (await connection.channel()).declare_queue(f"{rabbit_queue}.events", durable=True)
        await connection.close()
        await _open_rabbit(rabbit_queue, "c", "first", 10)

    with pytest.raises(Conflict, match="exists and is not a stream queue"):
        asyncio.run(go())


@needs_nats
def test_nats_refuses_a_durable_made_as_a_push_consumer(jetstream: str) -> None:
    async def go() -> None:
        connection = await nats.connect(NATS_URL)
        await connection.jetstream().add_consumer(
            jetstream.upper(), durable_name="leadq", deliver_subject="somewhere.else",
        )  # fmt: skip
        await connection.close()
        await _open_nats(jetstream)

    with pytest.raises(Conflict, match=r"'leadq' on \w+ was made as another kind of consumer"):
        asyncio.run(go())


@needs_nats
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_database_away_leaves_the_batch_unacknowledged_and_loses_nothing(
    db: Database, leads: list[int], jetstream: str, tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(consumer_module, "RETRY_PAUSES", (0.1,))
    _publish_nats(f"{jetstream}.events", [_event(leads[0], n) for n in range(3)])
    away = Database(f"sqlite:///{tmp_path}/no/such/folder/leadq.db")

    async def with_database_away() -> Tally:
        source = await _open_nats(jetstream, ack_wait=1.0)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)  # the operator stops it meanwhile
        try:
            return await consume(source, _intake(away), stop, wait=0.2)
        finally:
            await source.close()

    assert asyncio.run(with_database_away()).batches == 0
    time.sleep(1.2)  # never acknowledged: the server delivers the batch again
    back = _run(_open_nats(jetstream, ack_wait=1.0), db)
    assert (back.stored, back.duplicates) == (3, 0)


@needs_rabbitmq
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_consumer_name_longer_than_its_column_still_keeps_its_offset(
    db: Database, leads: list[int], rabbit_queue: str, tmp_path: Any
) -> None:
    _publish_rabbit(f"{rabbit_queue}.events", [_event(leads[0], n) for n in range(3)])
    queues = ["--queue", f"{rabbit_queue}.events", "--dead-letter", f"{rabbit_queue}.dead"]
    args = ["consume", "rabbitmq", *queues, "--name", "n" * 300, "--until-idle", "--wait", "0.5"]
    for stored in (3, 0):  # the second run resumes after the first one's offset
        result = invoke(tmp_path, args, {"LEADQ_DATABASE_URL": db.url})
        assert result.returncode == 0, result.stderr
        assert f"stored {stored} events, 0 already stored" in result.stdout
