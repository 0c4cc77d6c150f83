"""The stages' records (outputs and table changelogs) produced through librdkafka.

Faust sends every record through its producer buffer (a task, a FutureMessage, the sensors)
into aiokafka's pure-Python accumulator and sender; in `make bench` that path was the largest
share of the worker's CPU, above all on the feedback path (8.4 records written per feedback).
confluent-kafka's producer does the batching, retries and protocol in C. Consuming, the group,
the tables' recovery and the agents stay Faust's and aiokafka's.

The delivery argument does not change (docs/ARCHITECTURE.md): a stage's records are handed to
this producer before its event is held; each confirmation round (streams/acking.py) waits here
until librdkafka has every record acknowledged by the broker (``acks=all``, idempotent, so
retries keep each partition's order and add no copies) *before* it marks the round's events
done; any record librdkafka gives up on stops the process at once (:func:`fail_stop`), so no
offset is committed past it. Before partitions are given up in a rebalance, everything produced
is flushed too, so a table partition's next owner restores a changelog that ends with every
write made here.

Keyed records without an explicit partition go where Kafka's Java client and aiokafka put them
(murmur2 of the key: librdkafka's ``murmur2_random``); the stages pass explicit partitions anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from cxstream.config import Settings
from cxstream.logs import get_logger
from cxstream.streams.acking import fail_stop

log = get_logger(__name__)

#: How long one flush call waits before the round logs and waits again (a broker outage).
FLUSH_SLICE_SECONDS = 5.0
#: How long librdkafka keeps retrying one record before it reports it undeliverable: longer than
#: any outage the worker should ride out; after it, the process stops (and replays on restart).
MESSAGE_TIMEOUT_MS = 300_000


def librdkafka_security(settings: Settings) -> dict[str, Any]:
    """The cxstream Kafka security settings in librdkafka's words."""
    protocol = settings.kafka_security_protocol
    config: dict[str, Any] = {"security.protocol": protocol.lower()}
    if protocol in ("SSL", "SASL_SSL"):
        if settings.kafka_ssl_cafile:
            config["ssl.ca.location"] = settings.kafka_ssl_cafile
        if settings.kafka_ssl_certfile:
            config["ssl.certificate.location"] = settings.kafka_ssl_certfile
        if settings.kafka_ssl_keyfile:
            config["ssl.key.location"] = settings.kafka_ssl_keyfile
        if settings.kafka_ssl_key_password:
            config["ssl.key.password"] = settings.kafka_ssl_key_password
        config["ssl.endpoint.identification.algorithm"] = "https" if settings.kafka_ssl_check_hostname else "none"
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        config.update({"sasl.mechanism": settings.kafka_sasl_mechanism, "sasl.username": settings.kafka_sasl_username,
                       "sasl.password": settings.kafka_sasl_password})
    return config


def _header_list(headers: Any) -> list[tuple[str, bytes]] | None:
    """Headers as librdkafka takes them (the stages build dicts; Faust may hand over a list)."""
    if not headers:
        return None
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


#: The most librdkafka queues before a send waits (the stages outrun a slow or absent broker).
QUEUE_KBYTES = 64 * 1024


