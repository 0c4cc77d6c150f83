"""The worker's /metrics on the real stack: counts follow the traffic, and lag drains to zero."""

from __future__ import annotations

import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK
from tests.support.worker import WorkerRun, running_worker, wait_for

pytestmark = pytest.mark.integration
EVENTS = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """GET /metrics and parse it the way Prometheus does: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture(scope="module")
def worker(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerRun]:
    with running_worker(settings, tmp_path_factory.mktemp("metrics"), metrics_port=_free_port(),
                        metrics_lag_seconds=1, join_wait_seconds=2) as run:
        yield run


def test_counts_move_with_the_traffic_and_lag_drains_to_zero(worker: WorkerRun) -> None:
    port = worker.settings.metrics_port
    before = scrape(port)
    assert before[("cxstream_sink_clickhouse_unavailable", ())] == 0
    assert before.get(("cxstream_events_in_total", (("topic", TOPIC_FEEDBACK),)), 0) == 0

    now = int(time.time() * 1000)
    run = uuid.uuid4().hex[:6]
    for i in range(EVENTS):
        worker.send_touchpoint(Touchpoint(f"tp-{run}-{i}", now - 60_000, "GSA", "claims", "phone"))
    # Touchpoints first, and seen, so that every feedback finds its touchpoint: all join hits.
    wait_for(lambda: scrape(port).get(("cxstream_events_in_total", (("topic", "cx.touchpoints.v1"),))) == EVENTS,
             timeout=60, what="the touchpoints counted in")
    for i in range(EVENTS):
        worker.send_feedback(Feedback(f"fb-{run}-{i}", now - 30_000, {"satisfaction": 4}, f"tp-{run}-{i}"))
    worker.send_feedback(Feedback(f"fb-{run}-0", now - 30_000, {"satisfaction": 4}, f"tp-{run}-0"))  # a repeat
    worker.send_raw(TOPIC_FEEDBACK, b"junk", b"not an avro record")

    def settled() -> Samples | None:
        samples = scrape(port)
        lag = {labels: v for (name, labels), v in samples.items() if name == "cxstream_consumer_lag_records"}
        inputs_done = all(lag.get((("group", g), ("topic", t))) == 0 for g, t in (
            ("worker", "cx.touchpoints.v1"), ("worker", "cx.feedback.v1"), ("sink", "cx.touchpoints.v1"),
            ("sink", "cx.feedback.enriched.v1")))
        rows = samples.get(("cxstream_sink_rows_total", (("table", "feedback_store"),)), 0)
        return samples if inputs_done and rows >= EVENTS else None

    samples = wait_for(settled, timeout=120, what="both groups' input lag at 0 and the feedback rows written")
    assert samples[("cxstream_events_in_total", (("topic", "cx.touchpoints.v1"),))] == EVENTS
    assert samples[("cxstream_events_in_total", (("topic", TOPIC_FEEDBACK),))] == EVENTS + 2
    assert samples[("cxstream_join_hits_total", ())] == EVENTS + 1  # the repeat joins too, then dedupe drops it
    assert samples[("cxstream_dedupe_hits_total", ())] == 1
    assert samples[("cxstream_dead_letters_total", (("reason", "not_single_object"),))] == 1
    assert samples[("cxstream_sink_rows_total", (("table", "feedback_store"),))] == EVENTS
    assert samples[("cxstream_sink_rows_total", (("table", "touchpoints_store"),))] == EVENTS
    assert samples[("cxstream_sink_batch_duration_seconds_count", ())] >= 1
    assert samples[("cxstream_window_emits_total", (("kind", "score"),))] >= 1
    assert samples[("cxstream_consumer_lag_sampled_timestamp_seconds", ())] > time.time() - 30
    assert samples[("process_resident_memory_bytes", ())] > 0


def test_the_endpoint_stops_with_the_worker(worker: WorkerRun) -> None:
    port = worker.settings.metrics_port
    assert scrape(port)[("cxstream_sink_clickhouse_unavailable", ())] == 0
    worker.process.terminate()
    worker.process.wait(timeout=60)
    with pytest.raises(OSError):
        scrape(port)
