"""Bounds on requests in flight: per API key and per client address.

With a deadline on receiving a body (``CXSTREAM_GATEWAY_BODY_TIMEOUT_SECONDS``) these bound how
many connections one key or one address can hold, and for how long. Beyond its bound a request is
refused at once (429, connection closed) instead of waiting for a slot: a client that stalls must
not make the gateway hold a queue of connections for it.

A slot is held from the moment the request is counted until its handler ends, however it ends
(answered, refused, failed, cancelled, or its client gone): it is released in ``finally``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cxstream.gateway.errors import Refusal

#: Seconds a client refused for too many requests in flight is told to wait: a slot frees as soon
#: as one of its requests is answered, so there is nothing longer to wait for.
RETRY_AFTER_SECONDS = 1


class Slots:
    """Requests in flight by name (a key id or an address), each name at most ``limit`` (0: no bound)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}

    def held(self, name: str) -> int:
        """How many requests of ``name`` are in flight now."""
        return self._held.get(name, 0)

    @contextmanager
    def hold(self, name: str, refusal: Callable[[], Refusal]) -> Iterator[None]:
        """Hold one of ``name``'s slots for the block; raise ``refusal()`` at once if none is free.

        Names are dropped when their count falls to zero, so the table holds only what is in
        flight, however many keys and addresses have been seen.
        """
        held = self._held.get(name, 0)
        if self.limit and held >= self.limit:
            raise refusal()
        self._held[name] = held + 1
        try:
            yield
        finally:
            left = self._held[name] - 1
            if left:
                self._held[name] = left
            else:
                del self._held[name]


def too_many(who: str, limit: int) -> Refusal:
    """The 429 for ``who`` (a key or an address) at its bound; the connection is closed after it."""
    return Refusal(429, "too_many_in_flight",
                   f"{who} has {limit} requests in flight, the most allowed: wait for their answers before "
                   f"sending more; nothing of this request was written",
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, close=True, in_flight_limit=limit)
