"""Rolling 15-minute alerts: threshold, min-n, recovery, replays and the rolling span."""

from cxstream.scores import AnswerCounts
from cxstream.streams.alerting import AlertRule, AlertState, apply_score

RULE = AlertRule(threshold_pct=60.0, min_responses=10)
MINUTE = 60_000
T0 = 1_795_582_800_000


def _counts(positive: int, negative: int) -> AnswerCounts:
    return AnswerCounts.of([5] * positive + [1] * negative)


def test_a_thin_sample_never_alerts() -> None:
    state = AlertState()
    assert apply_score(state, T0, "phone", 1, _counts(0, 9), RULE) is None  # 0% but only 9 answers
    assert not state.firing


def test_a_drop_below_threshold_fires_once_and_recovery_resolves() -> None:
    state = AlertState()
    fired = apply_score(state, T0, "phone", 1, _counts(2, 10), RULE)
    assert fired is not None and fired.state == "firing" and fired.counts.responses == 12
    assert fired.window_end == T0 + MINUTE
    assert apply_score(state, T0 + MINUTE, "website", 1, _counts(1, 1), RULE) is None  # still below
    resolved = apply_score(state, T0 + 2 * MINUTE, "phone", 1, _counts(30, 0), RULE)
    assert resolved is not None and resolved.state == "resolved"
    assert resolved.counts.as_tuple() == (11, 0, 0, 0, 33)  # summed over channels and windows


def test_a_replayed_or_older_score_changes_nothing() -> None:
    state = AlertState()
    apply_score(state, T0, "phone", 5, _counts(2, 10), RULE)
    assert apply_score(state, T0, "phone", 5, _counts(2, 10), RULE) is None
    assert apply_score(state, T0, "phone", 3, _counts(50, 0), RULE) is None
    assert state.firing


def test_a_newer_version_of_a_window_replaces_its_counts_not_adds_to_them() -> None:
    state = AlertState()
    apply_score(state, T0, "phone", 1, _counts(2, 10), RULE)
    resolved = apply_score(state, T0, "phone", 2, _counts(20, 10), RULE)  # same window, more answers
    assert resolved is not None and resolved.counts.responses == 30


def test_windows_older_than_15_minutes_leave_the_rolling_sum() -> None:
    state = AlertState()
    apply_score(state, T0, "phone", 1, _counts(0, 20), RULE)  # fires
    assert state.firing
    late = apply_score(state, T0 + 15 * MINUTE, "phone", 1, _counts(10, 0), RULE)  # T0 drops out
    assert late is not None and late.state == "resolved" and late.counts.responses == 10
    assert (T0, "phone") not in state.cells
