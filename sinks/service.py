"""The ClickHouse sink: Kafka topics in, few large inserts out, offsets committed only after
ClickHouse has the rows.

It runs beside the worker's stages (in a child process of ``cxstream worker`` by default,
sinks/child.py) with a consumer group of its own (``<app id>.sink``), so the
partitions of the topics it reads are shared among all workers like the stages' are, and a slow or
unreachable ClickHouse never stalls the streaming stages (Faust feeds every agent from one
fetcher; a blocked agent would block them all).

Batching: every INSERT writes at least one part (a directory of 30-60 files) per month partition it
touches, merged-away parts stay on disk for the server's ``old_parts_lifetime``, and a restart
loads every part directory before it answers. Writing on every poll (tens of inserts a second
under steady traffic) filled a server with thousands of part directories. So the sink holds what
it consumes, per topic (each topic fills one table), across polls, and writes a topic's records in
one insert when they reach ``sink_batch_rows`` or when the oldest of them has been held
``sink_flush_ms``: at most one insert per table per flush interval under steady traffic, which is
ClickHouse's guidance (about one insert per second per table), and full-size inserts on a backlog.

Delivery: at least once into ClickHouse, exactly once as seen through the views. A topic's held
records are written, then the offsets after them are committed, so a partition's committed offset
never passes a record whose row is not in ClickHouse. A crash in between writes them again, and
the ReplacingMergeTree tables and the deduplicating views show each fact once. A rebalance drops
what is held unwritten (aiokafka restarts every partition from its committed offset afterwards,
so those records are read again, by whichever worker owns them).

Backpressure: at most ``sink_batch_rows`` records held per topic. While ClickHouse refuses a write
the sink keeps that write's records, pauses every partition (so nothing more is fetched and
memory stays bounded), keeps polling so it stays in its group, and retries with exponential
backoff up to ``sink_retry_max_seconds``.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from cxstream.config import Settings
from cxstream.kafka_clients import security_options
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.sinks.metrics import SinkMetrics
from cxstream.sinks.routing import SINK_TABLES, Batch, KafkaRecord, build_batch
from cxstream.sinks.writer import ClickHouseWriter, WriteFailed

log = get_logger(__name__)

Clock = Callable[[], float]


@dataclass
class Flush:
    """One topic's held records, to be written in one insert, and the offsets that commit them."""

    topic: str
    records: list[KafkaRecord]
    offsets: dict[TopicPartition, int]  # per partition: the offset after its last record here
    held_since: float  # clock time the oldest of these records was taken in
    reason: str  # "full", "age" or "stop"


