"""Feedback read ahead of its touchpoints waits until they catch up (the join's input alignment).

On a backlog the fetcher reads every partition at the same pace in records, and feedback is a
tenth of the records: its partitions run far ahead in time of the touchpoint partitions they
join with. In the 220k-event bench 97% of feedback reached the join before its touchpoint,
although 5% was sent first, and each such feedback costs a claim record, a pending write and
delete, a release and the stored touchpoint's rewrite instead of one lookup.

:class:`AheadHold` holds a feedback record of partition p, in fetch order, while its Kafka
timestamp (when the channel sent it) is later than that of the last touchpoint taken from
touchpoint partition p *and* that partition still has records to read; it lets records go as
soon as touchpoints reach their time, when the touchpoint partition has nothing more to read, or
when one has waited ``max_wait_s`` of wall time or ``limit`` records are held (a stuck or very
slow touchpoint partition only costs the pending path again, never progress). What Quix Streams
does for its joins, by pausing the partition that runs ahead.

Holding changes nothing the results depend on: records of one partition still reach the stages
in offset order; a held record is not processed yet, so it is neither confirmed nor committed,
and on a rebalance or a stop it is simply read again from the committed offset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic
from typing import Any

#: Most feedback records held per partition; beyond it the oldest go on.
HOLD_LIMIT = 20_000
#: Longest one record is held (wall seconds), whatever the touchpoints do.
HOLD_MAX_SECONDS = 30.0


class AheadHold:
    """Per partition: the time touchpoints have reached, and the feedback held until they reach it."""

    def __init__(self, touchpoints_left: Callable[[int, int | None], bool], limit: int = HOLD_LIMIT,
                 max_wait_s: float = HOLD_MAX_SECONDS, clock: Callable[[], float] = monotonic) -> None:
        # touchpoints_left(partition, last offset taken) -> the touchpoint partition has more to read.
        self._touchpoints_left = touchpoints_left
        self._limit = limit
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._reached: dict[int, float] = {}  # partition -> timestamp of the last touchpoint taken
        self._last_offset: dict[int, int] = {}  # partition -> offset of the last touchpoint taken
        self._held: dict[int, deque[tuple[float, Any]]] = {}  # partition -> (held since, message)
        self.held_total = 0

    def offer(self, message: Any) -> list[Any]:
        """A feedback record was fetched: the records to process now, in order (itself, unless it
        waits; the oldest held ones when more than ``limit`` wait)."""
        p = message.partition
        held = self._held.get(p)
        if not held:
            if message.timestamp is None or message.timestamp <= self._reached.get(p, float("-inf")):
                return [message]
            if not self._touchpoints_left(p, self._last_offset.get(p)):
                return [message]
            held = self._held[p] = deque()
        held.append((self._clock(), message))  # behind earlier held ones: the partition's order stays
        self.held_total += 1
        out = []
        while len(held) > self._limit:
            out.append(held.popleft()[1])
        return out

    def on_touchpoint(self, message: Any) -> list[Any]:
        """A touchpoint record was taken: the held feedback it lets go, in order."""
        p = message.partition
        if message.timestamp is not None and message.timestamp > self._reached.get(p, float("-inf")):
            self._reached[p] = message.timestamp
        self._last_offset[p] = message.offset
        held = self._held.get(p)
        if not held:
            return []
        reached = self._reached.get(p, float("-inf"))
        out = []
        while held and held[0][1].timestamp <= reached:
            out.append(held.popleft()[1])
        if held and not self._touchpoints_left(p, message.offset):
            out.extend(m for _, m in held)
            held.clear()
        return out

    def due(self, partition: int) -> list[Any]:
        """Held feedback of ``partition`` that should go now: the touchpoints have nothing more to
        read, or a record has waited too long (asked on every tick of the partition)."""
        held = self._held.get(partition)
        if not held:
            return []
        if not self._touchpoints_left(partition, self._last_offset.get(partition)):
            out = [m for _, m in held]
            held.clear()
            return out
        now = self._clock()
        out = []
        while held and now - held[0][0] >= self._max_wait_s:
            out.append(held.popleft()[1])
        return out

    def held(self) -> int:
        return sum(len(h) for h in self._held.values())

    def forget(self) -> None:
        """A rebalance: what is held is read again from the committed offsets."""
        self._held.clear()
        self._reached.clear()
        self._last_offset.clear()
