"""streams/fast_producer.py without a broker: the changelog bytes Faust would have sent, and the
security settings in librdkafka's words. (Partitioning and delivery on a real broker:
tests/integration/test_fast_producer.py.)"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
from typing import Any

import faust
import pytest

from cxstream.config import Settings
from cxstream.streams.acking import FAIL_STOP_EXIT
from cxstream.streams.fast_producer import FastProducer, FastTopic, LibrdkafkaLog, librdkafka_security, route_changelog


class RecordingProducer:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int | None, Any]] = []

    def produce(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                headers: Any = None) -> None:
        self.records.append((topic, key, value, partition, headers))

    async def send(self, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                   headers: Any = None) -> None:
        self.produce(topic, key, value, partition, headers)


def _table() -> Any:
    app = faust.App("cxstream-unit-fast", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    return app.Table("join-touchpoints", partitions=6)


def test_changelog_records_carry_the_bytes_and_partition_faust_would_send() -> None:
    table = _table()
    topic = table.changelog_topic
    key, value = "VA/préstamos/tp-1", ["VA", "préstamos", "phone", 1, 2, None, []]
    want_key, _ = topic.prepare_key(key, table.key_serializer)
    want_value, _ = topic.prepare_value(value, table.value_serializer)
    producer = RecordingProducer()
    route_changelog(table, producer)  # type: ignore[arg-type]

    sent = table.send_changelog(4, key, value)
    table.send_changelog(4, key, None, value_serializer="raw")  # what Table.on_key_del sends

    assert sent.message.partition == 4  # Table.on_key_set reads it
    assert producer.records == [(topic.get_topic_name(), want_key, want_value, 4, None),
                                (topic.get_topic_name(), want_key, None, 4, None)]
    assert want_key == '"VA/préstamos/tp-1"'.encode()


def test_a_changelog_record_without_a_partition_is_refused() -> None:
    table = _table()
    route_changelog(table, RecordingProducer())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="partition"):
        table.send_changelog(None, "k", [1])


def test_a_fast_topic_hands_records_to_the_producer_as_a_stage_sends_them() -> None:
    producer = RecordingProducer()
    topic = FastTopic("cx.scores.v1", producer)  # type: ignore[arg-type]

    async def stage() -> None:
        await topic.send(key=b"k", value=b"v", headers=[("cx-source", b"x")])
        await topic.send(key=b"k2", value=b"v2", partition=3)

    asyncio.run(stage())
    assert topic.get_topic_name() == "cx.scores.v1"
    assert producer.records == [("cx.scores.v1", b"k", b"v", None, [("cx-source", b"x")]),
                                ("cx.scores.v1", b"k2", b"v2", 3, None)]


def test_security_settings_in_librdkafka_words(tmp_path: Any) -> None:
    assert librdkafka_security(Settings.load({})) == {"security.protocol": "plaintext"}
    secured = Settings.load({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512",
                             "kafka_sasl_username": "cx", "kafka_sasl_password": "pw",
                             "kafka_ssl_cafile": "/etc/ca.pem", "kafka_ssl_check_hostname": False})
    assert librdkafka_security(secured) == {
        "security.protocol": "sasl_ssl", "ssl.ca.location": "/etc/ca.pem",
        "ssl.endpoint.identification.algorithm": "none", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "cx", "sasl.password": "pw"}


class FullThenFree:
    """librdkafka's Producer with a queue that is full for the first ``full`` attempts."""

    def __init__(self, full: int) -> None:
        self.full = full
        self.produced: list[bytes | None] = []
        self.polls: list[float] = []

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, partition: int = -1,
                headers: Any = None, on_delivery: Any = None) -> None:
        if self.full > 0:
            self.full -= 1
            raise BufferError("Local: Queue full")
        self.produced.append(key)

    def poll(self, timeout: float) -> int:
        self.polls.append(timeout)
        return 0


