"""What metrics and log scrubbing cost the worker: per event, per scrape, per log line.

Run: .venv/bin/python -m benchmarks.metrics.overhead [--scrapes N]
No broker needed. Prints nanoseconds per recording call (what the stages do per event, and what
prometheus_client's own counters would cost instead), the time to render and serve one scrape
of a worker's full metric set over HTTP on loopback, and the scrubbing cost per log line.
"""

from __future__ import annotations

import argparse
import gc
import io
import platform
import statistics
import time
import urllib.request
from importlib.metadata import version
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest, start_http_server

from cxstream.config import Settings
from cxstream.logs import configure, get_logger, scrub_personal_data
from cxstream.sinks.metrics import SinkMetrics
from cxstream.streams.consumer_lag import ConsumerLag, worker_groups
from cxstream.streams.metrics import WorkerMetrics, worker_families
from cxstream.streams.metrics_http import FamiliesCollector, new_registry


def per_call_ns(action: Callable[[], Any], calls: int = 1_000_000, rounds: int = 5) -> float:
    """Best-of-rounds nanoseconds per call of ``action`` (loop overhead subtracted)."""
    def loop(fn: Callable[[], Any]) -> float:
        started = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        return (time.perf_counter_ns() - started) / calls

    gc.disable()
    try:
        empty = min(loop(lambda: None) for _ in range(rounds))
        return min(loop(action) for _ in range(rounds)) - empty
    finally:
        gc.enable()


def recording_costs() -> list[tuple[str, float]]:
    metrics = WorkerMetrics()
    topic = "cx.feedback.v1"
    counter = Counter("bench_events_in", "bench", ["topic"], registry=CollectorRegistry())
    child = counter.labels(topic)
    plain = Counter("bench_hits", "bench", registry=CollectorRegistry())
    sink = SinkMetrics()

    def attribute() -> None:
        metrics.join_hits += 1

    def keyed() -> None:
        metrics.events_in[topic] += 1

    return [
        ("stage: METRICS.join_hits += 1", per_call_ns(attribute)),
        ("stage: METRICS.events_in[topic] += 1", per_call_ns(keyed)),
        ("alternative: prometheus Counter.inc()", per_call_ns(plain.inc)),
        ("alternative: Counter.labels(topic).inc()", per_call_ns(lambda: counter.labels(topic).inc())),
        ("alternative: pre-bound child.inc()", per_call_ns(child.inc)),
        ("sink, per batch: histogram observe", per_call_ns(lambda: sink.batch_seconds.observe(0.03), 200_000)),
    ]


def full_registry() -> CollectorRegistry:
    """A worker's registry after some traffic: every family with realistic label sets."""
    settings = Settings.load({"topic_prefix": "t1.", "worker_id": "cxw"}, environ={})
    metrics = WorkerMetrics()
    for topic in ("t1.cx.touchpoints.v1", "t1.cx.feedback.v1", "t1.cxw.rekeyed"):
        metrics.events_in[topic] = 123_456
    for reason in ("not_single_object", "unknown_schema", "truncated", "malformed", "invalid", "too_late"):
        metrics.dead_letters[reason] = 42
    metrics.alerts.update({"firing": 3, "resolved": 2})
    sink = SinkMetrics()
    sink.rows.update({"touchpoints_store": 1000, "feedback_store": 900, "scores_store": 400, "dead_letters_store": 9})
    for i in range(500):
        sink.batch_seconds.observe(0.01 + i / 1000)
    lag = ConsumerLag(settings, interval=15)
    lag.sample.lag = {(role, topic): 0 for role, (_, *topics) in worker_groups(settings).items() for topic in topics}
    lag.sample.sampled_at = time.time()

    class Acks:
        confirmed, released, held = 1000, 0, 12

    registry = new_registry()
    registry.register(FamiliesCollector(lambda: worker_families(metrics, Acks(), "t1.")))
    registry.register(FamiliesCollector(lambda: sink.families("t1.")))
    registry.register(FamiliesCollector(lag.families))
    return registry


def scrape_costs(scrapes: int) -> dict[str, float]:
    registry = full_registry()
    body = generate_latest(registry)
    render = [_timed(lambda: generate_latest(registry)) for _ in range(scrapes)]
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        http = [_timed(lambda: urllib.request.urlopen(url, timeout=5).read()) for _ in range(scrapes)]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    return {"bytes": len(body), "samples": sum(len(f.samples) for f in registry.collect()),
            "render_ms_median": statistics.median(render), "render_ms_p99": _p99(render),
            "http_ms_median": statistics.median(http), "http_ms_p99": _p99(http)}


def log_costs() -> list[tuple[str, float]]:
    """Scrubbing one event dict, and logging + rendering a whole JSON line (scrubbing included)."""
    stage_event = {"pid": 1234, "stage": "join", "topic": "t1.cx.feedback.v1", "partition": 3, "offset": 98765,
                   "generation": 4, "event": "stage.event", "level": "debug", "timestamp": "2026-11-25T10:00:00Z"}
    metrics_line = {"acks_confirmed": 1000, "acks_held": 3, "acks_released": 0,
                    **WorkerMetrics(events_in={"t1.cx.feedback.v1": 1000}).snapshot(),  # type: ignore[arg-type]
                    "event": "worker.metrics", "level": "info", "timestamp": "2026-11-25T10:00:00Z"}
    out = io.StringIO()
    configure("debug", "json", stream=out)
    log = get_logger("bench")
    costs = [
        ("scrub a stage.event dict (debug, per event)",
         per_call_ns(lambda: scrub_personal_data(None, "", dict(stage_event)), 100_000)),
        ("scrub a worker.metrics dict", per_call_ns(lambda: scrub_personal_data(None, "", dict(metrics_line)), 50_000)),
        ("log + render one stage.event line (all of it)", per_call_ns(
            lambda: (log.debug("stage.event", pid=1234, stage="join", topic="t1.cx.feedback.v1", partition=3,
                               offset=98765, generation=4), out.seek(0), out.truncate()), 50_000)),
    ]
    configure("warning", "console")
    return costs


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _p99(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=300)
    args = parser.parse_args()
    print(f"CPython {platform.python_version()}, prometheus_client {version('prometheus_client')}")
    print("\nrecording, per call                              ns")
    for name, ns in recording_costs():
        print(f"{name:<45} {ns:8.1f}")
    scrape = scrape_costs(args.scrapes)
    print(f"\nscrape of a full worker registry ({scrape['samples']} samples, {scrape['bytes']} bytes), {args.scrapes} scrapes")
    print(f"render (generate_latest)   median {scrape['render_ms_median']:.2f} ms   p99 {scrape['render_ms_p99']:.2f} ms")
    print(f"HTTP GET on loopback       median {scrape['http_ms_median']:.2f} ms   p99 {scrape['http_ms_p99']:.2f} ms")
    print("\nlogs, per line                                        ns")
    for name, ns in log_costs():
        print(f"{name:<50} {ns:8.0f}")


if __name__ == "__main__":
    main()