@dataclass
class PendingWrites:
    """Consumed records not yet written, per topic, and which topic is due for its insert.

    A topic is due when it holds ``max_records`` records, or when its oldest record has been held
    ``max_age_seconds`` (by ``clock``, when the record was taken in: a backlog of old records fills
    inserts by size instead of writing each poll at once). No I/O here: the sink asks, then writes.
    """

    max_records: int
    max_age_seconds: float
    clock: Clock = time.monotonic
    _records: dict[TopicPartition, list[KafkaRecord]] = field(default_factory=dict, init=False, repr=False)
    _since: dict[TopicPartition, float] = field(default_factory=dict, init=False, repr=False)

    def add(self, polled: Mapping[TopicPartition, Sequence[KafkaRecord]]) -> None:
        """Hold what one poll returned (in offset order per partition, as the consumer returns it)."""
        now = self.clock()
        for tp, records in polled.items():
            if records:
                self._records.setdefault(tp, []).extend(records)
                self._since.setdefault(tp, now)

    def held(self, topic: str | None = None) -> int:
        """Records held, for one topic or in all."""
        return sum(len(r) for tp, r in self._records.items() if topic is None or tp.topic == topic)

    def room(self) -> int:
        """Most records the next poll may bring without any topic going past ``max_records``
        (one poll may return them all from one topic); at least 1, so a poll is never empty by
        request."""
        fullest = max((self.held(topic) for topic in self._topics()), default=0)
        return max(1, self.max_records - fullest)

    def next_due(self) -> tuple[str, str] | None:
        """The topic to write now and why ("full" or "age"), or None: the fullest first."""
        now = self.clock()
        full = [t for t in self._topics() if self.held(t) >= self.max_records]
        if full:
            return max(full, key=self.held), "full"
        aged = [t for t in self._topics() if now - self._oldest(t) >= self.max_age_seconds]
        if aged:
            return min(aged, key=self._oldest), "age"
        return None

    def seconds_to_due(self) -> float | None:
        """Seconds until the oldest held record's topic is due by age (None while nothing is held)."""
        if not self._since:
            return None
        return max(0.0, min(self._since.values()) + self.max_age_seconds - self.clock())

    def take(self, topic: str, reason: str) -> Flush:
        """Remove and return everything held for ``topic``: the caller writes it, then commits."""
        tps = [tp for tp in self._records if tp.topic == topic]
        since = min((self._since.pop(tp) for tp in tps), default=self.clock())
        held = {tp: self._records.pop(tp) for tp in tps}
        offsets = {tp: max(r.offset for r in records) + 1 for tp, records in held.items()}
        return Flush(topic, [r for records in held.values() for r in records], offsets, since, reason)

    def take_all(self, reason: str) -> list[Flush]:
        """Everything held, one flush per topic (a stop)."""
        return [self.take(topic, reason) for topic in sorted(self._topics())]

    def drop(self, partitions: Iterable[TopicPartition]) -> int:
        """Forget what is held for ``partitions`` (revoked): unwritten and uncommitted, so their
        next owner reads them again from the committed offset. Returns how many were dropped."""
        dropped = 0
        for tp in partitions:
            dropped += len(self._records.pop(tp, []))
            self._since.pop(tp, None)
        return dropped

    def _topics(self) -> set[str]:
        return {tp.topic for tp in self._records}

    def _oldest(self, topic: str) -> float:
        return min(since for tp, since in self._since.items() if tp.topic == topic)


class _DropOnRevoke(ConsumerRebalanceListener):
    """A rebalance restarts every partition from its committed offset: drop what is held."""

    def __init__(self, pending: PendingWrites) -> None:
        self.pending = pending

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        dropped = self.pending.drop(revoked)
        if dropped:
            log.info("sink.rebalance_dropped_held", records=dropped, partitions=len(revoked))

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: the consumer starts each partition at its committed offset."""


def consumer_options(settings: Settings, group: str) -> dict[str, Any]:
    """The sink consumer's settings: manual commits (write, then commit), from the earliest offset."""
    return dict(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        client_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=1 << 20,
        fetch_max_bytes=16 << 20,
        # A fetch answered as soon as it had one record: while the stages write steadily, the sink
        # sent fetch after fetch for a few records each (15% of its CPU in a bench run, 5% after,
        # and the broker's work per request besides, on the cores the stages need).
        fetch_min_bytes=max(1, settings.sink_fetch_min_kb * 1024),
        fetch_max_wait_ms=settings.sink_fetch_wait_ms,
        **security_options(settings),
    )


