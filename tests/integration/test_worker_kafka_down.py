"""`cxstream worker` started while Kafka is down: it waits (one line per attempt, growing pauses),
starts once Kafka answers, stops at once on SIGTERM or Ctrl-C; a Kafka that refuses it stops it
at once with one line saying what to fix.

The worker connects to a port where nothing listens, later to a broker of the test's own on that
port: the shared broker is never stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic

from cxstream.config import Settings
from cxstream.kafka_clients import admin_client
from cxstream.stack import StackStatus
from cxstream.stack.kafka import KafkaBroker
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.cleanup import delete_prefixed_topics, stop_process
from tests.support.private_stack import free_port
from tests.support.secure_broker import SCRAM_PASSWORD, SecureBroker, make_certificates, secure_broker
from tests.support.worker import wait_for

pytestmark = pytest.mark.integration

WAITING = "worker.waiting_for_kafka"
#: A stopped worker must be gone within this many seconds of the signal.
PROMPT_SECONDS = 10


def _worker_env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers, CXSTREAM_METRICS_PORT="0",
               CXSTREAM_SINK_ENABLED="false", CXSTREAM_LOG_FORMAT="json", CXSTREAM_LOG_LEVEL="info",
               CXSTREAM_STATE_DIR=str(tmp_path / "state"), CXSTREAM_TOPIC_PREFIX=f"kd{uuid.uuid4().hex[:8]}.",
               CXSTREAM_PARTITIONS=str(settings.partitions))
    env.update(extra)
    return env


@dataclasses.dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def lines(self) -> list[dict[str, Any]]:
        """Every line of the log as JSON (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]

    def waits(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["event"] == WAITING]

    def stop(self, signum: int) -> tuple[int, float]:
        """Send ``signum``; the exit code and how long the process took to go."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        return code, time.monotonic() - sent


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Any]:
    """Starts `cxstream worker` processes (output to a log file); stops what is left at the end."""
    started: list[Worker] = []

    def start(env: dict[str, str]) -> Worker:
        log_path = tmp_path / f"worker-{len(started)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env, stdout=log,
                                       stderr=subprocess.STDOUT)
        started.append(Worker(process, log_path))
        return started[-1]

    yield start
    for worker in started:
        stop_process(worker.process)


def _assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text and "uncaught_exception" not in text, text[-3000:]


@pytest.mark.timeout(300)
def test_a_worker_started_while_kafka_is_down_waits_for_it_then_starts(
    stack: StackStatus, settings: Settings, tmp_path: Path, start_worker: Any
) -> None:
    port = free_port()  # nothing listens here until the test starts a broker on it
    down = dataclasses.replace(settings, kafka_bootstrap=f"127.0.0.1:{port}")
    # Pauses capped at 8 s (30 by default), so the worker sees the broker soon after it starts.
    worker = start_worker(_worker_env(down, tmp_path, CXSTREAM_KAFKA_WAIT_MAX_SECONDS="8"))

    time.sleep(40)  # longer than kafka-python's 30 s bootstrap timeout, which used to end the process

    assert worker.process.poll() is None, f"the worker exited ({worker.process.returncode}):\n{worker.text()[-3000:]}"
    waits = worker.waits()
    assert len(waits) >= 5, worker.text()[-3000:]
    delays = [w["retry_in_s"] for w in waits]
    assert delays[:5] == sorted(delays[:5]) and delays[4] >= 4 * delays[0], delays  # backing off
    assert max(delays) <= 8, delays  # the cap holds
    assert all(w["bootstrap"] == f"127.0.0.1:{port}" and "refused" in w["error"].lower() for w in waits), waits
    assert all(len(w["error"]) < 400 and "\n" not in w["error"] for w in waits)
    assert len(waits) == len(worker.lines()), "one line per attempt, nothing else (no library noise)"
    _assert_no_traceback(worker.text())

    broker = KafkaBroker(dataclasses.replace(settings, kafka_bootstrap="", kafka_port=port, kafka_heap="256m",
                                             kafka_controller_port=free_port(), state_dir=tmp_path / "broker"))
    broker.start()
    try:
        # The next attempt is at most 8 s away; then Faust starts and joins its group.
        wait_for(lambda: any(line["event"] == "worker.partitions_assigned" and line["partitions"]
                             for line in worker.lines()),
                 timeout=120, what="the worker to get its partitions once Kafka answers")
        assert any(line["event"] == "kafka.answered" for line in worker.lines())
        code, took = worker.stop(signal.SIGTERM)
    finally:
        broker.stop()
    assert code == 0 and took < 30, (code, took)
    _assert_no_traceback(worker.text())


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)],
                         ids=["sigterm", "ctrl-c"])
def test_a_stop_signal_ends_the_wait_for_kafka_at_once_without_a_traceback(
    settings: Settings, tmp_path: Path, start_worker: Any, signum: int, expected: int
) -> None:
    down = dataclasses.replace(settings, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    worker = start_worker(_worker_env(down, tmp_path))
    wait_for(lambda: len(worker.waits()) >= 3, timeout=60, what="the worker to wait for Kafka")

    code, took = worker.stop(signum)

    assert code == expected and took < PROMPT_SECONDS, (code, took, worker.text()[-3000:])
    last = worker.lines()[-1]
    assert last["event"] == "worker.stopped" and last["signal"] == signal.Signals(signum).name
    _assert_no_traceback(worker.text())


def test_input_topics_of_different_partition_counts_stop_the_worker_at_once(
    stack: StackStatus, settings: Settings, tmp_path: Path, start_worker: Any
) -> None:
    env = _worker_env(settings, tmp_path)
    prefix = env["CXSTREAM_TOPIC_PREFIX"]
    mine = dataclasses.replace(settings, topic_prefix=prefix)
    admin = admin_client(mine, "cxstream-test")
    try:
        admin.create_topics([NewTopic(prefix + TOPIC_TOUCHPOINTS, num_partitions=settings.partitions, replication_factor=1),
                             NewTopic(prefix + TOPIC_FEEDBACK, num_partitions=settings.partitions + 1,
                                      replication_factor=1)])
    finally:
        admin.close()
    try:
        worker = start_worker(env)
        code = worker.process.wait(timeout=90)
    finally:
        delete_prefixed_topics(mine)
    assert code == 1, worker.text()[-3000:]
    assert "cxstream: error: the input topics must be co-partitioned" in worker.text()
    assert WAITING not in worker.text()
    _assert_no_traceback(worker.text())


@pytest.fixture(scope="module")
def secured(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_broker(settings, tmp_path_factory.mktemp("secure-kafka")) as running:
        yield running


def _security_env(client: Settings) -> dict[str, str]:
    names = ("kafka_bootstrap", "kafka_security_protocol", "kafka_sasl_mechanism", "kafka_sasl_username",
             "kafka_sasl_password", "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile",
             "kafka_ssl_key_password")
    return {f"CXSTREAM_{n.upper()}": str(getattr(client, n)) for n in names}


@pytest.mark.parametrize("change", ["wrong_password", "unknown_ca"])
def test_a_kafka_that_refuses_the_worker_stops_it_at_once_with_what_to_fix(
    secured: SecureBroker, tmp_path: Path, start_worker: Any, change: str
) -> None:
    if change == "wrong_password":
        client = secured.settings("SASL_SSL", "SCRAM-SHA-512", kafka_sasl_password="not-the-password")
        advice = "CXSTREAM_KAFKA_SASL_PASSWORD"
    else:
        client = secured.settings("SASL_SSL", "SCRAM-SHA-512",
                                  kafka_ssl_cafile=str(make_certificates(tmp_path / "other").cafile))
        advice = "CXSTREAM_KAFKA_SSL_CAFILE"
    worker = start_worker(_worker_env(client, tmp_path, **_security_env(client)))

    code = worker.process.wait(timeout=60)

    error = [line for line in worker.text().splitlines() if line.startswith("cxstream: error: ")]
    assert code == 1 and len(error) == 1 and advice in error[0], worker.text()[-3000:]
    assert WAITING not in worker.text()
    assert "not-the-password" not in worker.text() and SCRAM_PASSWORD not in worker.text()
    _assert_no_traceback(worker.text())
