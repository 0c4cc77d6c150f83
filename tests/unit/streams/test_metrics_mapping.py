"""The worker's and the sink's counters as Prometheus metrics: names, labels, values, prefixes."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from kafka import TopicPartition
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from cxstream.config import Settings
from cxstream.errors import ConfigError
from cxstream.sinks.metrics import SinkMetrics
from cxstream.sinks.routing import SINK_TABLES
from cxstream.streams.consumer_lag import ConsumerLag, topic_lag, worker_groups
from cxstream.streams.metrics import WorkerMetrics, worker_families
from cxstream.streams.metrics_http import FamiliesCollector, MetricsEndpoint


@dataclass
class _Acks:
    confirmed: int = 0
    released: int = 0
    held: int = 0


def _scrape(*sources: Iterable[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Render like the endpoint does, parse like Prometheus does: sample (name, labels) -> value."""
    registry = CollectorRegistry()
    for source in sources:
        materialised = list(source)
        registry.register(FamiliesCollector(lambda m=materialised: m))  # type: ignore[misc]
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_worker_counters_map_to_prefixed_metrics_with_bounded_labels() -> None:
    m = WorkerMetrics()
    m.events_in["t1.cx.feedback.v1"] += 3
    m.events_in["t1.cx.touchpoints.v1"] += 2
    m.events_in["t1.cxw.rekeyed"] += 1
    m.join_hits, m.join_buffered, m.join_released, m.join_fallbacks = 4, 5, 6, 7
    m.rekeyed, m.dedupe_hits = 1, 2
    m.dead_letters["malformed"] += 2
    m.dead_letters["too_late"] += 1
    m.partials_emitted, m.scores_emitted = 11, 9
    m.alerts["firing"] += 1
    samples = _scrape(worker_families(m, _Acks(confirmed=20, released=3, held=4), topic_prefix="t1."))

    assert samples[("cxstream_events_in_total", (("topic", "cx.feedback.v1"),))] == 3
    assert samples[("cxstream_events_in_total", (("topic", "cx.touchpoints.v1"),))] == 2
    assert samples[("cxstream_events_in_total", (("topic", "cxw.rekeyed"),))] == 1
    assert samples[("cxstream_join_hits_total", ())] == 4
    assert samples[("cxstream_join_buffered_total", ())] == 5
    assert samples[("cxstream_join_released_total", ())] == 6
    assert samples[("cxstream_join_fallbacks_total", ())] == 7
    assert samples[("cxstream_rekeyed_total", ())] == 1
    assert samples[("cxstream_dedupe_hits_total", ())] == 2
    assert samples[("cxstream_dead_letters_total", (("reason", "malformed"),))] == 2
    assert samples[("cxstream_dead_letters_total", (("reason", "too_late"),))] == 1
    assert samples[("cxstream_window_emits_total", (("kind", "partial"),))] == 11
    assert samples[("cxstream_window_emits_total", (("kind", "score"),))] == 9
    assert samples[("cxstream_alerts_total", (("state", "firing"),))] == 1
    assert samples[("cxstream_acks_confirmed_total", ())] == 20
    assert samples[("cxstream_acks_released_total", ())] == 3
    assert samples[("cxstream_acks_held", ())] == 4
    # Bounded label sets only: no id ever becomes a label.
    assert {k for _, labels in samples for k, _ in labels} <= {"topic", "reason", "kind", "state"}


def test_the_log_snapshot_and_the_metrics_read_the_same_counters() -> None:
    m = WorkerMetrics()
    m.dedupe_hits = 5
    m.dead_letters["invalid"] += 2
    snapshot = m.snapshot()
    samples = _scrape(worker_families(m))
    assert snapshot["dedupe_hits"] == samples[("cxstream_dedupe_hits_total", ())] == 5
    assert snapshot["dead_letters"] == {"invalid": 2}
    assert ("cxstream_acks_held", ()) not in samples  # no acks given, no ack metrics


