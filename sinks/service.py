"""The ClickHouse sink: Kafka topics in, batched rows out, offsets committed only after ClickHouse
has the rows.

It runs inside the worker process with a consumer group of its own (``<app id>.sink``), so the
partitions of the four topics it reads are shared among all workers like the stages' are, and a
slow or unreachable ClickHouse never stalls the streaming stages (Faust feeds every agent from one
fetcher; a blocked agent would block them all).

Delivery: at least once into ClickHouse, exactly once as seen through the views. A batch is
written, then its offsets are committed; a crash in between writes the batch again, and the
ReplacingMergeTree tables and the deduplicating views show each fact once.

Backpressure: one batch at a time. While ClickHouse refuses a batch the sink keeps that batch,
pauses every partition (so nothing more is fetched and memory stays bounded), keeps polling so it
stays in its group, and retries with exponential backoff up to ``sink_retry_max_seconds``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from cxstream.config import Settings
from cxstream.kafka_clients import security_options
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.sinks.metrics import SinkMetrics
from cxstream.sinks.routing import SINK_TABLES, Batch, build_batch
from cxstream.sinks.writer import ClickHouseWriter, WriteFailed

log = get_logger(__name__)


class ClickHouseSink:
    """Consumes the storage topics and writes them to ClickHouse, one committed batch at a time."""

    def __init__(self, settings: Settings, writer: ClickHouseWriter | None = None,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.settings = settings
        self.writer = writer or ClickHouseWriter(settings)
        self.codec = Codec()
        self.metrics = SinkMetrics()
        self.topics = [settings.topic(name) for name in SINK_TABLES]
        self.group = settings.topic(f"{settings.worker_id}.sink")
        self._sleep = sleep
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        """Migrate the database (retrying until ClickHouse answers), then write batches forever."""
        await self._until_written(self.writer.migrate, "migrate", consumer=None)
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=1 << 20,
            fetch_max_bytes=16 << 20,
            **security_options(self.settings),
        )
        await consumer.start()
        log.info("sink.started", group=self.group, topics=self.topics, database=self.settings.clickhouse_database)
        try:
            while not self._stopping:
                records = await consumer.getmany(timeout_ms=self.settings.sink_batch_ms,
                                                 max_records=self.settings.sink_batch_rows)
                if records:
                    await self._write_and_commit(consumer, records)
        finally:
            await consumer.stop()
            log.info("sink.stopped", **self.metrics.snapshot())

    async def _write_and_commit(self, consumer: AIOKafkaConsumer, records: dict[TopicPartition, list[Any]]) -> None:
        started = time.monotonic()
        flat = [r for recs in records.values() for r in recs]
        batch = build_batch(flat, self.codec, self.settings.topic_prefix)
        await self._until_written(lambda: self.writer.write(batch), "write", consumer=consumer)
        offsets = {tp: recs[-1].offset + 1 for tp, recs in records.items()}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # The partitions moved on (a rebalance): their next owner writes these rows again,
            # which the tables absorb.
            log.warning("sink.commit_failed", error=repr(error), partitions=len(offsets))
        self._account(batch, flat, started)

    def _account(self, batch: Batch, flat: list[Any], started: float) -> None:
        m = self.metrics
        m.batches += 1
        for table, rows in batch.rows.items():
            m.rows[table] = m.rows.get(table, 0) + len(rows)
        for reason, n in batch.skipped.items():
            m.skipped[reason] = m.skipped.get(reason, 0) + n
            if reason.startswith("undecodable"):
                log.error("sink.undecodable_records", reason=reason, count=n)
        m.last_batch_ms = (time.monotonic() - started) * 1000
        m.batch_seconds.observe(m.last_batch_ms / 1000)
        newest = max(r.timestamp for r in flat)
        m.lag_ms = time.time() * 1000 - newest

    async def _until_written(self, attempt: Callable[[], Any], what: str, consumer: AIOKafkaConsumer | None) -> None:
        """Run ``attempt`` in a thread until it succeeds; meanwhile fetch nothing more."""
        delay = 0.5
        paused = False
        try:
            while True:
                try:
                    await asyncio.to_thread(attempt)
                    self.metrics.clickhouse_unavailable = False
                    return
                except WriteFailed as error:
                    self.metrics.failed_writes += 1
                    self.metrics.clickhouse_unavailable = True
                    log.warning("sink.clickhouse_unavailable", action=what, error=str(error),
                                retry_in_s=round(delay, 1))
                if consumer is not None and not paused:
                    consumer.pause(*consumer.assignment())
                    paused = True
                await self._wait(consumer, delay)
                delay = min(delay * 2, float(self.settings.sink_retry_max_seconds)) * random.uniform(0.8, 1.0)
        finally:
            if paused and consumer is not None:
                consumer.resume(*consumer.assignment())

    async def _wait(self, consumer: AIOKafkaConsumer | None, seconds: float) -> None:
        """Sleep, but keep polling (paused, so nothing arrives) to stay a live group member."""
        if consumer is None:
            await self._sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            consumer.pause(*consumer.assignment())  # a rebalance may have assigned new partitions
            await consumer.getmany(timeout_ms=int(min(1.0, max(deadline - time.monotonic(), 0.01)) * 1000))
