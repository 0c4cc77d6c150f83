"""Which input offsets may be committed: pure bookkeeping, no Kafka and no Faust.

Per source partition, the offset below which every record was processed by every stage that
reads its topic and everything that processing produced is acknowledged by the broker.
streams/acking.py feeds it (which events are done, where a partition starts, what was
committed) and hands its positions to Faust's commits; the argument is in that module's
docstring and in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from faust.types import TP


@dataclass
class _Partition:
    stages: frozenset[str]
    next_offset: int | None = None  # every offset below is done; None until the seek says where we start
    committed: int | None = None  # the group's committed offset, as last seen or set by us
    done: set[int] = field(default_factory=set)  # done offsets at or above next_offset
    partial: dict[int, set[str]] = field(default_factory=dict)  # offset -> the stages done with it so far
    stall_offset: int | None = None
    stall_since: float = 0.0
    stall_reported: bool = False

    def advance(self) -> None:
        if self.next_offset is None:
            return
        while self.next_offset in self.done:
            self.done.discard(self.next_offset)
            self.next_offset += 1


class CommitPositions:
    """Per source partition, the offset below which every record is done by every stage reading
    its topic: the only offsets a commit may carry. Pure bookkeeping, no Kafka."""

    def __init__(self) -> None:
        self._stages: dict[str, set[str]] = {}  # topic -> stages that read it
        self._partitions: dict[TP, _Partition] = {}

    def register(self, stage: str, topics: Iterable[str]) -> None:
        """``stage`` reads ``topics``: their offsets are done only once this stage is done too."""
        for topic in topics:
            self._stages.setdefault(topic, set()).add(stage)

    def reads(self, topic: str) -> bool:
        return topic in self._stages

    def _partition(self, tp: TP) -> _Partition:
        partition = self._partitions.get(tp)
        if partition is None:
            partition = self._partitions[tp] = _Partition(frozenset(self._stages[tp.topic]))
        return partition

    def done(self, tp: TP, offset: int, stage: str) -> None:
        """``stage`` processed the record at ``offset`` and the broker has everything it caused."""
        partition = self._partition(tp)
        if partition.next_offset is not None and offset < partition.next_offset:
            return  # a re-delivery of a record already done
        if len(partition.stages) > 1:
            seen = partition.partial.setdefault(offset, set())
            seen.add(stage)
            if not partition.stages <= seen:
                return
            del partition.partial[offset]
        partition.done.add(offset)
        partition.advance()

    def start(self, tp: TP, offset: int) -> None:
        """The fetcher (re)starts ``tp`` at ``offset``, the group's committed offset (or the log
        start). Records before it are done or someone else's; what this assignment already did
        at or after it stays done (a second seek in one assignment moves nothing back)."""
        partition = self._partition(tp)
        partition.committed = offset
        partition.next_offset = offset if partition.next_offset is None else max(partition.next_offset, offset)
        partition.done = {o for o in partition.done if o >= offset}
        partition.partial = {o: s for o, s in partition.partial.items() if o >= offset}
        partition.advance()

    def forget(self, tps: Iterable[TP]) -> None:
        """The partitions went away (revoked): what was done there no longer says anything."""
        for tp in tps:
            self._partitions.pop(tp, None)

    def committable(self) -> dict[TP, int]:
        """The positions that moved past the last commit."""
        return {
            tp: p.next_offset
            for tp, p in self._partitions.items()
            if p.next_offset is not None and p.committed is not None and p.next_offset > p.committed
        }

    def committed(self, offsets: Mapping[TP, int]) -> None:
        """The group committed ``offsets``."""
        for tp, offset in offsets.items():
            partition = self._partitions.get(tp)
            if partition is not None and (partition.committed is None or offset > partition.committed):
                partition.committed = offset

    def position(self, tp: TP) -> int | None:
        partition = self._partitions.get(tp)
        return None if partition is None else partition.next_offset

    def newly_stalled(self, now: float, after_seconds: float) -> list[tuple[TP, int, int]]:
        """Partitions whose position has waited ``after_seconds`` for one offset while later ones
        are done, reported once per offset: (partition, the missing offset, how many are done after it)."""
        stalled = []
        for tp, p in self._partitions.items():
            waiting = p.next_offset is not None and bool(p.done or p.partial)
            if not waiting or p.stall_offset != p.next_offset:
                p.stall_offset, p.stall_since, p.stall_reported = p.next_offset, now, False
                continue
            if not p.stall_reported and p.stall_offset is not None and now - p.stall_since >= after_seconds:
                p.stall_reported = True
                stalled.append((tp, p.stall_offset, len(p.done) + len(p.partial)))
        return stalled
