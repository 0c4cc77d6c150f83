"""The join of feedback to touchpoints, in every arrival order."""

from __future__ import annotations

import pytest

from cxstream.streams.join import Attribution, Join, JoinInput, JoinResult, StoredTouchpoint, own_attribution

PHONE = Attribution("VA", "disability-claims", "phone")
WEB = Attribution("VA", "disability-claims", "website")
WAIT = 600_000


def _join(wait: int = WAIT) -> Join:
    return Join({}, {}, wait)


def _tp(attribution: Attribution = PHONE) -> StoredTouchpoint:
    return StoredTouchpoint(attribution, occurred_at=1_000, stored_at=1_000)


def _fb(feedback_id: str, touchpoint_id: str | None = "tp-1", own: Attribution | None = None,
        received_at: int = 0) -> JoinInput:
    return JoinInput(feedback_id, touchpoint_id, own or own_attribution(None, None, None), received_at)


def test_feedback_after_its_touchpoint_is_attributed_at_once() -> None:
    join = _join()
    assert join.on_touchpoint("tp-1", _tp(), now_ms=0) == []
    assert join.on_feedback(_fb("fb-1"), now_ms=5) == JoinResult("fb-1", PHONE, True, 0)


def test_feedback_before_touchpoint_is_joined_when_it_arrives() -> None:
    join = _join()
    assert join.on_feedback(_fb("fb-1", received_at=100), now_ms=100) is None
    assert join.on_feedback(_fb("fb-2", received_at=200), now_ms=200) is None
    released = join.on_touchpoint("tp-1", _tp(), now_ms=1_100)
    assert released == [JoinResult("fb-1", PHONE, True, 1_000), JoinResult("fb-2", PHONE, True, 900)]
    assert join.pending == {}


def test_feedback_waiting_past_join_wait_falls_back_to_its_own_attribution() -> None:
    join = _join()
    join.on_feedback(_fb("fb-1", own=WEB, received_at=0), now_ms=0)
    assert join.expire(now_ms=WAIT - 1) == []
    assert join.expire(now_ms=WAIT) == [JoinResult("fb-1", WEB, False, WAIT)]
    assert join.pending == {}
    # The touchpoint arriving later releases nothing twice.
    assert join.on_touchpoint("tp-1", _tp(), now_ms=WAIT + 5) == []


@pytest.mark.parametrize(
    ("agency", "service", "channel", "expected"),
    [
        (None, None, None, Attribution("unknown", "unknown", "unknown")),
        ("VA", None, "phone", Attribution("VA", "unknown", "phone")),
        ("VA", "disability-claims", "phone", PHONE),
    ],
)
def test_fallback_uses_unknown_for_each_missing_part(
    agency: str | None, service: str | None, channel: str | None, expected: Attribution
) -> None:
    join = _join()
    join.on_feedback(_fb("fb-1", own=own_attribution(agency, service, channel)), now_ms=0)
    [result] = join.expire(now_ms=WAIT)
    assert result.attribution == expected and not result.matched


