"""NATS JetStream: a durable pull consumer (the server keeps its acknowledgements), dead letters
published to a subject that a stream stores."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError, NotFoundError

from leadq.services.errors import Conflict
from leadq.services.intake.streams import Message, broker_key
from leadq.streams.consumer import Received, header_value

_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class JetStreamSource:
    connection: Any
    jetstream: JetStreamContext
    subscription: Any
    stream: str
    dead_subject: str
    name: str
    keeps_offsets = False

    @classmethod
    async def open(
        cls,
        url: str,
        subject: str,
        durable: str,
        dead_subject: str,
        ack_wait: float = 60.0,
        connect_within: float = 10.0,
    ) -> JetStreamSource:
        """Connect, find the stream that stores ``subject``, and make sure dead letters are
        stored by another one (created as ``<stream>_DEAD`` when none stores them). Once
        connected, a lost server is reconnected to for as long as it takes."""
        try:
            connection = await asyncio.wait_for(
                nats.connect(url, name="leadq consume", max_reconnect_attempts=-1),
                connect_within,
            )
        except (TimeoutError, NatsError) as exc:
            raise ConnectionError(f"no NATS server answered at {url} within"
                                  f" {connect_within:g} s") from exc  # fmt: skip
        jetstream = connection.jetstream()
        try:
            stream = await _stream_of(jetstream, subject, "subject")
            await _dead_letter_stream(jetstream, stream, dead_subject)
            subscription = await _subscribe(jetstream, subject, durable, stream, ack_wait)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, jetstream, subscription, stream, dead_subject, f"nats:{durable}")

    async def fetch(self, limit: int, wait: float) -> list[Received]:
        try:
            messages = await self.subscription.fetch(limit, timeout=wait)
        except TimeoutError:  # nats.errors.TimeoutError, or asyncio's from a pull under load
            return []
        return [Received(Message(m.data, self._key(m)), m) for m in messages]

    def _key(self, message: Any) -> str:
        """The publisher's ``Nats-Msg-Id`` when it set one, else the stream sequence: both
        survive a redelivery and a replay of the stream."""
        given = (message.headers or {}).get("Nats-Msg-Id")
        if given:
            return broker_key("nats", self.stream, "id", given)
        return broker_key("nats", self.stream, "seq", message.metadata.sequence.stream)

    async def dead_letter(self, received: Received, reason: str) -> None:
        message = received.handle
        headers = {
            "Leadq-Reason": header_value(reason),
            "Leadq-Subject": message.subject,
            "Leadq-Stream": self.stream,
            "Leadq-Sequence": str(message.metadata.sequence.stream),
        }
        await self.jetstream.publish(self.dead_subject, message.data, headers=headers)

    async def acknowledge(self, batch: list[Received]) -> None:
        """One acknowledgement for the batch: the consumer's policy is "all up to this one"."""
        await batch[-1].handle.ack_sync()

    async def close(self) -> None:
        await self.connection.close()  # acknowledgements were flushed with each batch


async def _subscribe(
    jetstream: JetStreamContext, subject: str, durable: str, stream: str, ack_wait: float
) -> Any:
    """A durable pull consumer acknowledging "all up to this one"; one of that name made
    otherwise (a push consumer, another acknowledgement policy) is refused, not changed."""
    try:
        made = (await jetstream.consumer_info(stream, durable)).config
    except NotFoundError:
        made = None
    if made is not None and (made.deliver_subject or made.ack_policy != AckPolicy.ALL):
        raise Conflict("durable", f"{durable!r} on {stream} was made as another kind of"
                       " consumer (push, or another ack policy): choose another name or delete"
                       " it")  # fmt: skip
    config = ConsumerConfig(ack_wait=ack_wait, ack_policy=AckPolicy.ALL)
    try:
        return await jetstream.pull_subscribe(subject, durable=durable, stream=stream,
                                              config=config)  # fmt: skip
    except APIError as exc:  # a durable of that name made otherwise (push, another filter…)
        raise Conflict("durable", f"{durable!r} on {stream}: {exc.description or exc}") from None


async def _stream_of(jetstream: JetStreamContext, subject: str, what: str) -> str:
    try:
        return str(await jetstream.find_stream_name_by_subject(subject))
    except NotFoundError:
        raise Conflict(what, f"no JetStream stream stores {subject!r}: create one first"
                       " (nats stream add)") from None  # fmt: skip


async def _dead_letter_stream(jetstream: JetStreamContext, stream: str, subject: str) -> None:
    try:
        holder = await _stream_of(jetstream, subject, "dead_letter")
    except Conflict:
        name = _NOT_A_NAME.sub("_", f"{stream}_DEAD")
        await jetstream.add_stream(name=name, subjects=[subject])
        return
    if holder == stream:
        raise Conflict(
            "dead_letter",
            f"{subject!r} is stored by the stream consumed ({stream}):"
            " a refused message would come back; choose a subject outside it",
        )
