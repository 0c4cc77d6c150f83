"""A real `cxstream worker` process for integration tests, on topics of its own (a unique prefix)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any, Literal

from clickhouse_driver import Client
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import (
    Alert,
    DeadLetter,
    DomainScore,
    DriverScore,
    EnrichedFeedback,
    Feedback,
    Touchpoint,
    TrustScore,
)
from cxstream.topics import ensure_topics
from cxstream.vocabulary import (
    CONTRACT_TOPICS,
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_DRIVER_SCORES,
    TOPIC_FEEDBACK,
    TOPIC_FEEDBACK_ENRICHED,
    TOPIC_SCORES,
    TOPIC_TOUCHPOINTS,
    TOPIC_TRUST_SCORES,
)
from tests.support.cleanup import delete_prefixed_topics, drop_database, stop_process
from tests.support.latest_scores import latest_by_version


_SINK_STARTED = re.compile(r"""['"]event['"]: ['"]sink\.started['"]""")
_ASSIGNED = re.compile(r"""['"]partitions['"]: \[\d[^]]*\], ['"]event['"]: ['"]worker\.partitions_assigned""")


@dataclass
class WorkerRun:
    """A running worker and the means to feed it, kill it, restart it and read what it produced."""

    settings: Settings
    process: subprocess.Popen[bytes]
    log_path: Path
    codec: Codec
    env: dict[str, str]
    starts: int = 1
    spawned: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _producer: KafkaProducer | None = None

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye."""
        self.process.kill()
        self.process.wait()

    def start(self) -> None:
        """Start another worker process with the same settings (a restart, or a second worker)."""
        self.starts += 1
        marker = len(self.log_text())
        self.process = _spawn(self.env, self.log_path)
        self.spawned.append(self.process)
        wait_for(lambda: _ASSIGNED.search(self.log_text()[marker:]), timeout=90,
                 what="the restarted worker to get its partitions")

    def send_touchpoint(self, touchpoint: Touchpoint, key: bytes | None | Literal["contract"] = "contract",
                        partition: int | None = None) -> tuple[int, int]:
        """Produce a touchpoint, keyed per the contract unless ``key`` says otherwise."""
        return self._send(TOPIC_TOUCHPOINTS, touchpoint.touchpoint_id.encode() if key == "contract" else key,
                   self.codec.encode("Touchpoint", touchpoint.to_avro()), partition)

    def send_feedback(self, feedback: Feedback, key: bytes | None | Literal["contract"] = "contract",
                      partition: int | None = None) -> tuple[int, int]:
        """Produce a feedback, keyed per the contract unless ``key`` says otherwise."""
        return self._send(TOPIC_FEEDBACK, feedback.kafka_key if key == "contract" else key,
                   self.codec.encode("Feedback", feedback.to_avro()), partition)

    def send_raw(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None) -> tuple[int, int]:
        """Produce ``value`` as it is; returns the (partition, offset) it was written at."""
        return self._send(topic, key, value, partition)

    def _send(self, topic: str, key: bytes | None, value: bytes, partition: int | None) -> tuple[int, int]:
        # One producer for the run: a new one per message cost a connection and a metadata round trip.
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.settings.bootstrap_servers)
        sent = self._producer.send(self.settings.topic(topic), key=key, value=value, partition=partition)
        metadata = sent.get(timeout=10)
        return metadata.partition, metadata.offset

    def close_producer(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None

    def read(self, topic: str) -> list[Any]:
        """Every record of ``topic`` up to its current end (read to the end offsets, not until the
        topic has been quiet for a while: exact, and as fast as the records come)."""
        name = self.settings.topic(topic)
        consumer = KafkaConsumer(bootstrap_servers=self.settings.bootstrap_servers, enable_auto_commit=False)
        try:
            partitions = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = {tp: end for tp, end in consumer.end_offsets(partitions).items() if end > 0}
            records: list[Any] = []
            deadline = time.monotonic() + 30
            while any(consumer.position(tp) < end for tp, end in ends.items()):
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read {name} to its end offsets {ends} within 30 s")
                for batch in consumer.poll(timeout_ms=200).values():
                    records.extend(r for r in batch if r.offset < ends.get(TopicPartition(r.topic, r.partition), 0))
            return records
        finally:
            consumer.close()

    def scores(self) -> dict[tuple[Any, ...], DomainScore]:
        """The latest score of every window key (highest version wins, as any consumer would do)."""
        return self._latest(TOPIC_SCORES, DomainScore, "domain")

    def _latest(self, topic: str, kind: Any, measure: str) -> dict[tuple[Any, ...], Any]:
        return latest_by_version((kind(**self.codec.decode(m.value)[1]) for m in self.read(topic)), measure)

    def trust_scores(self) -> dict[tuple[Any, ...], TrustScore]:
        """The latest trust score per (window, agency, service, channel, trust_scale)."""
        return self._latest(TOPIC_TRUST_SCORES, TrustScore, "trust_scale")

    def driver_scores(self) -> dict[tuple[Any, ...], DriverScore]:
        """The latest driver counts per (window, agency, service, channel, driver)."""
        return self._latest(TOPIC_DRIVER_SCORES, DriverScore, "driver")

    def enriched(self) -> list[EnrichedFeedback]:
        return [EnrichedFeedback(**self.codec.decode(m.value)[1]) for m in self.read(TOPIC_FEEDBACK_ENRICHED)]

    def alerts(self) -> list[Alert]:
        return [Alert(**self.codec.decode(m.value)[1]) for m in self.read(TOPIC_ALERTS)]

    def dead_letters(self) -> list[DeadLetter]:
        return [DeadLetter(**self.codec.decode(m.value)[1]) for m in self.read(TOPIC_DEADLETTER)]

    def drained(self) -> bool:
        """True once the worker's group has committed every record of the input topics and of the
        join's output (so every message went through the join and dedupe)."""
        s = self.settings
        topics = [s.topic(TOPIC_TOUCHPOINTS), s.topic(TOPIC_FEEDBACK), s.topic(f"{s.worker_id}.joined")]
        admin = KafkaAdminClient(bootstrap_servers=s.bootstrap_servers)
        consumer = KafkaConsumer(bootstrap_servers=s.bootstrap_servers)
        try:
            group = s.topic(s.worker_id)
            committed = admin.list_group_offsets(group).get(group, {})
            tps = [TopicPartition(t, p) for t in topics for p in range(s.partitions)]
            ends = consumer.end_offsets(tps)
            return all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items())
        finally:
            consumer.close()
            admin.close()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` on the run's own ClickHouse database ({db} in the text is its name)."""
        s = self.settings
        client = Client(host=s.clickhouse_host, port=s.clickhouse_port, user=s.clickhouse_user,
                        password=s.clickhouse_password, connect_timeout=5)
        try:
            return list(client.execute(sql.replace("{db}", s.clickhouse_database)))
        finally:
            client.disconnect()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _spawn(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def running_worker(base: Settings, tmp_path: Path, **overrides: Any) -> Iterator[WorkerRun]:
    """Start `cxstream worker` on fresh topics; stop it (SIGTERM) at the end."""
    run_id = uuid.uuid4().hex[:8]
    values = {"topic_prefix": f"t{run_id}.", "worker_id": "cxw", "state_dir": tmp_path / "state",
              "emit_interval_ms": 200, "clickhouse_database": f"cx_t{run_id}",
              # No /metrics endpoint unless a test asks for one: concurrent runs would share the port.
              "metrics_port": 0,
              # A killed worker's partitions move on after 10 s instead of 30: a SIGKILL or a
              # rebalance scenario waits that long for the group to notice, every time.
              "session_timeout_seconds": 10, **overrides}
    inherited = ("kafka_port", "partitions", "clickhouse_host", "clickhouse_port", "clickhouse_user",
                 "clickhouse_password")
    settings = Settings.load({**{k: getattr(base, k) for k in inherited}, **values},
                             environ={k: v for k, v in os.environ.items() if k == "CXSTREAM_KAFKA_BOOTSTRAP"})
    ensure_topics(settings, CONTRACT_TOPICS)
    env = dict(os.environ)
    env.update({f"CXSTREAM_{k.upper()}": str(v) for k, v in values.items()})
    env.update({f"CXSTREAM_{k.upper()}": str(getattr(settings, k)) for k in inherited})
    env.update(CXSTREAM_LOG_FORMAT="json")
    log_path = tmp_path / f"worker-{run_id}.log"
    run = WorkerRun(settings, _spawn(env, log_path), log_path, Codec(), env)
    run.spawned.append(run.process)
    try:
        wait_for(lambda: _ASSIGNED.search(run.log_text()), timeout=90, what="the worker to get its partitions")
        if settings.sink_enabled:
            # The sink migrates the database in its own task: on a loaded machine the stages can
            # have their partitions before the tables exist, and a test's first query would fail.
            wait_for(lambda: _SINK_STARTED.search(run.log_text()), timeout=90, what="the sink to create its tables")
        yield run
    finally:
        run.close_producer()
        # Every process the run started, also one a failed test left behind (a second worker).
        for process in run.spawned:
            if process.poll() is None:
                process.terminate()
        for process in run.spawned:
            stop_process(process)
        drop_database(settings, settings.clickhouse_database)
        delete_prefixed_topics(settings)