class ClickHouseSink:
    """Consumes the storage topics and writes them to ClickHouse in few large inserts per table."""

    def __init__(self, settings: Settings, writer: ClickHouseWriter | None = None,
                 sleep: Callable[[float], Any] = asyncio.sleep, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self.writer = writer or ClickHouseWriter(settings)
        self.codec = Codec()
        self.metrics = SinkMetrics()
        self.topics = [settings.topic(name) for name in SINK_TABLES]
        self.group = settings.topic(f"{settings.worker_id}.sink")
        self.pending = PendingWrites(settings.sink_batch_rows, settings.sink_flush_ms / 1000, clock)
        self._sleep = sleep
        self._clock = clock
        self._stopping = False

    def stop(self) -> None:
        """End the run after the current poll; what is held is written first."""
        self._stopping = True

    async def run(self) -> None:
        """Migrate the database (retrying until ClickHouse answers), then consume until stopped."""
        await self._until_written(self.writer.migrate, "migrate", consumer=None)
        consumer = AIOKafkaConsumer(**consumer_options(self.settings, self.group))
        consumer.subscribe(self.topics, listener=_DropOnRevoke(self.pending))
        await consumer.start()
        log.info("sink.started", group=self.group, topics=self.topics, database=self.settings.clickhouse_database,
                 batch_rows=self.settings.sink_batch_rows, flush_ms=self.settings.sink_flush_ms)
        try:
            await self.consume(consumer)
        finally:
            await consumer.stop()
            log.info("sink.stopped", **self.metrics.snapshot())

    async def consume(self, consumer: AIOKafkaConsumer) -> None:
        """Poll, hold, and write each topic when it is due, until stopped; then write what is held."""
        while not self._stopping:
            polled = await consumer.getmany(timeout_ms=self._poll_timeout_ms(), max_records=self.pending.room())
            self._hold(polled)
            while (due := self.pending.next_due()) is not None:
                await self._write_and_commit(consumer, self.pending.take(*due))
        for flush in self.pending.take_all("stop"):
            await self._write_and_commit(consumer, flush)

    def _hold(self, polled: Mapping[TopicPartition, Sequence[KafkaRecord]]) -> None:
        self.pending.add(polled)
        self.metrics.held_records = self.pending.held()

    def _poll_timeout_ms(self) -> int:
        """Wait for records at most until the oldest held topic is due, and at most one interval."""
        wait = self.pending.seconds_to_due()
        if wait is None:
            return self.settings.sink_flush_ms
        return min(self.settings.sink_flush_ms, math.ceil(wait * 1000))

    async def _write_and_commit(self, consumer: AIOKafkaConsumer, flush: Flush) -> None:
        """Write the flush's rows (retrying while ClickHouse refuses), then commit its offsets."""
        if not flush.records:
            return
        batch = build_batch(flush.records, self.codec, self.settings.topic_prefix)
        await self._until_written(lambda: self.writer.write(batch), "write", consumer=consumer)
        try:
            await consumer.commit(flush.offsets)
        except (CommitFailedError, KafkaError) as error:
            # The partitions moved on (a rebalance): their next owner writes these rows again,
            # which the tables absorb.
            log.warning("sink.commit_failed", error=repr(error), partitions=len(flush.offsets))
        self._account(flush, batch)

    def _account(self, flush: Flush, batch: Batch) -> None:
        m = self.metrics
        m.batches += 1
        m.held_records = self.pending.held()
        m.flushes[flush.reason] = m.flushes.get(flush.reason, 0) + 1
        for table, rows in batch.rows.items():
            m.rows[table] = m.rows.get(table, 0) + len(rows)
            if rows:
                m.inserts[table] = m.inserts.get(table, 0) + 1
        for reason, n in batch.skipped.items():
            m.skipped[reason] = m.skipped.get(reason, 0) + n
            if reason.startswith("undecodable"):
                log.error("sink.undecodable_records", reason=reason, count=n)
        m.last_batch_ms = (self._clock() - flush.held_since) * 1000
        m.batch_seconds.observe(m.last_batch_ms / 1000)
        newest = max(r.timestamp for r in flush.records)
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
        """Sleep, but keep polling (paused) to stay a live group member. A rebalance in between
        may assign partitions that are not paused yet: what they return is held, not lost."""
        if consumer is None:
            await self._sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            consumer.pause(*consumer.assignment())  # a rebalance may have assigned new partitions
            polled = await consumer.getmany(timeout_ms=int(min(1.0, max(deadline - time.monotonic(), 0.01)) * 1000),
                                            max_records=self.pending.room())
            self._hold(polled)
