"""Alerts on rolling 15-minute scores per (agency, service, domain), summed over channels.

Pure logic over one state value per (agency, service, domain): the latest merged counts of each
(window, channel) in the last 15 minutes, and whether an alert is firing. An update that is not
newer (by version) changes nothing, so replays raise nothing twice. An alert fires when
pct_positive falls below the threshold on at least ``min_responses`` answers, and resolves when
it is back at or above the threshold on at least as many.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cxstream.scores import AnswerCounts, sum_counts
from cxstream.streams.windows import WINDOW_MS

ROLLING_MS = 15 * 60 * 1000


@dataclass(frozen=True, slots=True)
class AlertRule:
    """When a rolling score pages someone."""

    threshold_pct: float
    min_responses: int


@dataclass
class AlertState:
    """Latest (version, counts) per (window_start, channel) in the rolling span, and the alert state."""

    cells: dict[tuple[int, str], tuple[int, AnswerCounts]] = field(default_factory=dict)
    firing: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert to publish: it fired or resolved on this rolling score."""

    state: str  # "firing" or "resolved"
    counts: AnswerCounts
    window_end: int


def is_newer(state: AlertState, window_start: int, channel: str, version: int) -> bool:
    """True if an update of (window_start, channel) at ``version`` would change ``state``."""
    known = state.cells.get((window_start, channel))
    return known is None or known[0] < version


def apply_score(
    state: AlertState, window_start: int, channel: str, version: int, counts: AnswerCounts, rule: AlertRule
) -> Transition | None:
    """Fold one merged window score into the state; the alert transition it causes, if any."""
    if not is_newer(state, window_start, channel, version):
        return None
    state.cells[(window_start, channel)] = (version, counts)
    latest = max(w for w, _ in state.cells)
    oldest_kept = latest - ROLLING_MS + WINDOW_MS
    for key in [k for k in state.cells if k[0] < oldest_kept]:
        del state.cells[key]
    rolling = sum_counts(c for _, c in state.cells.values())
    if rolling.responses < rule.min_responses:
        return None
    below = rolling.pct_positive < rule.threshold_pct
    if below and not state.firing:
        state.firing = True
        return Transition("firing", rolling, latest + WINDOW_MS)
    if not below and state.firing:
        state.firing = False
        return Transition("resolved", rolling, latest + WINDOW_MS)
    return None
