"""Consumer lag of the worker's two groups (the stages' and the sink's), measured by asking Kafka.

Lag of a partition = its end offset minus the group's committed offset (the log start when the
group has committed nothing there yet): what a restart of the group would have to read again.

Measured with an admin query every ``metrics_lag_seconds`` in a thread of its own, not from the
consumers' own fetch positions, because:

- it is the committed offset that matters here: the stages commit only what the broker confirmed
  (acking.py) and the sink only what ClickHouse has, so a fetched-but-unconfirmed record is lag;
- it is right while a consumer is paused (the sink during a ClickHouse outage fetches nothing,
  so its high-water marks would go stale exactly when the lag grows);
- it covers partitions nobody owns (a dead worker, a rebalance), and keeps measuring when the
  worker's event loop is stuck, which is when a lag alert must fire.

Every worker reports the whole group, so aggregate across workers with ``max``, not ``sum``.
Cost: one metadata, two list-offsets and one offset-fetch request per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import OffsetSpec
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from cxstream.config import Settings
from cxstream.kafka_clients import security_options
from cxstream.logs import get_logger
from cxstream.sinks.routing import SINK_TABLES
from cxstream.streams.app import internal_topic_names
from cxstream.vocabulary import INPUT_TOPICS

log = get_logger(__name__)


def worker_groups(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Role ("worker", "sink") -> (group id, then the unprefixed topics that group reads)."""
    # The confirms topic is written, never read: no group offset to compare with.
    stage_topics = INPUT_TOPICS + tuple(t for t in internal_topic_names(settings) if not t.endswith(".confirms"))
    return {
        "worker": (settings.topic(settings.worker_id), *stage_topics),
        "sink": (settings.topic(f"{settings.worker_id}.sink"), *SINK_TABLES),
    }


def topic_lag(ends: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, int],
              starts: Mapping[TopicPartition, int]) -> dict[str, int]:
    """Lag per topic, summed over its partitions: end minus committed (or the log start)."""
    lag: dict[str, int] = {}
    for tp, end in ends.items():
        position = committed.get(tp)
        if position is None or position < 0:
            position = starts.get(tp, 0)
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - position)
    return lag


@dataclass
class LagSample:
    """The latest measurement: (role, unprefixed topic) -> records, and when it was taken."""

    lag: dict[tuple[str, str], int] = field(default_factory=dict)
    sampled_at: float = 0.0  # unix seconds; 0 until the first measurement succeeds
    errors: int = 0


class ConsumerLag:
    """Measures both groups' lag every ``interval`` seconds in a daemon thread."""

    def __init__(self, settings: Settings, interval: float | None = None) -> None:
        self.settings = settings
        self.interval = float(interval if interval is not None else settings.metrics_lag_seconds)
        self.groups = worker_groups(settings)
        self.sample = LagSample()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._admin: KafkaAdminClient | None = None
        self._failing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cxstream-consumer-lag", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_admin()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.measure_once()
            self._stop.wait(self.interval)

    def measure_once(self) -> None:
        """One measurement; a failure is counted and logged once per streak, never raised."""
        try:
            lag = self._measure()
        except Exception as error:  # noqa: BLE001 - Kafka away or a topic gone: report, retry next interval
            self.sample.errors += 1
            self._close_admin()
            if not self._failing:
                log.warning("metrics.lag_unavailable", error=repr(error), retry_in_s=self.interval)
            self._failing = True
            return
        if self._failing:
            log.info("metrics.lag_available")
        self._failing = False
        # One assignment of a fresh dict: the /metrics thread reads either the old or the new one.
        self.sample.lag = lag
        self.sample.sampled_at = time.time()

    def _measure(self) -> dict[tuple[str, str], int]:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.settings.bootstrap_servers,
                                           client_id=self.settings.topic(f"{self.settings.worker_id}.lag"),
                                           request_timeout_ms=10000, **security_options(self.settings))
        admin = self._admin
        prefixed = {self.settings.topic(t) for _, *topics in self.groups.values() for t in topics}
        tps = [TopicPartition(t["name"], p["partition_index"]) for t in admin.describe_topics(sorted(prefixed))
               if t["error_code"] == 0 for p in t["partitions"]]
        ends = {tp: o.offset for tp, o in admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps}).items()}
        starts = {tp: o.offset for tp, o in admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps}).items()}
        group_ids = {group_id: role for role, (group_id, *_) in self.groups.items()}
        committed = admin.list_group_offsets(list(group_ids))
        lag: dict[tuple[str, str], int] = {}
        for role, (group_id, *topics) in self.groups.items():
            mine = {self.settings.topic(t) for t in topics}
            offsets = {tp: meta.offset for tp, meta in committed.get(group_id, {}).items()}
            by_topic = topic_lag({tp: end for tp, end in ends.items() if tp.topic in mine}, offsets, starts)
            for topic in topics:
                if self.settings.topic(topic) in by_topic:
                    lag[(role, topic)] = by_topic[self.settings.topic(topic)]
        return lag

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception:  # noqa: BLE001 - closing a client of a broker that went away
                pass

    def families(self) -> Iterator[Metric]:
        """The latest measurement as Prometheus metrics."""
        sample = self.sample
        lag = GaugeMetricFamily("cxstream_consumer_lag_records",
                                "Records of a topic not yet committed by the group (end offset minus committed "
                                "offset, summed over partitions); the same for every worker of the group",
                                labels=["group", "topic"])
        for (role, topic), n in sorted(sample.lag.items()):
            lag.add_metric([role, topic], n)
        yield lag
        when = GaugeMetricFamily("cxstream_consumer_lag_sampled_timestamp_seconds",
                                 "Unix time of the last successful lag measurement (0: none yet)")
        when.add_metric([], sample.sampled_at)
        yield when
        errors = CounterMetricFamily("cxstream_consumer_lag_errors", "Lag measurements that failed (Kafka unreachable)")
        errors.add_metric([], sample.errors)
        yield errors
