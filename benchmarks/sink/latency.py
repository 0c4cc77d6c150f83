"""Event -> visible in ClickHouse: how long after a feedback is published does `cx.feedback` show it?

Run: .venv/bin/python -m benchmarks.sink.latency [--rate 100] [--seconds 60] [--feedback-share 1.0]
Starts one `cxstream worker` (stages and sink) on fresh prefixed topics and a database of its own,
publishes touchpoints at a steady rate, with a feedback for each (``--feedback-share 1``, the
default: pairs) or for that share of them (0.1: the bench mix), and polls the store table under the
`feedback` view (`feedback_store`: a row there is in the view at once) every 100 ms; a
feedback's latency is the first poll that shows it minus its send time (so the figures carry up
to ~100 ms of polling resolution plus the query time). Prints p50/p95/p99/max.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from clickhouse_driver import Client
from kafka import KafkaProducer

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.worker import running_worker, wait_for


@dataclass
class Latency:
    """Event -> visible figures of one run, in milliseconds."""

    rate_pairs: float  # touchpoints per second
    seconds: float
    sent: int
    visible: int
    p50: float
    p95: float
    p99: float
    max: float
    feedback_share: float = 1.0

    def line(self) -> str:
        events = self.rate_pairs * (1 + self.feedback_share)
        what = "pairs/s" if self.feedback_share == 1.0 else f"touchpoints/s, feedback for {self.feedback_share:.0%}"
        return (f"rate {self.rate_pairs:.0f} {what} ({events:.0f} events/s) for {self.seconds:.0f}s: "
                f"{self.visible}/{self.sent} visible; latency ms p50 {self.p50:.0f}  p95 {self.p95:.0f}  "
                f"p99 {self.p99:.0f}  max {self.max:.0f}")


def measure(rate: float, seconds: float, feedback_share: float = 1.0) -> Latency:
    """Publish ``rate`` touchpoint + feedback pairs per second for ``seconds`` to a fresh worker and
    time each feedback until the ``feedback`` view shows it."""
    base = Settings.load({})
    sent: dict[str, float] = {}
    order: list[str] = []  # feedback ids in send order
    seen: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, running_worker(base, Path(tmp), join_wait_seconds=60) as run:
        wait_for(lambda: "sink.started" in run.log_text(), timeout=90, what="the sink to start")
        s = run.settings
        client = Client(host=s.clickhouse_host, port=s.clickhouse_port, user=s.clickhouse_user,
                        password=s.clickhouse_password)
        tag = uuid.uuid4().hex[:6]

        producer = KafkaProducer(bootstrap_servers=s.bootstrap_servers, acks="all", linger_ms=2)

        def publish() -> None:
            total = int(rate * seconds)
            start = time.monotonic()
            for i in range(total):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                now_ms = int(time.time() * 1000)
                tp = Touchpoint(f"L{tag}-tp-{i}", now_ms, "VA", "claims", "phone")
                fb = Feedback(f"L{tag}-fb-{i}", now_ms, {"satisfaction": 4, "trust": 3}, tp.touchpoint_id)
                producer.send(s.topic(TOPIC_TOUCHPOINTS), key=tp.touchpoint_id.encode(),
                              value=run.codec.encode_record(tp))
                if int((i + 1) * feedback_share) == int(i * feedback_share):
                    continue  # this touchpoint gets no feedback
                sent[fb.feedback_id] = time.time()
                order.append(fb.feedback_id)
                producer.send(s.topic(TOPIC_FEEDBACK), key=fb.kafka_key, value=run.codec.encode_record(fb))
            producer.flush()

        sender = threading.Thread(target=publish, daemon=True)
        sender.start()
        deadline = time.monotonic() + seconds + 120
        first_unseen = 0
        while time.monotonic() < deadline and (sender.is_alive() or len(seen) < len(sent)):
            while first_unseen < len(order) and order[first_unseen] in seen:
                first_unseen += 1
            # Only rows sent since the oldest feedback not seen yet (the table is ordered by
            # submitted_at, so that is a small range): reading every row ten times a second made
            # the poller, in this process on the same cores, a load that grew with the run.
            since = int(sent[order[first_unseen]]) - 2 if first_unseen < len(order) else int(time.time()) - 2
            # The store table, not the FINAL view: a row in the store is in the view at once (FINAL
            # only collapses duplicates), and polling a FINAL view ten times a second slows the
            # sink's own inserts on 18.16 (BENCHMARKS.md), which would measure the poller.
            rows = client.execute(f"SELECT DISTINCT feedback_id FROM {s.clickhouse_database}.feedback_store "
                                  f"WHERE submitted_at >= toDateTime({since}, 'UTC')")
            now = time.time()
            for (feedback_id,) in rows:
                if feedback_id not in seen:
                    seen[feedback_id] = now
            time.sleep(0.1)
        client.disconnect()
        producer.close()
    latencies = sorted((seen[f] - sent[f]) * 1000 for f in seen if f in sent)
    if not latencies:
        raise RuntimeError("no feedback became visible")
    q = statistics.quantiles(latencies, n=100)
    return Latency(rate, seconds, len(sent), len(latencies), q[49], q[94], q[98], latencies[-1], feedback_share)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="touchpoints per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--feedback-share", type=float, default=1.0,
                        help="share of touchpoints followed by a feedback (1: pairs; 0.1: the bench mix)")
    args = parser.parse_args()
    if not 0 < args.feedback_share <= 1:
        parser.error("--feedback-share must be above 0 and at most 1")
    print(measure(args.rate, args.seconds, args.feedback_share).line())


if __name__ == "__main__":
    main()
