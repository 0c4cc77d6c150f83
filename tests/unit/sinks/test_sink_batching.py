"""When the sink writes: rows held across polls, one insert per table when full or old enough, and
offsets committed only past rows ClickHouse has (no broker, no server).

Each INSERT makes a ClickHouse part per month partition it touches; a sink that wrote on every poll
left thousands of part directories on a busy server (BENCHMARKS.md, "ClickHouse parts").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DeadLetter, DomainScore
from cxstream.sinks import service, tables
from cxstream.sinks.routing import Batch
from cxstream.sinks.service import ClickHouseSink, PendingWrites
from cxstream.sinks.writer import WriteFailed

CODEC = Codec()
NOW = 1_795_600_000_000
DEAD = "cx.deadletter.v1"
SCORES = "cx.scores.v1"


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes | None


def _dead_letter(partition: int, offset: int) -> Rec:
    """A dead letter whose row names the record's own partition and offset: the writer can tell
    exactly which records it was given."""
    value = CODEC.encode_record(DeadLetter(source_topic=DEAD, partition=partition, offset=offset, key=None,
                                           reason="invalid", detail="test", received_at=NOW, raw=b"x"))
    return Rec(DEAD, partition, offset, NOW, value)


def _score(partition: int, offset: int) -> Rec:
    value = CODEC.encode_record(DomainScore(
        window_start=NOW - 60_000, window_seconds=60, agency="VA", service="claims", channel="phone", domain="trust",
        responses=1, count_1=0, count_2=0, count_3=0, count_4=1, count_5=0, mean=4.0, pct_positive=100.0,
        version=offset))
    return Rec(SCORES, partition, offset, NOW, value)


def _poll(*records: Rec) -> dict[TopicPartition, list[Rec]]:
    out: dict[TopicPartition, list[Rec]] = {}
    for r in records:
        out.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
    return out


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- the decision, with a clock of our own ---------------------------------------------------------

def test_records_accumulate_across_polls_until_the_flush_interval() -> None:
    clock = Clock()
    pending = PendingWrites(max_records=1000, max_age_seconds=1.0, clock=clock)
    for offset in range(5):  # five polls, 0.125 s apart
        pending.add(_poll(_dead_letter(0, offset)))
        assert pending.next_due() is None, "nothing is written before the interval"
        clock.now += 0.125
    assert pending.held(DEAD) == 5
    assert pending.seconds_to_due() == 0.375
    clock.now += 0.375
    assert pending.next_due() == (DEAD, "age")
    flush = pending.take(DEAD, "age")
    assert [r.offset for r in flush.records] == [0, 1, 2, 3, 4]
    assert flush.offsets == {TopicPartition(DEAD, 0): 5}
    assert pending.held() == 0 and pending.next_due() is None and pending.seconds_to_due() is None


def test_a_table_is_written_once_full_without_waiting_and_the_others_keep_waiting() -> None:
    clock = Clock()
    pending = PendingWrites(max_records=4, max_age_seconds=60.0, clock=clock)
    pending.add(_poll(_score(0, 0), _score(1, 0), _dead_letter(0, 0)))
    assert pending.next_due() is None
    assert pending.room() == 2, "the next poll may bring at most what fills the fullest table"
    pending.add(_poll(_score(0, 1), _score(1, 1)))
    assert pending.next_due() == (SCORES, "full")
    flush = pending.take(SCORES, "full")
    assert len(flush.records) == 4
    assert flush.offsets == {TopicPartition(SCORES, 0): 2, TopicPartition(SCORES, 1): 2}
    assert pending.next_due() is None, "the dead letter waits for its own interval"
    assert pending.held(DEAD) == 1


def test_age_is_counted_per_table_from_its_oldest_held_record() -> None:
    clock = Clock()
    pending = PendingWrites(max_records=1000, max_age_seconds=1.0, clock=clock)
    pending.add(_poll(_score(0, 0)))
    clock.now += 0.625
    pending.add(_poll(_dead_letter(0, 0), _score(1, 0)))
    clock.now += 0.375
    assert pending.next_due() == (SCORES, "age")
    flush = pending.take(SCORES, "age")
    assert {r.partition for r in flush.records} == {0, 1}, "a due table writes every partition it holds"
    assert pending.next_due() is None
    clock.now += 0.625
    assert pending.next_due() == (DEAD, "age")


def test_a_rebalance_drops_what_is_held_for_the_revoked_partitions() -> None:
    pending = PendingWrites(max_records=1000, max_age_seconds=1.0, clock=Clock())
    pending.add(_poll(_dead_letter(0, 7), _dead_letter(1, 3), _score(0, 1)))
    assert pending.drop({TopicPartition(DEAD, 0), TopicPartition(SCORES, 0)}) == 2
    flush = pending.take(DEAD, "age")
    assert flush.offsets == {TopicPartition(DEAD, 1): 4}, "no commit for a partition whose records were dropped"


# --- the sink, with a consumer and a writer of our own ---------------------------------------------

@dataclass
class Events:
    """What the fake consumer and writer saw, in order."""

    log: list[tuple[str, Any]] = field(default_factory=list)

    def writes(self, table: str | None = None) -> list[list[tuple[Any, ...]]]:
        """Rows of each insert, in order (of one table, or of all)."""
        inserts = [value for kind, value in self.log if kind == "write"]
        return [rows for written_to, rows in inserts if table in (None, written_to)]

    def written(self) -> set[tuple[int, int]]:
        """(partition, offset) of every dead letter written so far."""
        return {(row[1], row[2]) for rows in self.writes(tables.DEAD_LETTERS) for row in rows}


class FakeWriter:
    def __init__(self, events: Events, failures: int = 0) -> None:
        self.events = events
        self.failures = failures

    def migrate(self) -> None:
        pass

    def write(self, batch: Batch) -> None:
        if self.failures:
            self.failures -= 1
            self.events.log.append(("refused", None))
            raise WriteFailed("connection refused")
        for table, rows in batch.rows.items():
            if rows:
                self.events.log.append(("write", (table, list(rows))))


class FakeConsumer:
    """Returns scripted polls (partitions paused are held back; at most ``max_records``); with
    nothing to return it waits the poll's timeout and calls ``idle``. The wait is on ``clock``
    when there is one (it moves on by the timeout at once), else real time, 50 ms at most."""

    script: list[dict[TopicPartition, list[Rec]]] = []
    events = Events()
    idle: Callable[[], None] = staticmethod(lambda: None)
    clock: Clock | None = None

    def __init__(self, *topics: str, **config: Any) -> None:
        self.paused: set[TopicPartition] = set()

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(topic, p) for topic in (DEAD, SCORES) for p in range(3)}

    def pause(self, *tps: TopicPartition) -> None:
        self.paused |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused -= set(tps)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.events.log.append(("commit", dict(offsets)))

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[Rec]]:
        if self.script and not set(self.script[0]) & self.paused:
            poll = self.script.pop(0)
            flat = [r for records in poll.values() for r in records]
            limit = len(flat) if max_records is None else max_records
            if flat[limit:]:
                self.script.insert(0, _poll(*flat[limit:]))
            return _poll(*flat[:limit])
        if self.clock is not None:
            self.clock.now += timeout_ms / 1000
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(min(timeout_ms, 50) / 1000)
        type(self).idle()
        return {}


def _run_sink(monkeypatch: pytest.MonkeyPatch, script: list[dict[TopicPartition, list[Rec]]], writer: FakeWriter,
              until: Callable[[], bool], clock: Clock | None = None, **settings: Any) -> ClickHouseSink:
    """Run a sink on the scripted polls until ``until()`` holds when the consumer is idle (10 s at most)."""
    sink = ClickHouseSink(Settings.load({"sink_retry_max_seconds": 1, **settings}, environ={}),
                          writer=writer, clock=clock or time.monotonic)  # type: ignore[arg-type]
    began = time.monotonic()

    def idle() -> None:
        if until() or time.monotonic() - began > 10:
            sink.stop()

    monkeypatch.setattr(FakeConsumer, "clock", clock)
    monkeypatch.setattr(FakeConsumer, "script", script)
    monkeypatch.setattr(FakeConsumer, "events", writer.events)
    monkeypatch.setattr(FakeConsumer, "idle", staticmethod(idle))
    monkeypatch.setattr(service, "AIOKafkaConsumer", FakeConsumer)
    asyncio.run(asyncio.wait_for(sink.run(), timeout=30))
    return sink


def test_polls_of_a_few_records_become_full_size_inserts(monkeypatch: pytest.MonkeyPatch) -> None:
    events = Events()
    script = [_poll(_dead_letter(0, i), _score(0, i)) for i in range(10)]  # ten polls, one record per table
    sink = _run_sink(monkeypatch, script, FakeWriter(events), until=lambda: not FakeConsumer.script,
                     sink_batch_rows=5, sink_flush_ms=60_000)
    assert [len(rows) for rows in events.writes(tables.DEAD_LETTERS)] == [5, 5]
    assert [len(rows) for rows in events.writes(tables.SCORES)] == [5, 5]
    assert sink.metrics.inserts == {tables.DEAD_LETTERS: 2, tables.SCORES: 2}
    assert sink.metrics.flushes == {"full": 4} and sink.metrics.held_records == 0
    scraped = {s.name: s.value for family in sink.metrics.families() for s in family.samples}
    assert scraped["cxstream_sink_inserts_total"] == 2 and scraped["cxstream_sink_held_records"] == 0


def test_a_quiet_table_is_written_after_the_flush_interval_in_one_insert(monkeypatch: pytest.MonkeyPatch) -> None:
    events = Events()
    script = [_poll(_dead_letter(0, i)) for i in range(3)]
    clock = Clock()
    sink = _run_sink(monkeypatch, script, FakeWriter(events), until=lambda: bool(events.writes()), clock=clock,
                     sink_batch_rows=1000, sink_flush_ms=1500)
    assert [len(rows) for rows in events.writes()] == [3], "three polls, one insert"
    assert sink.metrics.last_batch_ms == 1500, "written when the oldest record had been held sink_flush_ms"
    assert ("commit", {TopicPartition(DEAD, 0): 3}) in events.log
    assert sink.metrics.flushes == {"age": 1}


def test_offsets_are_never_committed_past_an_unwritten_record_and_an_outage_loses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = Events()
    # Partition 2 is not paused when the outage begins (as if a rebalance just assigned it): what
    # the sink's keep-alive polls return meanwhile must be written too, not dropped.
    script = [_poll(_dead_letter(0, 0), _dead_letter(1, 0), _dead_letter(0, 1)),
              _poll(_dead_letter(2, 0), _dead_letter(2, 1)), _poll(_dead_letter(1, 1), _dead_letter(2, 2))]
    sent = {(r.partition, r.offset) for poll in script for records in poll.values() for r in records}

    class RebalancedConsumer(FakeConsumer):
        def pause(self, *tps: TopicPartition) -> None:
            self.paused |= set(tps) - {TopicPartition(DEAD, 2)}

    monkeypatch.setattr(service, "AIOKafkaConsumer", RebalancedConsumer)
    writer = FakeWriter(events, failures=2)
    sink = ClickHouseSink(Settings.load({"sink_retry_max_seconds": 1, "sink_batch_rows": 3, "sink_flush_ms": 200},
                                        environ={}), writer=writer)  # type: ignore[arg-type]
    began = time.monotonic()

    def idle() -> None:
        if (events.written() >= sent and not RebalancedConsumer.script) or time.monotonic() - began > 10:
            sink.stop()

    monkeypatch.setattr(FakeConsumer, "script", script)
    monkeypatch.setattr(FakeConsumer, "events", events)
    monkeypatch.setattr(FakeConsumer, "idle", staticmethod(idle))
    asyncio.run(asyncio.wait_for(sink.run(), timeout=30))

    assert any(kind == "refused" for kind, _ in events.log), "the outage happened"
    assert events.written() == sent, "every record written once ClickHouse is back"
    written: set[tuple[int, int]] = set()
    for kind, value in events.log:
        if kind == "write":
            written |= {(row[1], row[2]) for row in value[1]}
        elif kind == "commit":
            for tp, offset in value.items():
                below = {(tp.partition, o) for o in range(offset)}
                assert below <= written, f"committed {tp.partition}:{offset} before {sorted(below - written)} was written"
    assert sink.metrics.failed_writes == 2


def test_the_sink_asks_the_broker_for_fuller_fetches_and_aiokafka_takes_the_options() -> None:
    options = service.consumer_options(Settings.load(environ={}), "g.sink")
    assert (options["fetch_min_bytes"], options["fetch_max_wait_ms"]) == (64 * 1024, 100)
    assert not options["enable_auto_commit"]  # the sink commits after it wrote
    at_once = service.consumer_options(Settings.load(environ={"CXSTREAM_SINK_FETCH_MIN_KB": "0",
                                                               "CXSTREAM_SINK_FETCH_WAIT_MS": "0"}), "g.sink")
    assert (at_once["fetch_min_bytes"], at_once["fetch_max_wait_ms"]) == (1, 0)

    async def build() -> None:
        AIOKafkaConsumer(**options)  # raises on an option it does not know; not started, so no broker
    asyncio.run(build())
