"""RabbitMQ streams over AMQP 0-9-1: a stream queue read from an offset that leadq keeps with
the events it stored (AMQP keeps none for streams), dead letters sent to a durable queue."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import ChannelPreconditionFailed

from leadq.services.errors import Conflict
from leadq.services.intake.streams import Message, broker_key
from leadq.streams.consumer import Received, header_value

LINGER = 0.05
"""Seconds a started batch waits for more messages: a little latency for much less overhead."""


@dataclass
class RabbitStreamSource:
    connection: AbstractConnection
    channel: AbstractChannel
    queue: str
    dead_queue: str
    name: str
    arrived: asyncio.Queue[AbstractIncomingMessage]
    keeps_offsets = True

    @classmethod
    async def open(
        cls, url: str, queue: str, dead_queue: str, name: str, start: str | int, prefetch: int
    ) -> RabbitStreamSource:
        """Connect and read ``queue`` (declared as a stream if it does not exist) from ``start``:
        an offset, or first / next / last. At most ``prefetch`` messages are unacknowledged."""
        connection = await aio_pika.connect(url, client_properties={"connection_name": name})
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=prefetch)  # a stream consumer needs one
            try:
                stream = await channel.declare_queue(
                    queue, durable=True, arguments={"x-queue-type": "stream"}
                )
            except ChannelPreconditionFailed as exc:
                raise Conflict("queue", f"{queue!r} exists and is not a stream queue (the"
                               f" broker says: {exc}); consume a stream") from None  # fmt: skip
            await channel.declare_queue(dead_queue, durable=True)
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await stream.consume(arrived.put, arguments={"x-stream-offset": start})
        except BaseException:
            await connection.close()
            raise
        return cls(connection, channel, queue, dead_queue, name, arrived)

    async def fetch(self, limit: int, wait: float) -> list[Received]:
        """What has arrived, once the first message is here, and what arrives within ``LINGER``
        seconds more: full batches, so a backlog is stored in few transactions."""
        try:
            messages = [await asyncio.wait_for(self.arrived.get(), wait)]
        except TimeoutError:
            return []
        deadline = asyncio.get_running_loop().time() + LINGER
        while len(messages) < limit:
            if self.arrived.empty():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    messages.append(await asyncio.wait_for(self.arrived.get(), left))
                except TimeoutError:
                    break
            else:
                messages.append(self.arrived.get_nowait())
        return [self._received(m) for m in messages]

    def _received(self, message: AbstractIncomingMessage) -> Received:
        offset = int(message.headers["x-stream-offset"])  # type: ignore[arg-type]
        key = (
            broker_key("rabbitmq", self.queue, "id", message.message_id)
            if message.message_id
            else broker_key("rabbitmq", self.queue, "offset", offset)
        )
        return Received(Message(message.body, key), message, offset)

    async def dead_letter(self, received: Received, reason: str) -> None:
        message: AbstractIncomingMessage = received.handle
        headers: dict[str, Any] = {
            "x-leadq-reason": header_value(reason),
            "x-leadq-queue": self.queue,
            "x-leadq-offset": received.offset,
        }
        dead = aio_pika.Message(
            message.body, headers=headers, content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=message.message_id,
        )  # fmt: skip
        await self.channel.default_exchange.publish(dead, routing_key=self.dead_queue)

    async def acknowledge(self, batch: list[Received]) -> None:
        await batch[-1].handle.ack(multiple=True)

    async def close(self) -> None:
        await self.connection.close()
