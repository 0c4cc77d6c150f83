"""The local stack is real: a message goes through the broker, rows through ClickHouse."""

from __future__ import annotations

import datetime
import uuid

import pytest
from clickhouse_driver import Client
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from cxstream.config import Settings
from cxstream.stack import Stack, StackStatus
from cxstream.vocabulary import CONTRACT_TOPICS, INPUT_TOPICS

pytestmark = pytest.mark.integration


def test_stack_reports_both_servers_running_and_the_contract_topics(stack: StackStatus, settings: Settings) -> None:
    status = Stack(settings).status()
    assert status.running == {"kafka": True, "clickhouse": True}
    assert set(CONTRACT_TOPICS) <= set(stack.topics)
    input_counts = {stack.topics[t] for t in INPUT_TOPICS}
    assert len(input_counts) == 1, f"input topics are not co-partitioned: {stack.topics}"


def test_up_twice_starts_nothing_new(stack: StackStatus, settings: Settings) -> None:
    again = Stack(settings).up()
    assert again.started == []
    assert again.all_running


def test_message_round_trips_through_the_real_broker(stack: StackStatus, settings: Settings) -> None:
    topic = f"test.roundtrip.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    try:
        producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
        sent = [producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode()) for i in range(20)]
        producer.flush()
        offsets = {(m.get(timeout=10).partition, m.get(timeout=10).offset) for m in sent}
        producer.close()
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=10_000,
        )
        received = {}
        for message in consumer:
            received[message.key] = message.value
            if len(received) == 20:
                break
        consumer.close()
    finally:
        admin.delete_topics([topic])
        admin.close()
    assert len(offsets) == 20
    assert received == {f"k{i}".encode(): f"v{i}".encode() for i in range(20)}


def test_rows_round_trip_through_the_real_clickhouse(stack: StackStatus, settings: Settings) -> None:
    client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                    password=settings.clickhouse_password)
    database = f"test_{uuid.uuid4().hex[:8]}"
    client.execute(f"CREATE DATABASE {database}")
    try:
        client.execute(
            f"CREATE TABLE {database}.t (day Date, id String, n UInt32) "
            "ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY id"
        )
        rows = [{"day": datetime.date(2026, 11, 25), "id": f"id{i}", "n": i} for i in range(100)]
        client.execute(f"INSERT INTO {database}.t (day, id, n) VALUES", rows)
        assert client.execute(f"SELECT count(), sum(n) FROM {database}.t") == [(100, sum(range(100)))]
        assert client.execute("SELECT version()")[0][0].startswith(stack.clickhouse_version or "?")
    finally:
        client.execute(f"DROP DATABASE {database}")
        client.disconnect()
