"""Dedupe of feedback_id: the first occurrence wins, and a replay of it is still the first.

Remembering only "seen" would make a replayed first occurrence look like a duplicate and lose it
(the dedupe entry may reach the changelog while the scores it guards do not). So the entry keeps
the offset of the first occurrence: the same offset again is a replay of the winner, any other
offset is a duplicate.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """Where and when a feedback_id was first seen."""

    offset: int
    seen_at: int  # wall-clock ms, for the dedupe horizon


def is_first_occurrence(
    seen: MutableMapping[str, FirstSeen], feedback_id: str, offset: int, now_ms: int
) -> bool:
    """True for the first occurrence of ``feedback_id`` (and replays of it); False for duplicates."""
    entry = seen.get(feedback_id)
    if entry is None:
        seen[feedback_id] = FirstSeen(offset, now_ms)
        return True
    return entry.offset == offset


def forget_older_than(seen: MutableMapping[str, FirstSeen], horizon_ms: int, now_ms: int) -> int:
    """Drop entries past the dedupe horizon; returns how many were dropped."""
    expired = [key for key, entry in seen.items() if now_ms - entry.seen_at > horizon_ms]
    for key in expired:
        del seen[key]
    return len(expired)
