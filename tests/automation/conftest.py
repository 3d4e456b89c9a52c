from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from leadq.config import get_settings
from tests.e2e.serving import free_port


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Documents put in force by a test leave with it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class Mailbox:
    """What a real SMTP server (aiosmtpd) received, as e-mail messages."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on a free port, and what it received."""
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()