def test_sink_metrics_carry_rows_by_table_outage_state_and_a_latency_histogram() -> None:
    sink = SinkMetrics()
    sink.batches = 2
    sink.rows.update({"feedback": 10, "scores": 4})
    sink.skipped.update({"tombstone": 1, "undecodable:t1.cx.scores.v1": 2})
    sink.failed_writes = 3
    sink.clickhouse_unavailable = True
    sink.lag_ms = 1500
    for seconds in (0.02, 0.04, 7.0):
        sink.batch_seconds.observe(seconds)
    samples = _scrape(sink.families(topic_prefix="t1."))

    assert samples[("cxstream_sink_batches_total", ())] == 2
    assert samples[("cxstream_sink_rows_total", (("table", "feedback"),))] == 10
    assert samples[("cxstream_sink_rows_total", (("table", "scores"),))] == 4
    assert samples[("cxstream_sink_skipped_total", (("reason", "undecodable:cx.scores.v1"),))] == 2
    assert samples[("cxstream_sink_write_failures_total", ())] == 3
    assert samples[("cxstream_sink_clickhouse_unavailable", ())] == 1
    assert samples[("cxstream_sink_delay_seconds", ())] == 1.5
    assert samples[("cxstream_sink_batch_duration_seconds_count", ())] == 3
    assert samples[("cxstream_sink_batch_duration_seconds_bucket", (("le", "0.05"),))] == 2
    assert samples[("cxstream_sink_batch_duration_seconds_bucket", (("le", "5.0"),))] == 2
    assert samples[("cxstream_sink_batch_duration_seconds_bucket", (("le", "10.0"),))] == 3
    assert sink.snapshot()["sink_rows"] == {"feedback": 10, "scores": 4}  # the log line is unchanged


def test_two_sinks_in_one_process_have_separate_histograms() -> None:
    first, second = SinkMetrics(), SinkMetrics()
    first.batch_seconds.observe(1.0)
    assert _scrape(second.families())[("cxstream_sink_batch_duration_seconds_count", ())] == 0


@pytest.mark.parametrize(
    ("ends", "committed", "starts", "expected"),
    [
        ({0: 10, 1: 5}, {0: 10, 1: 5}, {}, 0),  # all committed
        ({0: 10, 1: 5}, {0: 7, 1: 1}, {}, 7),  # 3 + 4
        ({0: 10}, {}, {0: 4}, 6),  # nothing committed: from the log start
        ({0: 10}, {0: -1}, {0: 2}, 8),  # "no offset" marker: from the log start
        ({0: 10}, {0: 12}, {}, 0),  # committed past a truncated end never counts negative
    ],
)
def test_topic_lag_is_end_minus_committed_summed_over_partitions(
        ends: dict[int, int], committed: dict[int, int], starts: dict[int, int], expected: int) -> None:
    def tps(offsets: dict[int, int]) -> dict[TopicPartition, int]:
        return {TopicPartition("cx.feedback.v1", p): o for p, o in offsets.items()}

    assert topic_lag(tps(ends), tps(committed), tps(starts)) == {"cx.feedback.v1": expected}


def test_lag_is_measured_for_the_stages_group_and_the_sinks_group() -> None:
    settings = Settings.load({"topic_prefix": "t1.", "worker_id": "cxw"}, environ={})
    groups = worker_groups(settings)
    assert groups["worker"][0] == "t1.cxw" and groups["sink"][0] == "t1.cxw.sink"
    assert {"cx.touchpoints.v1", "cx.feedback.v1", "cxw.joined", "cxw.partials", "cxw.alert-input"} <= set(
        groups["worker"][1:])
    assert "cxw.confirms" not in groups["worker"]  # written, never read by a group
    assert set(groups["sink"][1:]) == set(SINK_TABLES)
    assert {"cx.touchpoints.v1", "cx.feedback.enriched.v1", "cx.scores.v1"} <= set(groups["sink"][1:])


def test_lag_metrics_show_the_last_measurement_and_failures() -> None:
    lag = ConsumerLag(Settings.load({"topic_prefix": "t1."}, environ={}), interval=1)
    lag.sample.lag = {("worker", "cx.feedback.v1"): 4, ("sink", "cx.scores.v1"): 0}
    lag.sample.sampled_at = 1_700_000_000.0
    lag.sample.errors = 2
    samples = _scrape(lag.families())
    assert samples[("cxstream_consumer_lag_records", (("group", "worker"), ("topic", "cx.feedback.v1")))] == 4
    assert samples[("cxstream_consumer_lag_records", (("group", "sink"), ("topic", "cx.scores.v1")))] == 0
    assert samples[("cxstream_consumer_lag_sampled_timestamp_seconds", ())] == 1_700_000_000.0
    assert samples[("cxstream_consumer_lag_errors_total", ())] == 2


def test_a_metrics_port_in_use_is_a_configuration_error_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        endpoint = MetricsEndpoint(Settings.load({"metrics_port": port}, environ={}))
        with pytest.raises(ConfigError, match="CXSTREAM_METRICS_PORT"):
            endpoint.start()
        endpoint.stop()
