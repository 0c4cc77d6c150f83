"""Scoring state: answer counts per cell, applied exactly once under at-least-once delivery.

A cell is (source partition, window start, agency, service, channel, domain). Its state carries,
next to the counts, the offset of the last source message applied to it, so a replayed message
(offset at or below it) is skipped atomically with the state it would change: the counts and
the offset are one table value, written as one changelog record. Cells are per source partition
(partial states); their sums across partitions are the window's score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cxstream.scores import AnswerCounts


@dataclass(frozen=True, slots=True)
class CellKey:
    """One partial cell: a source partition's share of a (window, agency, service, channel, domain)."""

    partition: int
    window_start: int  # UTC epoch ms, a multiple of the window width
    agency: str
    service: str
    channel: str
    domain: str

    def window_key(self) -> WindowKey:
        return WindowKey(self.window_start, self.agency, self.service, self.channel, self.domain)


@dataclass(frozen=True, slots=True)
class WindowKey:
    """A scored cell across all partitions: what cx.scores.v1 and cx.domain_scores are keyed by."""

    window_start: int
    agency: str
    service: str
    channel: str
    domain: str


@dataclass(frozen=True, slots=True)
class CellState:
    """Counts of a partial cell and the last source offset applied to it (-1: none yet)."""

    counts: AnswerCounts = AnswerCounts()
    applied_offset: int = -1

    @property
    def version(self) -> int:
        """Monotonic per cell: grows with every applied message, same value on every replay."""
        return self.applied_offset + 1


def apply_answer(state: CellState | None, answer: int, offset: int) -> CellState | None:
    """The cell's state after one answer from the message at ``offset``; None if already applied."""
    current = state or CellState()
    if offset <= current.applied_offset:
        return None
    return CellState(current.counts.add(answer), offset)


@dataclass(frozen=True, slots=True)
class Partial:
    """The latest full state of one partition's share of a window, as published for merging."""

    partition: int
    version: int
    counts: AnswerCounts


@dataclass(frozen=True, slots=True)
class MergedScore:
    """A window's score: the sum of the latest partial of every partition, with its version."""

    counts: AnswerCounts
    version: int


def merge_partials(partials: Mapping[int, Partial]) -> MergedScore:
    """Sum the latest partial of each partition. The version (sum of partial versions) grows
    whenever any partial does, so a consumer keeping the highest version keeps the latest sum."""
    counts = AnswerCounts()
    version = 0
    for partial in partials.values():
        counts = counts + partial.counts
        version += partial.version
    return MergedScore(counts, version)


def newer_partial(known: Partial | None, incoming: Partial) -> bool:
    """True if ``incoming`` replaces ``known`` (a replayed or reordered older partial does not)."""
    return known is None or incoming.version > known.version
