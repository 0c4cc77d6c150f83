"""Which Kafka record becomes which ClickHouse row: pure functions, no broker, no server.

The sink reads seven topics. Touchpoints come straight from the channels, so they are decoded and
validated like the join does; a record the join dead-letters is skipped here (it is already in
the dead letters, once). The four others are written by the worker itself and always decode;
one that does not is a bug and is reported, not stored.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError, ValidationError
from cxstream.schemas.records import Alert, DeadLetter, DomainScore, DriverScore, EnrichedFeedback, TrustScore
from cxstream.schemas.validation import check_touchpoint
from cxstream.sinks import tables
from cxstream.vocabulary import (
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_DRIVER_SCORES,
    TOPIC_FEEDBACK_ENRICHED,
    TOPIC_SCORES,
    TOPIC_TOUCHPOINTS,
    TOPIC_TRUST_SCORES,
)

#: The topics the sink reads (before the topic prefix) and the store table each one fills.
SINK_TABLES = {
    TOPIC_TOUCHPOINTS: tables.TOUCHPOINTS,
    TOPIC_FEEDBACK_ENRICHED: tables.FEEDBACK,
    TOPIC_SCORES: tables.SCORES,
    TOPIC_DEADLETTER: tables.DEAD_LETTERS,
    TOPIC_ALERTS: tables.ALERTS,
    TOPIC_TRUST_SCORES: tables.TRUST_SCORES,
    TOPIC_DRIVER_SCORES: tables.DRIVER_SCORES,
}


class KafkaRecord(Protocol):
    """What the sink needs of a consumed record (aiokafka's ConsumerRecord has it)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes | None


@dataclass
class Batch:
    """Rows per store table, and what was skipped and why."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    records: int = 0

    @property
    def row_count(self) -> int:
        return sum(len(r) for r in self.rows.values())


def build_batch(records: Iterable[KafkaRecord], codec: Codec, prefix: str, now_ms: int | None = None) -> Batch:
    """Turn consumed records into rows; ``prefix`` is the topic prefix of this deployment."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    batch = Batch()
    for record in records:
        batch.records += 1
        topic = record.topic[len(prefix):] if prefix and record.topic.startswith(prefix) else record.topic
        table = SINK_TABLES.get(topic)
        if table is None:
            batch.skipped["foreign_topic"] += 1
            continue
        row = _row(topic, record, codec, now_ms, batch)
        if row is not None:
            batch.rows.setdefault(table, []).append(row)
    return batch


def _row(topic: str, record: KafkaRecord, codec: Codec, now_ms: int, batch: Batch) -> tuple[Any, ...] | None:
    if record.value is None:
        batch.skipped["tombstone"] += 1
        return None
    try:
        if topic == TOPIC_TOUCHPOINTS:
            _, datum = codec.decode(record.value, expected="Touchpoint")
            touchpoint = check_touchpoint(datum, now_ms)
            return tables.touchpoint_row(touchpoint, version=_version(record))
        if topic == TOPIC_FEEDBACK_ENRICHED:
            return tables.feedback_row(codec.decode_record(record.value, EnrichedFeedback), version=_version(record))
        if topic == TOPIC_SCORES:
            return tables.score_row(codec.decode_record(record.value, DomainScore))
        if topic == TOPIC_ALERTS:
            return tables.alert_row(codec.decode_record(record.value, Alert), version=_version(record))
        if topic == TOPIC_TRUST_SCORES:
            return tables.trust_score_row(codec.decode_record(record.value, TrustScore))
        if topic == TOPIC_DRIVER_SCORES:
            return tables.driver_score_row(codec.decode_record(record.value, DriverScore))
        return tables.dead_letter_row(codec.decode_record(record.value, DeadLetter))
    except (DecodeError, ValidationError):
        # Touchpoints: the join dead-letters them. Worker topics: counted and logged by the sink.
        batch.skipped["invalid_touchpoint" if topic == TOPIC_TOUCHPOINTS else f"undecodable:{topic}"] += 1
        return None


def _version(record: KafkaRecord) -> int:
    """A later record of the same fact wins: its broker timestamp, then its offset, break ties."""
    return max(record.timestamp, 0) * 1_000_000 + record.offset % 1_000_000
