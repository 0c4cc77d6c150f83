"""streams/alignment.py: feedback read ahead of its touchpoints waits for them, in order, bounded."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cxstream.streams.alignment import AheadHold


def _record(partition: int, offset: int, timestamp: float | None) -> Any:
    return SimpleNamespace(partition=partition, offset=offset, timestamp=timestamp)


class _Touchpoints:
    """The touchpoint partitions' ends, as the fetcher last saw them."""

    def __init__(self, ends: dict[int, int]) -> None:
        self.ends = ends

    def left(self, partition: int, last_offset: int | None) -> bool:
        return (-1 if last_offset is None else last_offset) + 1 < self.ends.get(partition, 0)


def test_feedback_ahead_waits_for_the_touchpoints_of_its_time_and_goes_on_in_fetch_order() -> None:
    touchpoints = _Touchpoints({0: 10})
    hold = AheadHold(touchpoints.left)
    f1, f2, f3 = _record(0, 100, 5.0), _record(0, 101, 3.0), _record(0, 102, 9.0)
    assert hold.offer(f1) == []  # sent at 5.0, no touchpoint taken yet, ten to read
    assert hold.offer(f2) == []  # earlier in time, but behind f1 in the partition: its order stays
    assert hold.offer(f3) == []
    assert hold.on_touchpoint(_record(0, 0, 4.0)) == []
    assert hold.on_touchpoint(_record(0, 1, 6.0)) == [f1, f2]
    assert hold.held() == 1
    assert hold.on_touchpoint(_record(0, 2, 9.5)) == [f3]
    assert hold.offer(_record(0, 103, 9.5)) == [_record(0, 103, 9.5)]  # touchpoints are there: at once


def test_nothing_waits_when_the_touchpoint_partition_has_nothing_more_to_read() -> None:
    touchpoints = _Touchpoints({0: 2, 1: 0})
    hold = AheadHold(touchpoints.left)
    assert hold.on_touchpoint(_record(0, 1, 1.0)) == []  # its last record taken
    ahead = _record(0, 7, 50.0)
    assert hold.offer(ahead) == [ahead]  # later than every touchpoint, but none is left to read
    assert hold.offer(_record(1, 3, 1.0)) == [_record(1, 3, 1.0)]  # an empty partition
    no_time = _record(0, 8, None)
    assert hold.offer(no_time) == [no_time]


def test_held_feedback_goes_when_the_touchpoints_run_out_or_it_waited_too_long() -> None:
    now = [0.0]
    touchpoints = _Touchpoints({0: 5, 1: 5})
    hold = AheadHold(touchpoints.left, max_wait_s=5.0, clock=lambda: now[0])
    a, b = _record(0, 1, 10.0), _record(0, 2, 11.0)
    hold.offer(a)
    hold.offer(b)
    assert hold.on_touchpoint(_record(0, 3, 2.0)) == []
    touchpoints.ends[0] = 4  # the fetcher saw no more: the last one was taken
    assert hold.on_touchpoint(_record(0, 3, 2.0)) == [a, b]
    c = _record(1, 1, 10.0)
    hold.offer(c)
    now[0] = 4.0
    assert hold.due(1) == []
    now[0] = 5.0
    assert hold.due(1) == [c]  # a stuck touchpoint partition costs the pending path, not progress
    d = _record(1, 2, 10.0)
    hold.offer(d)
    touchpoints.ends[1] = 0
    assert hold.due(1) == [d]


def test_at_most_limit_records_wait_per_partition_the_oldest_go_first() -> None:
    hold = AheadHold(_Touchpoints({0: 100}).left, limit=2)
    records = [_record(0, i, 10.0 + i) for i in range(4)]
    assert hold.offer(records[0]) == [] and hold.offer(records[1]) == []
    assert hold.offer(records[2]) == [records[0]]
    assert hold.offer(records[3]) == [records[1]]
    assert hold.held() == 2 and hold.held_total == 4


def test_a_rebalance_forgets_what_is_held_and_how_far_touchpoints_got() -> None:
    hold = AheadHold(_Touchpoints({0: 100}).left)
    hold.on_touchpoint(_record(0, 0, 50.0))
    hold.offer(_record(0, 1, 60.0))
    hold.forget()
    assert hold.held() == 0
    assert hold.offer(_record(0, 2, 40.0)) == []  # no touchpoint taken since: it waits again
