"""The dead-letter helper: a consumed message that cannot be used reaches cx.deadletter.v1 intact."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from cxstream.config import Settings
from cxstream.deadletters import DeadLetterSender
from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError
from cxstream.schemas.records import DeadLetter
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_DEADLETTER, TOPIC_FEEDBACK
from tests.support.kafka import end_offsets, read_since

pytestmark = pytest.mark.integration


def test_undecodable_message_is_dead_lettered_with_reason_position_and_original_bytes(
    stack: StackStatus, settings: Settings
) -> None:
    key = f"tp-{uuid.uuid4().hex[:8]}".encode()
    raw = b'{"feedback_id": "json where Avro is expected"}'
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    sent = producer.send(TOPIC_FEEDBACK, key=key, value=raw).get(timeout=10)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    tp = TopicPartition(TOPIC_FEEDBACK, sent.partition)
    consumer.assign([tp])
    consumer.seek(tp, sent.offset)
    [message] = consumer.poll(timeout_ms=10_000, max_records=1)[tp]
    consumer.close()
    codec = Codec()
    with pytest.raises(DecodeError) as caught:
        codec.decode(message.value)
    start = end_offsets(settings.bootstrap_servers, TOPIC_DEADLETTER)

    sender = DeadLetterSender(producer, codec)
    sender.send(message, caught.value.reason, caught.value.detail)
    sender.flush()
    producer.close()

    [letter_message] = read_since(settings.bootstrap_servers, start, expected=1)
    letter = DeadLetter(**codec.decode(letter_message.value, expected="DeadLetter")[1])
    assert letter_message.key == key
    assert (letter.source_topic, letter.partition, letter.offset) == (TOPIC_FEEDBACK, sent.partition, sent.offset)
    assert letter.reason == "not_single_object"
    assert letter.raw == raw and letter.key == key
    assert sender.counts == {"not_single_object": 1}
