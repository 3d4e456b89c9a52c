"""Rate limits for the doors anyone can knock on: sign-in and the public web-form endpoint.

Counts live in this process's memory (a moving window from the ``limits`` library): enough to
stop password guessing and form flooding on one server; several processes each keep their own
count, so the effective limit is the per-process limit times the number of workers."""

from __future__ import annotations

import math
import time

from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from leadq.config import parse_rate


class Throttle:
    """How often one key (a client address, a username) may try something."""

    def __init__(self, rate: str) -> None:
        self.rate = parse_rate(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, *key: str) -> bool:
        """Count one attempt; False once the key is over its rate."""
        return self._limiter.hit(self.rate, *key)

    def retry_after(self, *key: str) -> int:
        """Seconds until the key may try again."""
        reset = self._limiter.get_window_stats(self.rate, *key).reset_time
        return max(1, math.ceil(reset - time.time()))
