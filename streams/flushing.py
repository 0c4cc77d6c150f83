"""Which keys a tick must publish: those changed since the last tick, per partition.

A partition newly assigned to this worker republishes every key it holds on its first tick:
its previous owner may have changed state it never got to publish (a crash, a rebalance), and
publishing full states twice is harmless downstream (versions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

#: Retention sweeps run on one tick in this many per partition (every 10 minutes at the default
#: 1 s emit interval, and on a partition's first tick: offset 0).
SWEEP_EVERY_TICKS = 600


class DirtyKeys(Generic[K]):
    """Keys to publish at the next tick of their partition."""

    def __init__(self) -> None:
        self._dirty: dict[int, set[K]] = defaultdict(set)
        self._republished: set[int] = set()

    def mark(self, partition: int, key: K) -> None:
        self._dirty[partition].add(key)

    def forget_partitions(self, partitions: set[int]) -> None:
        """These partitions were (re)assigned: their first tick publishes everything they hold."""
        self._republished -= partitions

    def take(self, partition: int, all_keys: Callable[[], Iterable[K]]) -> set[K]:
        """The keys to publish now for ``partition`` (all of them on its first tick here)."""
        if partition not in self._republished:
            self._republished.add(partition)
            self._dirty[partition].update(all_keys())
        keys, self._dirty[partition] = self._dirty[partition], set()
        return keys
