"""Per-key rate limits: a token bucket per API key, refilled continuously.

A key may make ``rate`` requests per second on average, in bursts of up to ``rate`` (one second's
worth). A refused request is told when a token will be there (the ``Retry-After`` header).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; one token per request."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0.0 when granted, else the seconds until one will be there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """The buckets of every key seen, by key id (a key's rate change resets its bucket)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, key_id: str, rate_per_second: int) -> int:
        """0 when the request may go ahead, else the whole seconds to wait (at least 1)."""
        now = self._clock()
        bucket = self._buckets.get(key_id)
        if bucket is None or bucket.rate != rate_per_second:
            bucket = TokenBucket(rate_per_second, rate_per_second, rate_per_second, now)
            self._buckets[key_id] = bucket
        wait = bucket.take(now)
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
