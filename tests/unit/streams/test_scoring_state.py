"""Scoring state under replays: each message counts once, partials merge to exact sums."""

from __future__ import annotations

import pytest

from cxstream.scores import AnswerCounts
from cxstream.streams.dedupe import FirstSeen, claim, forget_older_than, is_first_occurrence
from cxstream.streams.scoring import CellState, Partial, apply_answers, changed_domains, merge_partials, newer_partial


def test_a_feedbacks_answers_accumulate_per_domain_with_its_offset() -> None:
    state = apply_answers(None, {"satisfaction": 4, "ease": 2}, offset=10)
    assert state == CellState({"satisfaction": AnswerCounts.of([4]), "ease": AnswerCounts.of([2])}, 10)
    state = apply_answers(state, {"satisfaction": 5, "trust": 1}, offset=11)
    assert state is not None
    assert state.counts == {"satisfaction": AnswerCounts.of([4, 5]), "ease": AnswerCounts.of([2]),
                            "trust": AnswerCounts.of([1])}
    assert state.version == 12


def test_a_replayed_offset_is_skipped() -> None:
    state = apply_answers(apply_answers(None, {"ease": 4}, offset=10), {"ease": 5}, offset=11)
    assert apply_answers(state, {"ease": 5}, offset=11) is None
    assert apply_answers(state, {"ease": 4}, offset=3) is None


def test_an_answer_outside_1_to_5_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        apply_answers(None, {"ease": 6}, offset=1)


def test_replaying_a_whole_stream_changes_nothing() -> None:
    stream = [(offset, {"ease": 1 + offset % 5, "quality": 1 + offset % 3}) for offset in range(50)]
    state: CellState | None = None
    for offset, answers in stream:
        state = apply_answers(state, answers, offset) or state
    assert state is not None
    for offset, answers in stream:  # the replay after a crash
        assert apply_answers(state, answers, offset) is None
    assert state.counts["ease"].responses == 50 and state.counts["quality"].responses == 50
    assert state.counts["quality"] == AnswerCounts(17, 17, 16, 0, 0)


def test_first_occurrence_wins_and_its_replay_is_still_first() -> None:
    seen: dict[str, FirstSeen] = {}
    assert is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:7", offset=40, now_ms=0)
    assert not is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:9", offset=41, now_ms=1)  # a channel's retry
    assert is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:7", offset=40, now_ms=2)  # replay of the winner


def test_a_second_release_of_the_winning_copy_is_a_duplicate() -> None:
    """The join re-releases a copy when its input is replayed after a crash: a new record, same source."""
    seen: dict[str, FirstSeen] = {}
    assert is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:7", offset=40, now_ms=0)
    assert not is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:7", offset=77, now_ms=1)
    assert is_first_occurrence(seen, "fb-1", "cx.feedback.v1:0:7", offset=40, now_ms=2)


def test_a_copy_claimed_on_receipt_wins_over_a_copy_released_before_it() -> None:
    seen: dict[str, FirstSeen] = {}
    claim(seen, "fb-1", "cx.feedback.v1:3:10", now_ms=0)  # waits in the join for its touchpoint
    assert not is_first_occurrence(seen, "fb-1", "cx.feedback.v1:1:52", offset=5, now_ms=1)  # the retry, at once
    assert is_first_occurrence(seen, "fb-1", "cx.feedback.v1:3:10", offset=9, now_ms=2)  # released after its wait
    claim(seen, "fb-1", "cx.feedback.v1:1:52", now_ms=3)  # a later claim changes nothing
    assert not is_first_occurrence(seen, "fb-1", "cx.feedback.v1:3:10", offset=12, now_ms=4)  # released again
    assert seen["fb-1"] == FirstSeen("cx.feedback.v1:3:10", 0, 9)


def test_dedupe_forgets_after_the_horizon() -> None:
    seen = {"old": FirstSeen("t:0:1", seen_at=0), "new": FirstSeen("t:0:2", seen_at=900)}
    assert forget_older_than(seen, horizon_ms=500, now_ms=1_000) == 1
    assert set(seen) == {"new"}


def test_partials_merge_to_the_sum_per_domain_with_a_growing_version() -> None:
    p0 = Partial(0, version=5, counts={"ease": AnswerCounts.of([5, 5, 1]), "trust": AnswerCounts.of([2])})
    p1 = Partial(1, version=2, counts={"ease": AnswerCounts.of([4])})
    merged = merge_partials({0: p0, 1: p1})
    assert merged.counts == {"ease": AnswerCounts.of([5, 5, 1, 4]), "trust": AnswerCounts.of([2])}
    assert merged.version == 7
    later = merge_partials({0: p0, 1: Partial(1, version=3, counts={"ease": AnswerCounts.of([4, 3])})})
    assert later.version > merged.version
    assert later.counts["ease"].responses == 5


def test_merging_no_partials_is_empty() -> None:
    assert merge_partials({}).counts == {} and merge_partials({}).version == 0


def test_an_older_partial_never_replaces_a_newer_one() -> None:
    newer = Partial(0, version=5, counts={"ease": AnswerCounts.of([5])})
    assert newer_partial(None, newer)
    assert not newer_partial(newer, Partial(0, version=4, counts={}))
    assert not newer_partial(newer, newer)


def test_changed_domains_are_those_whose_counts_differ() -> None:
    old = Partial(0, version=5, counts={"ease": AnswerCounts.of([5]), "trust": AnswerCounts.of([2])})
    new = Partial(0, version=6, counts={"ease": AnswerCounts.of([5]), "trust": AnswerCounts.of([2, 3]),
                                        "quality": AnswerCounts.of([4])})
    assert changed_domains(None, new) == {"ease", "trust", "quality"}
    assert changed_domains(old, new) == {"trust", "quality"}
    assert changed_domains(new, new) == set()
