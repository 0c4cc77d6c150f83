"""What the ClickHouse sink did: counters for its ``sink.metrics`` log line and for /metrics.

One :class:`SinkMetrics` per sink. Its histogram is registered nowhere: the worker's collector
reads it with the rest, so two sinks in one process (tests) never clash in a global registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

#: Seconds from a batch's first record consumed to its offsets committed: a healthy batch is held
#: about ``sink_flush_ms`` (1 s) and written in tens of milliseconds, a full one sooner; a ClickHouse
#: outage holds one for minutes.
BATCH_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.25, 1.5, 2.0, 2.5, 5.0, 10.0, 30.0,
                         60.0, 300.0)


def _batch_histogram() -> Histogram:
    return Histogram("cxstream_sink_batch_duration_seconds",
                     "Seconds from a batch's first record consumed to its rows written and offsets committed "
                     "(the wait to fill it, the write, retries)",
                     buckets=BATCH_SECONDS_BUCKETS, registry=None)


@dataclass
class SinkMetrics:
    """Counters of one sink; the sink's task writes them, the /metrics thread reads them."""

    batches: int = 0  # one per flush: one table's held records written in one insert
    rows: dict[str, int] = field(default_factory=dict)
    inserts: dict[str, int] = field(default_factory=dict)  # by table: each makes >= 1 part per month touched
    flushes: dict[str, int] = field(default_factory=dict)  # by reason: "age", "full", "stop"
    held_records: int = 0  # consumed, not yet written (nor committed)
    skipped: dict[str, int] = field(default_factory=dict)
    failed_writes: int = 0
    clickhouse_unavailable: bool = False  # True from a refused write until a write succeeds
    last_batch_ms: float = 0.0
    lag_ms: float = 0.0  # broker timestamp of the batch's newest record -> rows written
    batch_seconds: Histogram = field(default_factory=_batch_histogram)

    def snapshot(self) -> dict[str, Any]:
        """The fields of the ``sink.metrics`` log line."""
        return {"sink_batches": self.batches, "sink_rows": dict(self.rows), "sink_inserts": dict(self.inserts),
                "sink_flushes": dict(self.flushes), "sink_held_records": self.held_records,
                "sink_skipped": dict(self.skipped),
                "sink_failed_writes": self.failed_writes, "sink_last_batch_ms": round(self.last_batch_ms, 1),
                "sink_lag_ms": round(self.lag_ms)}

    def families(self, topic_prefix: str = "") -> Iterator[Metric]:
        """The sink's Prometheus metrics (label values without the run's topic prefix)."""
        # dict() copies in one step under the GIL: the sink's task may add a key meanwhile.
        rows, skipped, inserts, flushes = dict(self.rows), dict(self.skipped), dict(self.inserts), dict(self.flushes)
        batches = CounterMetricFamily("cxstream_sink_batches", "Batches the sink wrote to ClickHouse and committed")
        batches.add_metric([], self.batches)
        yield batches
        written = CounterMetricFamily("cxstream_sink_rows", "Rows the sink wrote to ClickHouse, by table",
                                      labels=["table"])
        for table, n in sorted(rows.items()):
            written.add_metric([table], n)
        yield written
        insert = CounterMetricFamily("cxstream_sink_inserts", "INSERT queries the sink sent, by table (ClickHouse "
                                     "advises about one per second per table)", labels=["table"])
        for table, n in sorted(inserts.items()):
            insert.add_metric([table], n)
        yield insert
        flush = CounterMetricFamily("cxstream_sink_flushes", "Batches written, by why: age (held sink_flush_ms), "
                                    "full (sink_batch_rows records), stop", labels=["reason"])
        for reason, n in sorted(flushes.items()):
            flush.add_metric([reason], n)
        yield flush
        held = GaugeMetricFamily("cxstream_sink_held_records", "Records the sink consumed and holds for its next "
                                 "inserts (not yet written, not committed)")
        held.add_metric([], self.held_records)
        yield held
        skip = CounterMetricFamily("cxstream_sink_skipped", "Records the sink did not write, by reason",
                                   labels=["reason"])
        for reason, n in sorted(skipped.items()):
            skip.add_metric([reason.replace(topic_prefix, "", 1) if topic_prefix else reason], n)
        yield skip
        failures = CounterMetricFamily("cxstream_sink_write_failures",
                                       "Writes (or migrations) ClickHouse refused; each one is retried")
        failures.add_metric([], self.failed_writes)
        yield failures
        down = GaugeMetricFamily("cxstream_sink_clickhouse_unavailable",
                                 "1 while the sink holds a batch ClickHouse refused and retries it, else 0")
        down.add_metric([], 1.0 if self.clickhouse_unavailable else 0.0)
        yield down
        delay = GaugeMetricFamily("cxstream_sink_delay_seconds",
                                  "Last batch: seconds from its newest record reaching Kafka to its rows written")
        delay.add_metric([], self.lag_ms / 1000.0)
        yield delay
        yield from self.batch_seconds.collect()
