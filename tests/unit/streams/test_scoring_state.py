"""Scoring state under replays: each message counts once, partials merge to exact sums."""

from __future__ import annotations

from cxstream.scores import AnswerCounts
from cxstream.streams.dedupe import FirstSeen, forget_older_than, is_first_occurrence
from cxstream.streams.scoring import CellState, Partial, apply_answer, merge_partials, newer_partial


def test_answers_accumulate_with_their_offsets() -> None:
    state = apply_answer(None, 4, offset=10)
    assert state == CellState(AnswerCounts.of([4]), 10)
    state = apply_answer(state, 2, offset=11)
    assert state == CellState(AnswerCounts.of([4, 2]), 11)
    assert state.version == 12


def test_a_replayed_offset_is_skipped() -> None:
    state = apply_answer(apply_answer(None, 4, offset=10), 5, offset=11)
    assert apply_answer(state, 5, offset=11) is None
    assert apply_answer(state, 4, offset=3) is None


def test_replaying_a_whole_stream_changes_nothing() -> None:
    stream = [(offset, 1 + offset % 5) for offset in range(50)]
    state: CellState | None = None
    for offset, answer in stream:
        state = apply_answer(state, answer, offset) or state
    assert state is not None
    for offset, answer in stream:  # the replay after a crash
        assert apply_answer(state, answer, offset) is None
    assert state.counts.responses == 50


def test_first_occurrence_wins_and_its_replay_is_still_first() -> None:
    seen: dict[str, FirstSeen] = {}
    assert is_first_occurrence(seen, "fb-1", offset=7, now_ms=0)
    assert not is_first_occurrence(seen, "fb-1", offset=9, now_ms=1)  # a channel's retry
    assert is_first_occurrence(seen, "fb-1", offset=7, now_ms=2)  # replay of the winner


def test_dedupe_forgets_after_the_horizon() -> None:
    seen = {"old": FirstSeen(1, seen_at=0), "new": FirstSeen(2, seen_at=900)}
    assert forget_older_than(seen, horizon_ms=500, now_ms=1_000) == 1
    assert set(seen) == {"new"}


def test_partials_merge_to_the_sum_with_a_growing_version() -> None:
    p0 = Partial(0, version=5, counts=AnswerCounts.of([5, 5, 1]))
    p1 = Partial(1, version=2, counts=AnswerCounts.of([4]))
    merged = merge_partials({0: p0, 1: p1})
    assert merged.counts == AnswerCounts.of([5, 5, 1, 4])
    assert merged.version == 7
    later = merge_partials({0: p0, 1: Partial(1, version=3, counts=AnswerCounts.of([4, 3]))})
    assert later.version > merged.version
    assert later.counts.responses == 5


def test_an_older_partial_never_replaces_a_newer_one() -> None:
    newer = Partial(0, version=5, counts=AnswerCounts.of([5]))
    assert newer_partial(None, newer)
    assert not newer_partial(newer, Partial(0, version=4, counts=AnswerCounts()))
    assert not newer_partial(newer, newer)