def test_only_due_feedback_expires_and_the_rest_keeps_waiting() -> None:
    join = _join()
    join.on_feedback(_fb("fb-old", received_at=0), now_ms=0)
    join.on_feedback(_fb("fb-new", received_at=WAIT // 2), now_ms=WAIT // 2)
    assert [r.feedback_id for r in join.expire(now_ms=WAIT)] == ["fb-old"]
    assert [r.feedback_id for r in join.on_touchpoint("tp-1", _tp(), now_ms=WAIT + 1)] == ["fb-new"]


def test_direct_survey_without_touchpoint_uses_its_own_attribution_unmatched() -> None:
    assert _join().on_feedback(_fb("fb-1", touchpoint_id=None, own=WEB), now_ms=0) == JoinResult("fb-1", WEB, False, 0)


def test_first_touchpoint_wins_over_a_later_one_with_the_same_id() -> None:
    join = _join()
    join.on_touchpoint("tp-1", _tp(PHONE), now_ms=0)
    join.on_touchpoint("tp-1", _tp(WEB), now_ms=1)
    assert join.on_feedback(_fb("fb-1"), now_ms=2) == JoinResult("fb-1", PHONE, True, 0)


def test_a_replayed_waiting_feedback_is_buffered_once() -> None:
    join = _join()
    join.on_feedback(_fb("fb-1"), now_ms=0)
    join.on_feedback(_fb("fb-1"), now_ms=1)
    assert len(join.on_touchpoint("tp-1", _tp(), now_ms=2)) == 1


def test_zero_join_wait_falls_back_immediately() -> None:
    assert _join(wait=0).on_feedback(_fb("fb-1", own=WEB), now_ms=0) == JoinResult("fb-1", WEB, False, 0)


def test_a_replayed_touchpoint_releases_its_feedback_again_but_a_duplicate_does_not() -> None:
    join = _join()
    join.on_feedback(_fb("fb-1", received_at=0), now_ms=0)
    first = StoredTouchpoint(PHONE, 1_000, 1_000, source=("cx.touchpoints.v1", 2, 40))
    assert [r.feedback_id for r in join.on_touchpoint("tp-1", first, now_ms=10)] == ["fb-1"]
    # The same message again (a replay after a crash): its release may have been lost, so repeat it.
    assert [r.feedback_id for r in join.on_touchpoint("tp-1", first, now_ms=20)] == ["fb-1"]
    # Another message with the same touchpoint_id (a producer's retry) releases nothing.
    retry = StoredTouchpoint(PHONE, 1_000, 1_000, source=("cx.touchpoints.v1", 2, 41))
    assert join.on_touchpoint("tp-1", retry, now_ms=30) == []


def _scoped_join() -> Join:
    """A join whose scopes are the last character of the touchpoint id (as the worker uses partitions)."""
    return Join({}, {}, WAIT, scope_of=lambda touchpoint_id: touchpoint_id[-1])


def test_expiry_releases_only_its_own_scope() -> None:
    join = _scoped_join()
    join.on_feedback(_fb("fb-a", touchpoint_id="tp-a"), now_ms=0)
    join.on_feedback(_fb("fb-b", touchpoint_id="tp-b"), now_ms=0)
    assert [r.feedback_id for r in join.expire(now_ms=WAIT, scope="a")] == ["fb-a"]
    assert [r.feedback_id for r in join.expire(now_ms=WAIT, scope="b")] == ["fb-b"]


class _CountingDict(dict):  # type: ignore[type-arg]
    """A dict that counts how often it is iterated (an expiry scan)."""

    scans = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.scans += 1
        return super().__iter__()


def test_expiry_skips_the_scan_until_something_can_be_due_and_never_misses_a_deadline() -> None:
    pending = _CountingDict()
    join = Join({}, pending, WAIT, scope_of=lambda touchpoint_id: touchpoint_id[-1])
    assert join.expire(now_ms=0, scope="a") == [] and pending.scans == 1  # unknown scope: scanned
    join.on_feedback(_fb("fb-1", touchpoint_id="tp-a", received_at=100), now_ms=100)
    assert join.expire(now_ms=WAIT, scope="a") == [] and pending.scans == 1  # not due before WAIT + 100
    join.on_feedback(_fb("fb-2", touchpoint_id="tp-a", received_at=50), now_ms=50)  # an earlier deadline
    assert [r.feedback_id for r in join.expire(now_ms=WAIT + 50, scope="a")] == ["fb-2"]
    assert [r.feedback_id for r in join.expire(now_ms=WAIT + 100, scope="a")] == ["fb-1"]
    assert pending.scans == 3


def test_a_forgotten_scope_is_scanned_again() -> None:
    pending = _CountingDict()
    join = Join({}, pending, WAIT, scope_of=lambda touchpoint_id: touchpoint_id[-1])
    join.expire(now_ms=0, scope="a")
    # Another worker buffered feedback in scope "a" while it was not ours (straight into the table).
    pending["tp-a"] = (_fb("fb-1", touchpoint_id="tp-a", received_at=0),)
    assert join.expire(now_ms=WAIT, scope="a") == []  # believed empty: the scan is skipped
    join.forget_scopes(["a"])
    assert [r.feedback_id for r in join.expire(now_ms=WAIT, scope="a")] == ["fb-1"]


class _CountingPops(dict):  # type: ignore[type-arg]
    """A dict that counts its pops (a store read of the join's pending table)."""

    pops = 0

    def pop(self, *args):  # type: ignore[no-untyped-def]
        self.pops += 1
        return super().pop(*args)


def test_a_touchpoint_of_a_scope_known_to_hold_no_feedback_does_not_read_pending() -> None:
    pending = _CountingPops()
    join = Join({}, pending, WAIT, scope_of=lambda touchpoint_id: touchpoint_id[-1])
    join.on_touchpoint("tp-1a", _tp(), now_ms=0, scope="a")
    assert pending.pops == 1  # unknown scope: read
    join.expire(now_ms=0, scope="a")  # scanned: nothing waits in "a"
    join.on_touchpoint("tp-2a", _tp(), now_ms=0, scope="a")
    join.on_touchpoint("tp-3a", _tp(), now_ms=0)  # the caller does not say its scope: read
    assert pending.pops == 2
    join.on_feedback(_fb("fb-1", touchpoint_id="tp-4a"), now_ms=0)  # now something waits in "a"
    assert join.on_touchpoint("tp-4a", _tp(), now_ms=5, scope="a") == [JoinResult("fb-1", PHONE, True, 5)]
    assert pending.pops == 3
    join.expire(now_ms=10, scope="a")
    join.forget_scopes(["a"])  # reassigned: unknown again, read
    join.on_touchpoint("tp-5a", _tp(), now_ms=10, scope="a")
    assert pending.pops == 4
