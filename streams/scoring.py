"""Scoring state: answer counts per cell, applied exactly once under at-least-once delivery.

A cell is (source partition, window start, agency, service, channel) and holds the counts of
every domain answered there. Its state carries, next to the counts, the offset of the last source
message applied to it, so a replayed message (offset at or below it) is skipped atomically with
the state it would change: the counts and the offset are one table value, written as one
changelog record per feedback (a feedback answers several domains of one cell; one value per
domain cost a record per answer, ~4.7 per feedback). Cells are per source partition (partial
states); their sums across partitions are the window's scores, one per domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cxstream.scores import AnswerCounts

#: Counts per domain.
DomainCounts = Mapping[str, AnswerCounts]


def domain_counts_to_json(counts: DomainCounts) -> dict[str, list[int]]:
    """The one JSON form of counts per domain (table values and internal records)."""
    return {domain: list(c.as_tuple()) for domain, c in counts.items()}


def domain_counts_from_json(raw: Mapping[str, list[int]]) -> dict[str, AnswerCounts]:
    return {domain: AnswerCounts(*counts) for domain, counts in raw.items()}


@dataclass(frozen=True, slots=True)
class CellKey:
    """One partial cell: a source partition's share of a (window, agency, service, channel)."""

    partition: int
    window_start: int  # UTC epoch ms, a multiple of the window width
    agency: str
    service: str
    channel: str

    def window_key(self) -> WindowKey:
        return WindowKey(self.window_start, self.agency, self.service, self.channel)


@dataclass(frozen=True, slots=True)
class WindowKey:
    """A cell across all partitions; with a domain, what cx.scores.v1 and cx.domain_scores are keyed by."""

    window_start: int
    agency: str
    service: str
    channel: str


@dataclass(frozen=True, slots=True)
class CellState:
    """Counts per domain of a partial cell and the last source offset applied to it (-1: none yet)."""

    counts: DomainCounts = field(default_factory=dict)
    applied_offset: int = -1

    @property
    def version(self) -> int:
        """Monotonic per cell: grows with every applied message, same value on every replay."""
        return self.applied_offset + 1


def apply_answers(state: CellState | None, answers: Mapping[str, int], offset: int) -> CellState | None:
    """The cell's state after one feedback's answers (domain -> 1..5) from the message at
    ``offset``; None if that message was already applied."""
    current = state or CellState()
    if offset <= current.applied_offset:
        return None
    counts = dict(current.counts)
    for domain, answer in answers.items():
        counts[domain] = counts.get(domain, AnswerCounts()).add(answer)
    return CellState(counts, offset)


@dataclass(frozen=True, slots=True)
class Partial:
    """The latest full state of one partition's share of a window cell, as published for merging."""

    partition: int
    version: int
    counts: DomainCounts


@dataclass(frozen=True, slots=True)
class MergedScore:
    """A window cell's scores: per domain the sum of the latest partial of every partition, and
    the version of the sum (shared by the cell's domains)."""

    counts: DomainCounts
    version: int


def merge_partials(partials: Mapping[int, Partial]) -> MergedScore:
    """Sum the latest partial of each partition, per domain. The version (sum of partial versions)
    grows whenever any partial does, so a consumer keeping the highest version keeps the latest sum."""
    counts: dict[str, AnswerCounts] = {}
    version = 0
    for partial in partials.values():
        for domain, domain_counts in partial.counts.items():
            known = counts.get(domain)
            counts[domain] = domain_counts if known is None else known + domain_counts
        version += partial.version
    return MergedScore(counts, version)


def newer_partial(known: Partial | None, incoming: Partial) -> bool:
    """True if ``incoming`` replaces ``known`` (a replayed or reordered older partial does not)."""
    return known is None or incoming.version > known.version


def changed_domains(known: Partial | None, incoming: Partial) -> set[str]:
    """The domains whose counts ``incoming`` changes against ``known``."""
    if known is None:
        return set(incoming.counts)
    return {d for d, c in incoming.counts.items() if known.counts.get(d) != c} | (set(known.counts) - set(incoming.counts))
