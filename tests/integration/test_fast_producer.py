"""The librdkafka producer on the real broker: every record delivered once flush returns, keyed
records on the partition Kafka's Java client and aiokafka would choose (a worker on the Faust
producer and one on librdkafka, in one group during an upgrade, must agree on where a
feedback_id lives), explicit partitions and headers kept."""

from __future__ import annotations

import asyncio
import uuid

from kafka.partitioner.default import murmur2

from cxstream.config import Settings
from cxstream.stack import StackStatus
from cxstream.streams.fast_producer import FastProducer
from cxstream.topics import ensure_topics
from tests.support.cleanup import delete_topics
from tests.support.kafka import end_offsets, read_since


def test_records_are_delivered_on_kafkas_partitions_when_flush_returns(stack: StackStatus, settings: Settings) -> None:
    prefix = f"fast{uuid.uuid4().hex[:6]}."
    scoped = Settings.load({"topic_prefix": prefix, "kafka_bootstrap": settings.bootstrap_servers, "partitions": 6})
    topic = scoped.topic("cx.scores.v1")
    ensure_topics(scoped, ("cx.scores.v1",))
    try:
        start = end_offsets(settings.bootstrap_servers, topic)
        producer = FastProducer(scoped, client_id="cxstream-test")
        keys = [f"feedback-{i}-é".encode() for i in range(300)]
        for key in keys:
            producer.produce(topic, key, b"v:" + key)
        producer.produce(topic, b"pinned", b"p", partition=5, headers={"cx-source": b"t:1:2", "cx-claim": b"1"})
        producer.produce(topic, b"listed", b"l", partition=2, headers=[("cx-source", b"t:1:3")])
        asyncio.run(producer.flush())

        messages = read_since(settings.bootstrap_servers, start, expected=len(keys) + 2, settle=0.5)
        assert len(messages) == len(keys) + 2
        by_key = {m.key: m for m in messages}
        for key in keys:
            want = (murmur2(key) & 0x7FFFFFFF) % 6  # Kafka's default partitioner for a keyed record
            assert by_key[key].partition == want, key
            assert by_key[key].value == b"v:" + key
        assert by_key[b"pinned"].partition == 5
        assert list(by_key[b"pinned"].headers) == [("cx-source", b"t:1:2"), ("cx-claim", b"1")]  # the stages' dicts
        assert (by_key[b"listed"].partition, list(by_key[b"listed"].headers)) == (2, [("cx-source", b"t:1:3")])
    finally:
        delete_topics(settings, lambda name: name.startswith(prefix))
