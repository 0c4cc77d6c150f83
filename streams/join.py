"""Joining feedback to its touchpoint, in any arrival order.

Pure logic over two mappings (the worker backs them with changelogged Faust tables):
``touchpoints`` (touchpoint_id -> attribution) and ``pending`` (touchpoint_id -> feedback waiting
for that touchpoint). A feedback whose touchpoint is known is attributed at once; one that comes
first waits until its touchpoint arrives or ``join_wait_ms`` passes, then falls back to its own
agency/service/channel, else ``unknown``. Nothing is ever dropped for lack of a touchpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, MutableMapping
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
    """The parts of a feedback the join needs, plus the whole record to carry through.

    ``source`` names the input message (topic:partition:offset): the identity dedupe uses to let
    the first copy of a feedback_id win, whichever copy the join releases first. ``late`` says it
    arrived too late for the live windows: it is joined and stored, never scored."""

    feedback_id: str
    touchpoint_id: str | None
    own: Attribution  # the feedback's own agency/service/channel, ``unknown`` where absent
    received_at: int  # wall-clock ms when the worker first saw it (starts the join wait)
    payload: Any = field(default=None, compare=False)  # the feedback itself, carried to the output
    source: str = ""
    late: bool = False


@dataclass(frozen=True, slots=True)
class JoinResult:
    """A feedback with the cell it is scored in; ``matched`` when its touchpoint attributed it."""

    feedback_id: str
    attribution: Attribution
    matched: bool
    waited_ms: int
    payload: Any = field(default=None, compare=False)
    source: str = ""
    late: bool = False


#: on_touchpoint's scope when the caller does not give it.
_UNKNOWN: Any = object()


class Join:
    """The join's state transitions. Idempotent: replaying an input yields the same outputs."""

    def __init__(
        self,
        touchpoints: MutableMapping[str, StoredTouchpoint],
        pending: MutableMapping[str, tuple[JoinInput, ...]],
        join_wait_ms: int,
        scope_of: Callable[[str], Hashable] = lambda _touchpoint_id: None,
        keys_of_scope: Callable[[Hashable], Iterable[str]] | None = None,
    ) -> None:
        self.touchpoints = touchpoints
        self.pending = pending
        self.join_wait_ms = join_wait_ms
        # Expiry scans a scope (the worker: a partition) of ``pending``; scanning a table of
        # thousands of waiting keys every tick cost the worker most of its time on a backlog.
        # Per scope, a time before which nothing there is due: never later than the truth (an
        # addition only lowers it, a release leaves it early, which costs a scan, not a miss).
        # A scope without an entry is unknown and is scanned.
        self.scope_of = scope_of
        # The pending keys of a scope; by default every key is asked ``scope_of``.
        self.keys_of_scope = keys_of_scope or (lambda scope: [k for k in self.pending if self.scope_of(k) == scope])
        self._next_due: dict[Hashable, float] = {}

    def on_touchpoint(self, touchpoint_id: str, stored: StoredTouchpoint, now_ms: int,
                      scope: Hashable = _UNKNOWN) -> list[JoinResult]:
        """Remember a touchpoint (the first one wins) and release the feedback waiting for it.

        The released results are kept with the touchpoint: when the same message is replayed after
        a crash (same ``source``), they are released again, since their first emission may have
        been lost with the crash while the state change survived. ``scope``: the touchpoint's
        scope if the caller knows it; then ``pending`` is not read while nothing can wait there
        (the worker: one store read fewer for nearly every touchpoint)."""
        known = self.touchpoints.get(touchpoint_id)
        if known is not None:
            if stored.source is not None and known.source == stored.source:
                return list(known.released)
            return []
        # A scope whose next deadline is known to be never holds no feedback (see expire()).
        nothing_waits = scope is not _UNKNOWN and self._next_due.get(scope) == math.inf
        waiting = () if nothing_waits else self.pending.pop(touchpoint_id, ())
        released = tuple(_result(f, stored.attribution, True, now_ms - f.received_at) for f in waiting)
        # dataclasses.replace costs a few us; most touchpoints release nothing.
        self.touchpoints[touchpoint_id] = replace(stored, released=released) if released or stored.released else stored
        return list(released)

    def on_feedback(self, feedback: JoinInput, now_ms: int) -> JoinResult | None:
        """Attribute a feedback now, or buffer it (None) until its touchpoint or the deadline.

        None also for a replay of a feedback already waiting: either way the caller may announce
        that this copy was received first (see streams/dedupe.py), and announcing twice is harmless."""
        if feedback.touchpoint_id is None:
            return _result(feedback, feedback.own, False, 0)
        known = self.touchpoints.get(feedback.touchpoint_id)
        if known is not None:
            return _result(feedback, known.attribution, True, 0)
        if self.join_wait_ms == 0:
            return self._fallback(feedback, now_ms)
        waiting = self.pending.get(feedback.touchpoint_id, ())
        if any(f.feedback_id == feedback.feedback_id for f in waiting):
            return None  # a replay or a retry of a feedback already waiting
        self.pending[feedback.touchpoint_id] = (*waiting, feedback)
        scope = self.scope_of(feedback.touchpoint_id)
        if scope in self._next_due:
            self._next_due[scope] = min(self._next_due[scope], feedback.received_at + self.join_wait_ms)
        return None

    def expire(self, now_ms: int, scope: Hashable = None) -> list[JoinResult]:
        """Release, with their fallback attribution, feedback that waited ``join_wait_ms`` or more.

        Only the touchpoint ids of ``scope`` are looked at (a tick works on its own partition), and
        not at all while nothing there can be due yet."""
        if now_ms < self._next_due.get(scope, -math.inf):
            return []
        released: list[JoinResult] = []
        next_due = math.inf
        for touchpoint_id in list(self.keys_of_scope(scope)):
            waiting = self.pending.get(touchpoint_id)
            if not waiting:
                continue
            due = tuple(f for f in waiting if now_ms - f.received_at >= self.join_wait_ms)
            keep = tuple(f for f in waiting if f not in due)
            next_due = min([next_due, *(f.received_at + self.join_wait_ms for f in keep)])
            if not due:
                continue
            if keep:
                self.pending[touchpoint_id] = keep
            else:
                del self.pending[touchpoint_id]
            released.extend(self._fallback(f, now_ms) for f in due)
        self._next_due[scope] = next_due
        return released

    def forget_scopes(self, scopes: Iterable[Hashable]) -> None:
        """What is pending in these scopes is no longer known here (e.g. a partition was
        reassigned, and another worker may have changed it): their next expiry scans."""
        for scope in scopes:
            self._next_due.pop(scope, None)

    def _fallback(self, feedback: JoinInput, now_ms: int) -> JoinResult:
        return _result(feedback, feedback.own, False, now_ms - feedback.received_at)


def _result(feedback: JoinInput, attribution: Attribution, matched: bool, waited_ms: int) -> JoinResult:
    return JoinResult(feedback.feedback_id, attribution, matched, waited_ms, feedback.payload, feedback.source,
                      feedback.late)


def own_attribution(agency: str | None, service: str | None, channel: str | None) -> Attribution:
    """A feedback's own attribution, ``unknown`` for each part it does not carry."""
    return Attribution(agency or UNKNOWN, service or UNKNOWN, channel or UNKNOWN)
