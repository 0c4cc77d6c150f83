"""The Kafka broker stops during ingestion and comes back: the worker rides it out, counts stay exact.

The scenario runs on a broker of its own (tests.support.private_stack.py): stopping the shared
one would break every other run. The channel side publishes the way a real channel must, retrying
until the broker acknowledges (so some messages arrive twice, which the pipeline must absorb).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from cxstream.config import Settings
from cxstream.schemas.records import Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, scale
from tests.support.ground_truth import Dataset, generate
from tests.support.private_stack import private_broker
from tests.support.stored import stored_differences
from tests.support.worker import WorkerRun, running_worker

from .test_worker_kill import _differences

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OUTAGE_SECONDS = 12.0


class RetryingChannel:
    """Publishes the dataset in small acknowledged chunks, resending a chunk until the broker takes it."""

    def __init__(self, run: WorkerRun, dataset: Dataset, seconds: float) -> None:
        self.run, self.dataset, self.seconds = run, dataset, seconds
        self.resent_chunks = 0
        self.thread = threading.Thread(target=self._publish, daemon=True)

    def _encode(self, message: object) -> tuple[str, bytes, bytes]:
        s, codec = self.run.settings, self.run.codec
        if isinstance(message, Touchpoint):
            return s.topic(TOPIC_TOUCHPOINTS), message.touchpoint_id.encode(), codec.encode("Touchpoint", message.to_avro())
        return s.topic(TOPIC_FEEDBACK), message.kafka_key, codec.encode("Feedback", message.to_avro())  # type: ignore[attr-defined]

    def _publish(self) -> None:
        encoded = [self._encode(m) for m in self.dataset.messages]
        chunks = [encoded[i:i + 20] for i in range(0, len(encoded), 20)]
        pause = self.seconds / max(len(chunks), 1)
        producer = self._producer()
        for chunk in chunks:
            while True:
                try:
                    futures = [producer.send(topic, key=key, value=value) for topic, key, value in chunk]
                    for future in futures:
                        future.get(timeout=10)
                    break
                except KafkaError:
                    self.resent_chunks += 1
                    time.sleep(1.0)
            time.sleep(pause)
        producer.close()

    def _producer(self) -> KafkaProducer:
        return KafkaProducer(bootstrap_servers=self.run.settings.bootstrap_servers, acks="all", linger_ms=5,
                             retries=5, request_timeout_ms=5000, max_block_ms=5000, reconnect_backoff_max_ms=1000)


def test_scores_are_exact_when_the_broker_stops_and_restarts(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"X{uuid.uuid4().hex[:6]}"
    outages = scale()
    dataset = generate(seed=31, agency_prefix=prefix, touchpoints=500 * outages, now_ms=int(time.time() * 1000))
    fault_figures.events = len(dataset.messages)
    with private_broker(settings, tmp_path / "broker") as broker, \
            running_worker(broker.settings, tmp_path, join_wait_seconds=300) as run:
        channel = RetryingChannel(run, dataset, seconds=24 * outages)
        channel.thread.start()
        for done in range(1, outages + 1):
            time.sleep(6)
            broker.stop()
            time.sleep(OUTAGE_SECONDS)
            assert run.process.poll() is None, "the worker stopped while the broker was down"
            broker.start()
            fault_figures.faults = f"broker stopped {done}x for {OUTAGE_SECONDS:.0f} s"
        channel.thread.join(timeout=180)
        assert not channel.thread.is_alive(), "the channel could not publish after the broker came back"
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=180,
                              what="exact scores after the broker restart")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        assert run.process.poll() is None, f"the worker exited with {run.process.returncode} after the restart"
    assert channel.resent_chunks > 0, "the outage did not hit the channel: the scenario tested nothing"