def test_a_full_queue_makes_a_stage_wait_without_holding_the_event_loop() -> None:
    producer = FastProducer(Settings.load({"kafka_bootstrap": "127.0.0.1:1"}), client_id="unit")
    producer._producer = FullThenFree(full=3)  # type: ignore[assignment]
    others_ran: list[int] = []
    ran_while_waiting: list[int] = []

    async def other_work() -> None:
        for i in range(10):
            others_ran.append(i)
            await asyncio.sleep(0.01)

    async def scenario() -> None:
        other = asyncio.create_task(other_work())
        await producer.send("cx.scores.v1", b"k", b"v")
        ran_while_waiting.append(len(others_ran))
        await other

    asyncio.run(scenario())
    assert producer._producer.produced == [b"k"]  # type: ignore[attr-defined]
    assert ran_while_waiting[0] >= 3 and producer.produced == 1  # the loop went on while the queue was full


def test_a_table_write_on_a_full_queue_waits_for_room_serving_deliveries() -> None:
    producer = FastProducer(Settings.load({"kafka_bootstrap": "127.0.0.1:1"}), client_id="unit")
    fake = FullThenFree(full=2)
    producer._producer = fake  # type: ignore[assignment]
    producer.produce("t-changelog", b"k", b"v", 0)
    assert fake.produced == [b"k"] and fake.polls == [0.1, 0.1]


def test_librdkafka_logs_through_python_logging_not_raw_to_stderr(capfd: Any, caplog: Any) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: librdkafka logs its failed connects
    producer = FastProducer(Settings.load({"kafka_bootstrap": f"127.0.0.1:{port}"}), client_id="unit-logs")
    with caplog.at_level(logging.DEBUG, logger="cxstream.librdkafka"):
        producer.produce("t", b"k", b"v", 0)
        producer.flush_blocking(2.0)  # serves the log queue
    assert "|FAIL|" not in capfd.readouterr().err
    assert any(r.name == "cxstream.librdkafka" and str(port) in r.getMessage() for r in caplog.records)


def test_librdkafka_lines_are_one_template_per_facility_so_repeats_fold_per_facility(caplog: Any) -> None:
    log = LibrdkafkaLog()
    with caplog.at_level(logging.INFO, logger="cxstream.librdkafka"):
        for port in (1, 2):  # confluent-kafka's own call: level, one format, facility, client, text
            log.log(logging.ERROR, "%s [%s] %s", "FAIL", "cxw#producer-1", f"Connect to 127.0.0.1:{port} failed")
        log.log(logging.WARNING, "%s [%s] %s", "GETPID", "cxw#producer-1", "Failed to acquire PID: 50% done")
    assert [r.msg for r in caplog.records] == ["librdkafka FAIL [%s]: %s"] * 2 + ["librdkafka GETPID [%s]: %s"]
    assert caplog.records[2].getMessage() == "librdkafka GETPID [cxw#producer-1]: Failed to acquire PID: 50% done"


def test_a_record_librdkafka_gives_up_on_stops_the_process_before_anything_is_confirmed() -> None:
    # No broker at 127.0.0.1:1 and a 0.5 s message timeout: the delivery report of the one record
    # is a failure, which must reach the producer's callback and end the process (fail_stop).
    script = (
        "from cxstream.config import Settings\n"
        "from cxstream.streams import fast_producer\n"
        "fast_producer.MESSAGE_TIMEOUT_MS = 500\n"
        "p = fast_producer.FastProducer(Settings.load({'kafka_bootstrap': '127.0.0.1:1'}), client_id='unit')\n"
        "p.produce('cx.scores.v1', b'k', b'v', 0)\n"
        "p.flush_blocking(10)\n"
        "print('still running')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == FAIL_STOP_EXIT, done.stdout + done.stderr
    assert "producer.send_failed" in done.stdout + done.stderr
    assert "still running" not in done.stdout
