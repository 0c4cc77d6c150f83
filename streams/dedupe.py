"""Dedupe of feedback_id: the first copy *received* wins, and a replay of it is still the first.

Copies of one feedback_id can reach the dedupe in another order than they were received: a copy
that waits in the join for its touchpoint is released later than a retry naming a touchpoint
already known. So the join announces each copy it has to hold back (a *claim*, sent when the copy
is received) and tags every released copy with the same identity, its ``source`` (input topic,
partition and offset). The first claim or release seen for a feedback_id names the winner; only
the winner's release is stored and scored.

Remembering only "seen" would make a replayed winner look like a duplicate and lose it (the entry
may reach the changelog while the scores it guards do not). So the entry keeps the winner's
identity and the offset of the record that released it: that record again is a replay of the
winner; any other source, or another release of the same source (the join re-releases a copy when
its own input is replayed), is a duplicate.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """Which copy of a feedback_id was received first, and which record released it."""

    source: str  # the winner's identity (see the module docstring)
    seen_at: int  # wall-clock ms, for the dedupe horizon
    #: Offset (on the topic dedupe reads) of the winner's release that was counted; -1 while only
    #: its claim was seen. The join may release one copy more than once (its input replayed after
    #: a crash): only this record counts, the others are duplicates like any retry.
    released_at: int = -1


def claim(seen: MutableMapping[str, FirstSeen], feedback_id: str, source: str, now_ms: int) -> None:
    """A copy of ``feedback_id`` from ``source`` was received; it wins if nothing came before."""
    if feedback_id not in seen:
        seen[feedback_id] = FirstSeen(source, now_ms)


def is_first_occurrence(
    seen: MutableMapping[str, FirstSeen], feedback_id: str, source: str, offset: int, now_ms: int
) -> bool:
    """True for the release at ``offset`` that counts for ``feedback_id`` (and replays of that very
    record); False for every other copy, and for a second release of the winning copy."""
    entry = seen.get(feedback_id)
    if entry is None:
        seen[feedback_id] = FirstSeen(source, now_ms, offset)
        return True
    if entry.source != source:
        return False
    if entry.released_at < 0:
        seen[feedback_id] = FirstSeen(source, entry.seen_at, offset)
        return True
    return entry.released_at == offset


def forget_older_than(seen: MutableMapping[str, FirstSeen], horizon_ms: int, now_ms: int) -> int:
    """Drop entries past the dedupe horizon; returns how many were dropped."""
    expired = [key for key, entry in seen.items() if now_ms - entry.seen_at > horizon_ms]
    for key in expired:
        del seen[key]
    return len(expired)
