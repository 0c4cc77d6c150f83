"""Counters of what the worker did, logged periodically (a Prometheus endpoint comes with operations work)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class WorkerMetrics:
    """Process-wide counters; one instance, METRICS, per worker process."""

    events_in: Counter[str] = field(default_factory=Counter)
    join_hits: int = 0
    join_buffered: int = 0
    join_released: int = 0
    join_fallbacks: int = 0
    rekeyed: int = 0
    dedupe_hits: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    partials_emitted: int = 0
    scores_emitted: int = 0
    alerts: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        data = asdict(self)
        data["events_in"] = dict(self.events_in)
        data["dead_letters"] = dict(self.dead_letters)
        data["alerts"] = dict(self.alerts)
        return data


METRICS = WorkerMetrics()
