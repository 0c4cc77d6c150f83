"""Per-key token buckets: bursts up to the rate, then one request per 1/rate seconds, Retry-After in whole seconds."""

from __future__ import annotations

from cxstream.gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_rate_requests_passes_then_the_next_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)

    granted = [limiter.check("k", 5) for _ in range(5)]
    refused = limiter.check("k", 5)

    assert granted == [0] * 5
    assert refused == 1


def test_tokens_refill_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    for _ in range(4):
        limiter.check("k", 4)

    clock.now += 0.26  # one token back (4/s)
    first, second = limiter.check("k", 4), limiter.check("k", 4)

    assert (first, second) == (0, 1)


def test_over_a_long_run_the_granted_rate_is_the_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    granted = 0
    for _ in range(10_000):  # 1000 requests/s offered for 10 s
        clock.now += 0.001
        granted += limiter.check("k", 20) == 0

    assert 200 <= granted <= 200 + 20  # rate x time, plus at most one burst


def test_keys_have_separate_buckets_and_a_slow_rate_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)

    limiter.check("slow", 1)
    waits = (limiter.check("slow", 1), limiter.check("other", 1))

    assert waits == (1, 0)
