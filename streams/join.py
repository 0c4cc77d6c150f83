"""Joining feedback to its touchpoint, in any arrival order.

Pure logic over two mappings (the worker backs them with changelogged Faust tables):
``touchpoints`` (touchpoint_id -> attribution) and ``pending`` (touchpoint_id -> feedback waiting
for that touchpoint). A feedback whose touchpoint is known is attributed at once; one that comes
first waits until its touchpoint arrives or ``join_wait_ms`` passes, then falls back to its own
agency/service/channel, else ``unknown``. Nothing is ever dropped for lack of a touchpoint.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any

from cxstream.vocabulary import UNKNOWN


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who served the customer: the cell a feedback's answers are scored in."""

    agency: str
    service: str
    channel: str



@dataclass(frozen=True, slots=True)
class StoredTouchpoint:
    """What the join keeps of a touchpoint, and what its arrival released (for replays)."""

    attribution: Attribution
    occurred_at: int  # UTC epoch ms
    stored_at: int  # wall-clock ms when the worker stored it (for retention)
    source: tuple[str, int, int] | None = None  # (topic, partition, offset) of the message stored
    released: tuple["JoinResult", ...] = ()


@dataclass(frozen=True, slots=True)
class JoinInput:
    """The parts of a feedback the join needs, plus the whole record to carry through."""

    feedback_id: str
    touchpoint_id: str | None
    own: Attribution  # the feedback's own agency/service/channel, ``unknown`` where absent
    received_at: int  # wall-clock ms when the worker first saw it (starts the join wait)
    payload: Any = field(default=None, compare=False)  # the feedback itself, carried to the output


@dataclass(frozen=True, slots=True)
class JoinResult:
    """A feedback with the cell it is scored in; ``matched`` when its touchpoint attributed it."""

    feedback_id: str
    attribution: Attribution
    matched: bool
    waited_ms: int
    payload: Any = field(default=None, compare=False)


class Join:
    """The join's state transitions. Idempotent: replaying an input yields the same outputs."""

    def __init__(
        self,
        touchpoints: MutableMapping[str, StoredTouchpoint],
        pending: MutableMapping[str, tuple[JoinInput, ...]],
        join_wait_ms: int,
    ) -> None:
        self.touchpoints = touchpoints
        self.pending = pending
        self.join_wait_ms = join_wait_ms

    def on_touchpoint(self, touchpoint_id: str, stored: StoredTouchpoint, now_ms: int) -> list[JoinResult]:
        """Remember a touchpoint (the first one wins) and release the feedback waiting for it.

        The released results are kept with the touchpoint: when the same message is replayed after
        a crash (same ``source``), they are released again, since their first emission may have
        been lost with the crash while the state change survived."""
        known = self.touchpoints.get(touchpoint_id)
        if known is not None:
            if stored.source is not None and known.source == stored.source:
                return list(known.released)
            return []
        waiting = self.pending.pop(touchpoint_id, ())
        released = tuple(
            JoinResult(f.feedback_id, stored.attribution, True, now_ms - f.received_at, f.payload) for f in waiting
        )
        self.touchpoints[touchpoint_id] = replace(stored, released=released)
        return list(released)

    def on_feedback(self, feedback: JoinInput, now_ms: int) -> JoinResult | None:
        """Attribute a feedback now, or buffer it (None) until its touchpoint or the deadline."""
        if feedback.touchpoint_id is None:
            return JoinResult(feedback.feedback_id, feedback.own, False, 0, feedback.payload)
        known = self.touchpoints.get(feedback.touchpoint_id)
        if known is not None:
            return JoinResult(feedback.feedback_id, known.attribution, True, 0, feedback.payload)
        if self.join_wait_ms == 0:
            return self._fallback(feedback, now_ms)
        waiting = self.pending.get(feedback.touchpoint_id, ())
        if any(f.feedback_id == feedback.feedback_id for f in waiting):
            return None  # a replay or a retry of a feedback already waiting
        self.pending[feedback.touchpoint_id] = (*waiting, feedback)
        return None

    def expire(self, now_ms: int, owned: Callable[[str], bool] = lambda _key: True) -> list[JoinResult]:
        """Release, with their fallback attribution, feedback that waited ``join_wait_ms`` or more.

        ``owned`` limits the scan to the touchpoint ids of one partition (a tick works on its own)."""
        released: list[JoinResult] = []
        for touchpoint_id in [k for k in self.pending if owned(k)]:
            waiting = self.pending.get(touchpoint_id)
            if not waiting:
                continue
            due = tuple(f for f in waiting if now_ms - f.received_at >= self.join_wait_ms)
            if not due:
                continue
            keep = tuple(f for f in waiting if f not in due)
            if keep:
                self.pending[touchpoint_id] = keep
            else:
                del self.pending[touchpoint_id]
            released.extend(self._fallback(f, now_ms) for f in due)
        return released

    def _fallback(self, feedback: JoinInput, now_ms: int) -> JoinResult:
        return JoinResult(feedback.feedback_id, feedback.own, False, now_ms - feedback.received_at,
                          feedback.payload)


def own_attribution(agency: str | None, service: str | None, channel: str | None) -> Attribution:
    """A feedback's own attribution, ``unknown`` for each part it does not carry."""
    return Attribution(agency or UNKNOWN, service or UNKNOWN, channel or UNKNOWN)
