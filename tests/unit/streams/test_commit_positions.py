"""Commit positions: an offset is committable only when every record below it is done by every
stage reading its topic, from where the fetcher started; nothing Faust thinks is a gap counts."""

from __future__ import annotations

from faust.types import TP

from cxstream.streams.commit_positions import CommitPositions

JOINED = TP("joined", 1)
TICKS = TP("ticks", 0)


def positions() -> CommitPositions:
    p = CommitPositions()
    p.register("score", ["joined", "ticks"])
    p.register("join", ["ticks", "feedback"])
    p.register("merge", ["ticks"])
    return p


def test_contiguous_done_offsets_are_committable_from_the_start() -> None:
    p = positions()
    p.start(JOINED, 10)
    assert p.committable() == {}
    for offset in (10, 11, 12):
        p.done(JOINED, offset, "score")
    assert p.committable() == {JOINED: 13}
    p.committed({JOINED: 13})
    assert p.committable() == {}


def test_a_record_never_processed_holds_the_position_whatever_comes_after() -> None:
    # The rebalance loss: 55 and 56 were delivered and cleared before processing; Faust recorded
    # them as a gap and committed 58. Here nothing moves until they are done.
    p = positions()
    p.start(JOINED, 55)
    for offset in (57, 58, 59, 60):
        p.done(JOINED, offset, "score")
    assert p.committable() == {}
    assert p.position(JOINED) == 55
    p.done(JOINED, 55, "score")
    assert p.committable() == {JOINED: 56}
    p.done(JOINED, 56, "score")
    assert p.committable() == {JOINED: 61}


def test_records_done_before_the_seek_count_from_the_committed_offset_on() -> None:
    p = positions()
    for offset in (3, 4, 5, 6):  # processed in the new assignment before its seek
        p.done(JOINED, offset, "score")
    assert p.committable() == {}  # unknown start: nothing is committable
    p.start(JOINED, 5)
    assert p.committable() == {JOINED: 7}


def test_a_topic_read_by_several_stages_waits_for_all_of_them() -> None:
    p = positions()
    p.start(TICKS, 0)
    p.done(TICKS, 0, "join")
    p.done(TICKS, 0, "join")  # a re-delivery to the same stage is no second stage
    p.done(TICKS, 0, "score")
    assert p.committable() == {}
    p.done(TICKS, 0, "merge")
    assert p.committable() == {TICKS: 1}


def test_a_second_seek_in_one_assignment_moves_nothing_back() -> None:
    p = positions()
    p.start(JOINED, 0)
    for offset in range(5):
        p.done(JOINED, offset, "score")
    p.start(JOINED, 2)  # the group's committed offset was behind what is done here
    assert p.committable() == {JOINED: 5}
    p.done(JOINED, 3, "score")  # re-delivered after the seek: already done
    assert p.committable() == {JOINED: 5}


def test_a_seek_ahead_of_what_is_done_starts_there() -> None:
    p = positions()
    p.start(JOINED, 0)
    p.done(JOINED, 0, "score")
    p.done(JOINED, 9, "score")
    p.start(JOINED, 8)
    assert p.position(JOINED) == 8
    p.done(JOINED, 8, "score")
    assert p.committable() == {JOINED: 10}


def test_revoked_partitions_are_forgotten() -> None:
    p = positions()
    p.start(JOINED, 0)
    p.done(JOINED, 0, "score")
    p.forget([JOINED])
    assert p.committable() == {}
    assert p.position(JOINED) is None


def test_a_position_waiting_for_one_offset_is_reported_once() -> None:
    p = positions()
    p.start(JOINED, 7)
    p.done(JOINED, 8, "score")
    assert p.newly_stalled(now=100.0, after_seconds=60) == []
    assert p.newly_stalled(now=159.0, after_seconds=60) == []
    assert p.newly_stalled(now=160.0, after_seconds=60) == [(JOINED, 7, 1)]
    assert p.newly_stalled(now=500.0, after_seconds=60) == []
    p.done(JOINED, 7, "score")
    assert p.newly_stalled(now=600.0, after_seconds=60) == []


def test_a_position_with_nothing_done_after_it_is_not_stalled() -> None:
    p = positions()
    p.start(JOINED, 7)
    assert p.newly_stalled(now=0.0, after_seconds=60) == []
    assert p.newly_stalled(now=1000.0, after_seconds=60) == []
