"""Dead letters: input that cannot be used goes to cx.deadletter.v1 with why, never silently lost.

Every consumer builds its dead letters here, so they all carry the same fields: reason code,
detail, source topic, partition and offset, time, the original key and the original bytes.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from kafka import KafkaProducer

from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DeadLetter
from cxstream.vocabulary import TOPIC_DEADLETTER

log = get_logger(__name__)

#: A dead letter must fit in one Kafka message (about 1 MiB by default) next to its other fields:
#: an input near the limit would otherwise make its own dead letter fail, and a failed send stops
#: the worker. Longer originals are cut, the detail says so, and the source position still points
#: at the untouched original.
MAX_RAW_BYTES = 900_000
MAX_KEY_BYTES = 4096


def dead_letter_message(
    codec: Codec,
    *,
    source_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    raw: bytes | None,
    reason: str,
    detail: str,
    now_ms: int | None = None,
) -> tuple[bytes | None, bytes]:
    """(key, value) of the dead letter for one message: the original key, the encoded record."""
    raw = raw or b""
    cut = []
    if len(raw) > MAX_RAW_BYTES:
        cut.append(f"raw cut to its first {MAX_RAW_BYTES} of {len(raw)} bytes")
        raw = raw[:MAX_RAW_BYTES]
    if key is not None and len(key) > MAX_KEY_BYTES:
        cut.append(f"key cut to its first {MAX_KEY_BYTES} of {len(key)} bytes")
        key = key[:MAX_KEY_BYTES]
    if cut:
        detail = f"{detail[:1500]} ({'; '.join(cut)}; the original is at {source_topic}/{partition}/{offset})"
    record = DeadLetter(
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        key=key,
        reason=reason,
        detail=detail[:2000],
        received_at=int(time.time() * 1000) if now_ms is None else now_ms,
        raw=raw,
    )
    return key, codec.encode("DeadLetter", record.to_avro())


class DeadLetterSender:
    """Sends dead letters with a plain Kafka producer (for consumers outside Faust) and counts them."""

    def __init__(self, producer: KafkaProducer, codec: Codec, topic: str = TOPIC_DEADLETTER) -> None:
        self.producer = producer
        self.codec = codec
        self.topic = topic
        self.counts: Counter[str] = Counter()

    def send(self, message: Any, reason: str, detail: str) -> None:
        """Dead-letter a consumed kafka-python message (anything with topic/partition/offset/key/value)."""
        key, value = dead_letter_message(
            self.codec,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            raw=message.value,
            reason=reason,
            detail=detail,
        )
        self.producer.send(self.topic, key=key, value=value)
        self.counts[reason] += 1
        log.warning("deadletter.sent", source_topic=message.topic, partition=message.partition,
                    offset=message.offset, reason=reason)

    def flush(self, timeout: float = 30.0) -> None:
        self.producer.flush(timeout=timeout)