class FastProducer:
    """One librdkafka producer per worker process, for every record the stages write."""

    def __init__(self, settings: Settings, client_id: str) -> None:
        self._producer = Producer({
            "bootstrap.servers": settings.bootstrap_servers,
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": settings.producer_linger_ms,
            "partitioner": "murmur2_random",
            # A Python callback per delivered record took the GIL from the busy event loop once per
            # record (from the flush thread): a round of 20,000 records took 4.7 s to confirm and
            # held events piled up (BENCHMARKS.md). Only failures are reported, which is all that
            # is acted on (fail_stop); flush() still waits for every record's acknowledgement.
            "delivery.report.only.error": True,
            # One callback for the producer rather than one passed with every record: the keyword
            # and its per-record reference cost librdkafka's produce() about half its time alone.
            "on_delivery": _delivered,
            "message.timeout.ms": MESSAGE_TIMEOUT_MS,
            # librdkafka's default lets its queue take 1 GiB while the broker is slow or away.
            "queue.buffering.max.kbytes": QUEUE_KBYTES,
            # librdkafka writes its own lines to stderr otherwise, past the JSON log and its folding.
            "logger": LibrdkafkaLog(),
            **librdkafka_security(settings),
        })
        self.produced = 0

    def produce(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None = None) -> None:
        """Queue one record from synchronous code (a table write). Returns at once unless the
        queue is full; then it waits for room, serving deliveries, holding the event loop: the
        stages' sends (:meth:`send`) wait first, without holding it, so this is rare."""
        while not self._try(topic, key, value, partition, headers):
            self._producer.poll(0.1)

    async def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                   headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None = None) -> None:
        """Queue one record from a coroutine; a full queue makes the caller wait, not the loop."""
        while not self._try(topic, key, value, partition, headers):
            self._producer.poll(0)
            await asyncio.sleep(0.05)

    def _try(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None,
             headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None) -> bool:
        try:
            if headers:
                self._producer.produce(topic, value, key, -1 if partition is None else partition,
                                       headers=_header_list(headers))
            else:
                self._producer.produce(topic, value, key, -1 if partition is None else partition)
        except BufferError:  # librdkafka's queue is full: the broker is slower than the stages
            return False
        self.produced += 1
        if self.produced % 1000 == 0:
            self._producer.poll(0)  # serve delivery reports now and then (flush serves the rest)
        return True

    async def flush(self) -> None:
        """Return once the broker acknowledged every record produced so far."""
        while True:
            remaining = await asyncio.to_thread(self._producer.flush, FLUSH_SLICE_SECONDS)
            if remaining == 0:
                return
            log.warning("producer.flush_waiting", records=remaining, seconds=FLUSH_SLICE_SECONDS,
                        meaning="the broker has not acknowledged these yet; nothing is confirmed until it does")

    def flush_blocking(self, timeout: float) -> int:
        """Flush from synchronous code (a shutdown); returns how many records are still queued."""
        return int(self._producer.flush(timeout))


class LibrdkafkaLog:
    """Where confluent-kafka sends librdkafka's lines: the ``cxstream.librdkafka`` logger, one
    message template per librdkafka facility (FAIL, GETPID, ...), so repeats fold per facility
    (cxstream/logs.py); confluent-kafka's own format is one template for every line."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("cxstream.librdkafka")

    def log(self, level: int, _format: str, facility: str, client: str, text: str) -> None:
        self._logger.log(level, f"librdkafka {facility.replace('%', '%%')} [%s]: %s", client, text)


def _delivered(error: KafkaError | None, message: Message) -> None:
    if error is not None:
        fail_stop("producer.send_failed", topic=message.topic(), partition=message.partition(), error=str(error))


class FastTopic:
    """A stage's output topic (the :class:`~cxstream.streams.stage.Sendable` a stage needs)
    whose records go through the :class:`FastProducer`."""

    def __init__(self, name: str, producer: FastProducer) -> None:
        self._name = name
        self._producer = producer

    async def send(self, *, key: Any = None, value: Any = None, partition: int | None = None,
                   headers: Any = None) -> None:
        await self._producer.send(self._name, key, value, partition, headers)

    def get_topic_name(self) -> str:
        return self._name


def route_changelog(table: Any, producer: FastProducer) -> None:
    """Send ``table``'s changelog records through ``producer`` instead of Faust's.

    Same bytes and partition as Faust's ``Collection.send_changelog`` (the table's own
    serializers through its changelog topic), so recovery reads them unchanged. Not kept:
    Faust's callback that records the delivered offset in the local RocksDB, which only serves
    reopening a local store; the worker starts with an empty one every time."""
    topic = table.changelog_topic
    name = topic.get_topic_name()

    def send_changelog(partition: int | None, key: Any, value: Any, key_serializer: Any = None,
                       value_serializer: Any = None) -> Any:
        if partition is None:
            raise RuntimeError(f"table {table.name}: a changelog record needs the event's partition")
        raw_key, headers = topic.prepare_key(key, key_serializer or table.key_serializer)
        raw_value, headers = topic.prepare_value(value, value_serializer or table.value_serializer, headers=headers)
        producer.produce(name, raw_key, raw_value, partition, headers or None)
        return SimpleNamespace(message=SimpleNamespace(partition=partition))  # what Table.on_key_set reads

    table.send_changelog = send_changelog
