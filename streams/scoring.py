"""Scoring state: answer counts per cell, applied exactly once under at-least-once delivery.

A cell is (source partition, window start, agency, service, channel) and holds the counts of
every domain answered there, and, for the current A-11 form, the trust answers per scale and the
offered / went well / didn't go well counts per driver. Its state carries, next to the counts, the offset of the last source
message applied to it, so a replayed message (offset at or below it) is skipped atomically with
the state it would change: the counts and the offset are one table value, written as one
changelog record per feedback (a feedback answers several domains of one cell; one value per
domain cost a record per answer, ~4.7 per feedback). Cells are per source partition (partial
states); their sums across partitions are the window's scores, one per domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cxstream.schemas.records import A11V2
from cxstream.scores import AnswerCounts, DriverCounts, TrustCounts

#: Counts per domain.
DomainCounts = Mapping[str, AnswerCounts]
#: Trust answers per scale (thumbs, five_point), and counts per driver (current A-11 form).
TrustByScale = Mapping[str, TrustCounts]
DriversCounts = Mapping[str, DriverCounts]


def domain_counts_to_json(counts: DomainCounts) -> dict[str, list[int]]:
    """The one JSON form of counts per domain (table values and internal records)."""
    return {domain: list(c.as_tuple()) for domain, c in counts.items()}


def domain_counts_from_json(raw: Mapping[str, list[int]]) -> dict[str, AnswerCounts]:
    return {domain: AnswerCounts(*counts) for domain, counts in raw.items()}


def form_counts_to_json(trust: TrustByScale, drivers: DriversCounts) -> dict[str, Any] | None:
    """The one JSON form of a cell's current-form counts; None when it has none (older values and
    cells of the 2019-2023 form alone carry nothing)."""
    if not trust and not drivers:
        return None
    return {"trust": {scale: list(c.counts) for scale, c in trust.items()},
            "drivers": {driver: list(c.as_tuple()) for driver, c in drivers.items()}}


def form_counts_from_json(raw: Mapping[str, Any] | None) -> tuple[dict[str, TrustCounts], dict[str, DriverCounts]]:
    if not raw:
        return {}, {}
    return ({scale: TrustCounts(tuple(c)) for scale, c in raw.get("trust", {}).items()},
            {driver: DriverCounts(*c) for driver, c in raw.get("drivers", {}).items()})


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
    """Counts per domain of a partial cell, its current-form counts, and the last source offset
    applied to it (-1: none yet)."""

    counts: DomainCounts = field(default_factory=dict)
    applied_offset: int = -1
    trust: TrustByScale = field(default_factory=dict)
    drivers: DriversCounts = field(default_factory=dict)

    @property
    def version(self) -> int:
        """Monotonic per cell: grows with every applied message, same value on every replay."""
        return self.applied_offset + 1


def apply_answers(state: CellState | None, answers: Mapping[str, int], offset: int,
                  a11_v2: A11V2 | None = None) -> CellState | None:
    """The cell's state after one feedback's answers (domain -> 1..5, and the current form's, if
    any) from the message at ``offset``; None if that message was already applied."""
    current = state or CellState()
    if offset <= current.applied_offset:
        return None
    counts = dict(current.counts)
    for domain, answer in answers.items():
        counts[domain] = counts.get(domain, AnswerCounts()).add(answer)
    trust, drivers = current.trust, current.drivers
    if a11_v2 is not None:
        trust = {**trust, a11_v2.trust_scale: trust.get(a11_v2.trust_scale, TrustCounts()).add(a11_v2.trust)}
        drivers = dict(drivers)
        for driver in a11_v2.offered:
            drivers[driver] = drivers.get(driver, DriverCounts()) + DriverCounts(
                1, int(driver in a11_v2.went_well), int(driver in a11_v2.did_not_go_well))
    return CellState(counts, offset, trust, drivers)


@dataclass(frozen=True, slots=True)
class Partial:
    """The latest full state of one partition's share of a window cell, as published for merging."""

    partition: int
    version: int
    counts: DomainCounts
    trust: TrustByScale = field(default_factory=dict)
    drivers: DriversCounts = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MergedScore:
    """A window cell's scores: per domain (and per trust scale and driver) the sum of the latest
    partial of every partition, and the version of the sum (shared by everything in the cell)."""

    counts: DomainCounts
    version: int
    trust: TrustByScale = field(default_factory=dict)
    drivers: DriversCounts = field(default_factory=dict)


def _summed(into: dict[str, Any], parts: Mapping[str, Any]) -> None:
    for name, part in parts.items():
        known = into.get(name)
        into[name] = part if known is None else known + part


def merge_partials(partials: Mapping[int, Partial]) -> MergedScore:
    """Sum the latest partial of each partition, per domain, scale and driver. The version (sum of
    partial versions) grows whenever any partial does, so a consumer keeping the highest version
    keeps the latest sum."""
    counts: dict[str, AnswerCounts] = {}
    trust: dict[str, TrustCounts] = {}
    drivers: dict[str, DriverCounts] = {}
    version = 0
    for partial in partials.values():
        _summed(counts, partial.counts)
        _summed(trust, partial.trust)
        _summed(drivers, partial.drivers)
        version += partial.version
    return MergedScore(counts, version, trust, drivers)


def newer_partial(known: Partial | None, incoming: Partial) -> bool:
    """True if ``incoming`` replaces ``known`` (a replayed or reordered older partial does not)."""
    return known is None or incoming.version > known.version


#: How a cell's current-form measures are named next to its domains (dirty marks, score keys).
TRUST_MEASURE = "trust:"
DRIVER_MEASURE = "driver:"


def measures(score: MergedScore | Partial) -> dict[str, Any]:
    """Everything a cell counts, by measure name: each domain, ``trust:<scale>``, ``driver:<name>``."""
    return {**score.counts, **{TRUST_MEASURE + s: c for s, c in score.trust.items()},
            **{DRIVER_MEASURE + d: c for d, c in score.drivers.items()}}


def changed_domains(known: Partial | None, incoming: Partial) -> set[str]:
    """The measures (domains, trust scales, drivers) whose counts ``incoming`` changes against ``known``."""
    new = measures(incoming)
    if known is None:
        return set(new)
    old = measures(known)
    return {m for m, c in new.items() if old.get(m) != c} | (set(old) - set(new))
