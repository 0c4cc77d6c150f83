"""The four stages of the worker, in process: dict tables, in-memory topics, a clock the test sets.

What Faust's ``test_context()`` and Quix Streams' ``app_factory`` give their users: the stages are
the worker's own classes (streams/*_stage.py), built from what they are given, and every record
they send lands on an in-memory topic with partitions and offsets (keyed records go where Kafka's
default partitioner would put them), from which the stages reading that topic consume it. No
broker, no RocksDB, no commit bookkeeping: what this cannot show (crashes, rebalances, a real
join wait, the sink) the worker tests on the real stack do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
from cxstream.streams.app import Topics
from cxstream.streams.partitioning import home_partition
from cxstream.streams.stage import Stage
from cxstream.streams.worker import STAGES
from cxstream.vocabulary import (
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_FEEDBACK,
    TOPIC_DRIVER_SCORES,
    TOPIC_FEEDBACK_ENRICHED,
    TOPIC_SCORES,
    TOPIC_TOUCHPOINTS,
    TOPIC_TRUST_SCORES,
)
from tests.support.latest_scores import latest_by_version


@dataclass(frozen=True)
class Record:
    """A record on an in-memory topic, with what Faust's Message has that the stages read."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class Table(dict):  # type: ignore[type-arg]
    """A dict with Faust's ``.data`` (itself): no database per partition, so partition key walks
    filter every key (streams/partition_keys.py's fallback)."""

    @property
    def data(self) -> Any:
        return self


class Bus:
    """Topics as lists of partitions of records."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.logs: dict[str, list[list[Record]]] = {}

    def log(self, topic: str) -> list[list[Record]]:
        return self.logs.setdefault(topic, [[] for _ in range(self.partitions)])

    def append(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None,
               headers: Any = None) -> Record:
        if partition is None:
            partition = home_partition(key, self.partitions) if key is not None else 0
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        records = self.log(topic)[partition]
        record = Record(topic, partition, len(records), key, value, pairs)
        records.append(record)
        return record

    def records(self, topic: str) -> Iterator[Record]:
        for records in self.log(topic):
            yield from records


@dataclass
class BusTopic:
    """A stage's view of one topic: what a Faust topic offers the stages."""

    bus: Bus
    name: str

    async def send(self, *, key: Any = None, value: Any = None, partition: int | None = None,
                   headers: Any = None) -> Record:
        return self.bus.append(self.name, key, value, partition, headers)

    def get_topic_name(self) -> str:
        return self.name


@dataclass
class Clock:
    """The stages' wall clock, in ms, moved by the test."""

    now_ms: int

    def __call__(self) -> int:
        return self.now_ms


