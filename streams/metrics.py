"""Counters of what the worker did: logged as ``worker.metrics`` and served on /metrics.

The stages bump plain attributes of :data:`METRICS` (tens of nanoseconds, no lock); the
/metrics endpoint turns a copy of them into Prometheus metrics only when it is scraped, so the
log line and the endpoint always agree and recording costs the stages nothing measurable.
Label values are bounded: topic names (without the run's prefix), reason codes, alert states.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric


@dataclass
class WorkerMetrics:
    """Process-wide counters; one instance, METRICS, per worker process."""

    events_in: Counter[str] = field(default_factory=Counter)  # by source topic (full name)
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
        """The fields of the ``worker.metrics`` log line."""
        data = asdict(self)
        data["events_in"] = dict(self.events_in)
        data["dead_letters"] = dict(self.dead_letters)
        data["alerts"] = dict(self.alerts)
        return data


METRICS = WorkerMetrics()


class AckCounts(Protocol):
    """What :class:`cxstream.streams.acking.ConfirmedAcks` counts."""

    confirmed: int
    released: int

    @property
    def held(self) -> int: ...


#: Plain counters: (attribute of WorkerMetrics, metric name without prefix and suffix, help).
_COUNTERS = (
    ("join_hits", "join_hits", "Feedback joined to its touchpoint on arrival"),
    ("join_buffered", "join_buffered", "Feedback that arrived before its touchpoint and waits for it"),
    ("join_released", "join_released", "Waiting feedback released by its touchpoint's arrival"),
    ("join_fallbacks", "join_fallbacks",
     "Waiting feedback whose touchpoint never came within join_wait_seconds: kept with its own attribution"),
    ("rekeyed", "rekeyed", "Input records on the wrong partition, forwarded to their home partition"),
    ("dedupe_hits", "dedupe_hits", "Repeated feedback_ids dropped by the dedupe stage"),
)


def worker_families(metrics: WorkerMetrics, acks: AckCounts | None = None, topic_prefix: str = "") -> Iterator[Metric]:
    """``metrics`` (and the ack counts) as Prometheus metrics named ``cxstream_*``."""
    # dict() copies a Counter in one step under the GIL; iterating it while a stage adds a new
    # key (a first dead-letter reason) would fail.
    events_in, dead_letters, alerts = dict(metrics.events_in), dict(metrics.dead_letters), dict(metrics.alerts)
    events = CounterMetricFamily("cxstream_events_in", "Records the join stage read, by input topic",
                                 labels=["topic"])
    for topic, n in sorted(events_in.items()):
        events.add_metric([_unprefixed(topic, topic_prefix)], n)
    yield events
    for attribute, name, help_text in _COUNTERS:
        counter = CounterMetricFamily(f"cxstream_{name}", help_text)
        counter.add_metric([], getattr(metrics, attribute))
        yield counter
    dead = CounterMetricFamily("cxstream_dead_letters", "Records sent to the dead-letter topic, by reason code",
                               labels=["reason"])
    for reason, n in sorted(dead_letters.items()):
        dead.add_metric([reason], n)
    yield dead
    emits = CounterMetricFamily("cxstream_window_emits",
                                "Window updates sent: per-partition partials (internal) and merged scores",
                                labels=["kind"])
    emits.add_metric(["partial"], metrics.partials_emitted)
    emits.add_metric(["score"], metrics.scores_emitted)
    yield emits
    raised = CounterMetricFamily("cxstream_alerts", "Alert transitions sent, by state (firing, resolved)",
                                 labels=["state"])
    for state, n in sorted(alerts.items()):
        raised.add_metric([state], n)
    yield raised
    if acks is None:
        return
    confirmed = CounterMetricFamily("cxstream_acks_confirmed",
                                    "Processed events whose outputs the broker confirmed: their offsets may commit")
    confirmed.add_metric([], acks.confirmed)
    yield confirmed
    held = GaugeMetricFamily("cxstream_acks_held", "Processed events waiting for the broker's confirmation")
    held.add_metric([], acks.held)
    yield held
    released = CounterMetricFamily("cxstream_acks_released",
                                   "Delivered events no stage processed, released during a rebalance or shutdown")
    released.add_metric([], acks.released)
    yield released


def _unprefixed(topic: str, prefix: str) -> str:
    return topic[len(prefix):] if prefix and topic.startswith(prefix) else topic