@dataclass
class Pipeline:
    """The stages wired to one bus; ``run()`` lets every stage consume until nothing moves."""

    settings: Settings
    clock: Clock
    codec: Codec = field(default_factory=Codec)
    bus: Bus = field(init=False)
    topics: Topics = field(init=False)
    stages: list[Stage] = field(init=False)
    tables: dict[str, dict[str, Table]] = field(init=False)
    _positions: dict[tuple[str, str, int], int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        n = self.settings.partitions
        self.bus = Bus(n)
        worker = self.settings.worker_id

        def topic(name: str) -> BusTopic:
            return BusTopic(self.bus, self.settings.topic(name))

        self.topics = Topics(
            touchpoints=topic(TOPIC_TOUCHPOINTS), feedback=topic(TOPIC_FEEDBACK),
            rekeyed=topic(f"{worker}.rekeyed"), joined=topic(f"{worker}.joined"),
            partials=topic(f"{worker}.partials"), ticks=topic(f"{worker}.ticks"),
            alert_input=topic(f"{worker}.alert-input"), confirms=topic(f"{worker}.confirms"),
            enriched=topic(TOPIC_FEEDBACK_ENRICHED), scores=topic(TOPIC_SCORES), alerts=topic(TOPIC_ALERTS),
            trust_scores=topic(TOPIC_TRUST_SCORES), driver_scores=topic(TOPIC_DRIVER_SCORES),
            deadletters=topic(TOPIC_DEADLETTER), partitions=n)
        self.tables = {}
        self.stages = []
        for kind in STAGES:
            tables = {name: Table() for name in kind.table_names}
            self.tables[kind.name] = tables
            self.stages.append(kind(self.settings, self.topics, self.codec, tables, self.clock))  # type: ignore[arg-type]

    # -- input ---------------------------------------------------------------------------------
    def send_touchpoint(self, touchpoint: Touchpoint, key: bytes | None | str = "contract",
                        partition: int | None = None) -> Record:
        chosen = touchpoint.touchpoint_id.encode() if key == "contract" else key
        return self.send_raw(TOPIC_TOUCHPOINTS, chosen, self.codec.encode_record(touchpoint), partition)  # type: ignore[arg-type]

    def send_feedback(self, feedback: Feedback, key: bytes | None | str = "contract",
                      partition: int | None = None) -> Record:
        chosen = feedback.kafka_key if key == "contract" else key
        return self.send_raw(TOPIC_FEEDBACK, chosen, self.codec.encode_record(feedback), partition)  # type: ignore[arg-type]

    def send_raw(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None) -> Record:
        return self.bus.append(self.settings.topic(topic), key, value, partition)

    # -- running -------------------------------------------------------------------------------
    def run(self) -> int:
        """Let every stage consume what is new until nothing moves; returns records processed."""
        return asyncio.run(self._run())

    def tick(self) -> int:
        """One tick to every partition (periodic work: join expiry, flushes, sweeps), then run."""
        for partition in range(self.settings.partitions):
            self.bus.append(self.topics.ticks.get_topic_name(), b"tick", b"{}", partition)
        return self.run()

    def settle(self, ticks: int = 3) -> None:
        """Run and tick until every flush has gone through merge and alerts."""
        self.run()
        for _ in range(ticks):
            self.tick()

    async def _run(self) -> int:
        processed = 0
        moved = True
        while moved:
            moved = False
            for stage in self.stages:
                for topic in stage.sources():
                    for partition, records in enumerate(self.bus.log(topic)):
                        key = (stage.name, topic, partition)
                        while self._positions.get(key, 0) < len(records):
                            record = records[self._positions.get(key, 0)]
                            self._positions[key] = record.offset + 1
                            await stage.handle(record)
                            processed += 1
                            moved = True
        return processed

    # -- output --------------------------------------------------------------------------------
    def _decoded(self, name: str, kind: Any) -> list[Any]:
        return [self.codec.decode_record(r.value, kind) for r in self.bus.records(self.settings.topic(name))]

    def scores(self) -> dict[tuple[Any, ...], DomainScore]:
        """The latest score per window key (highest version), as a consumer of cx.scores.v1 keeps it."""
        return latest_by_version(self._decoded(TOPIC_SCORES, DomainScore), "domain")

    def counts(self) -> dict[tuple[Any, ...], tuple[int, int, int, int, int]]:
        return {k: (s.count_1, s.count_2, s.count_3, s.count_4, s.count_5) for k, s in self.scores().items()}

    def _latest(self, topic: str, kind: Any, measure: str) -> dict[tuple[Any, ...], Any]:
        return latest_by_version(self._decoded(topic, kind), measure)

    def trust_scores(self) -> dict[tuple[Any, ...], TrustScore]:
        """The latest trust score per (window, agency, service, channel, trust_scale)."""
        return self._latest(TOPIC_TRUST_SCORES, TrustScore, "trust_scale")

    def driver_scores(self) -> dict[tuple[Any, ...], DriverScore]:
        """The latest driver counts per (window, agency, service, channel, driver)."""
        return self._latest(TOPIC_DRIVER_SCORES, DriverScore, "driver")

    def enriched(self) -> list[EnrichedFeedback]:
        return self._decoded(TOPIC_FEEDBACK_ENRICHED, EnrichedFeedback)

    def dead_letters(self) -> list[DeadLetter]:
        return self._decoded(TOPIC_DEADLETTER, DeadLetter)

    def alerts(self) -> list[Alert]:
        return self._decoded(TOPIC_ALERTS, Alert)

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def pipeline_settings(**overrides: Any) -> Settings:
    """Settings for an in-process pipeline: no environment, the given overrides."""
    values = {"partitions": 6, "worker_id": "cxw", **overrides}
    return Settings.load(values, environ={})


def key_json(*parts: Any) -> bytes:
    return json.dumps(list(parts)).encode()
