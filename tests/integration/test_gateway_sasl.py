"""Secure connections against a throwaway broker with SASL and TLS listeners (never the shared one).

The gateway, `cxstream publish` and `cxstream topics ensure` reach Kafka over SASL PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512 (plain and over TLS) and TLS with a client certificate; secrets come from files and
never show in a log; a wrong password or an unknown CA is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Touchpoint
from cxstream.stack import StackStatus
from cxstream.topics import ensure_topics
from cxstream.vocabulary import INPUT_TOPICS, TOPIC_TOUCHPOINTS
from tests.support.gateway import gateway_settings, read_topic, running_gateway
from tests.support.secure_broker import (
    CLIENT_KEY_PASSWORD,
    PLAIN_PASSWORD,
    SCRAM_PASSWORD,
    SecureBroker,
    make_certificates,
    secure_broker,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_broker(settings, tmp_path_factory.mktemp("secure-kafka")) as running:
        yield running


def _touchpoint(tp_id: str) -> dict[str, object]:
    return {"touchpoint_id": tp_id, "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA", "service": "claims",
            "channel": "phone"}


@pytest.mark.parametrize(("protocol", "mechanism"), [
    ("SASL_PLAINTEXT", "PLAIN"), ("SASL_PLAINTEXT", "SCRAM-SHA-256"), ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
    ("SASL_SSL", "SCRAM-SHA-512"), ("SASL_SSL", "PLAIN"), ("SSL", "-"),
])
def test_gateway_round_trip_over_a_secured_listener(broker: SecureBroker, tmp_path: Path, protocol: str,
                                                    mechanism: str) -> None:
    run = uuid.uuid4().hex[:8]
    client = broker.settings(protocol, mechanism)
    with running_gateway(gateway_settings(client, tmp_path), tmp_path) as gateway:
        key = gateway.add_key()
        answer = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}"), key)
        messages = read_topic(gateway.settings, gateway.topic(TOPIC_TOUCHPOINTS))
        log = gateway.log_text()

    assert answer.status == 200, (answer, log[-2000:])
    assert [Touchpoint(**Codec().decode(m.value)[1]).touchpoint_id for m in messages] == [f"tp-{run}"]
    for secret in (PLAIN_PASSWORD, SCRAM_PASSWORD, CLIENT_KEY_PASSWORD):
        assert secret not in log


def test_publish_cli_over_scram_with_the_password_in_a_file(broker: SecureBroker, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    client = broker.settings("SASL_SSL", "SCRAM-SHA-256", topic_prefix=f"cli{run}.")
    ensure_topics(client, INPUT_TOPICS)
    password_file = tmp_path / "sasl-password"
    password_file.write_text(SCRAM_PASSWORD + "\n")
    env = dict(os.environ, CXSTREAM_KAFKA_BOOTSTRAP=client.kafka_bootstrap, CXSTREAM_TOPIC_PREFIX=client.topic_prefix,
               CXSTREAM_KAFKA_SECURITY_PROTOCOL="SASL_SSL", CXSTREAM_KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
               CXSTREAM_KAFKA_SASL_USERNAME=client.kafka_sasl_username, CXSTREAM_KAFKA_SSL_CAFILE=client.kafka_ssl_cafile,
               CXSTREAM_KAFKA_SASL_PASSWORD_FILE=str(password_file), CXSTREAM_LOG_FORMAT="json",
               CXSTREAM_LOG_LEVEL="debug")
    lines = "".join(json.dumps(_touchpoint(f"tp-{run}-{i}")) + "\n" for i in range(20)).encode()

    result = subprocess.run([sys.executable, "-m", "cxstream.cli", "publish", "touchpoints", "-"], input=lines,
                            env=env, capture_output=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert len(read_topic(client, client.topic(TOPIC_TOUCHPOINTS))) == 20
    assert SCRAM_PASSWORD not in result.stderr.decode() + result.stdout.decode()


def _env(client: Settings, **extra: str) -> dict[str, str]:
    names = ("kafka_bootstrap", "topic_prefix", "kafka_security_protocol", "kafka_sasl_mechanism",
             "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_cafile", "kafka_ssl_certfile",
             "kafka_ssl_keyfile", "kafka_ssl_key_password")
    env = dict(os.environ, **{f"CXSTREAM_{n.upper()}": str(getattr(client, n)) for n in names},
               CXSTREAM_LOG_FORMAT="json")
    env.update(extra)
    return env


@pytest.mark.parametrize("change", ["wrong_password", "unknown_ca", "no_client_certificate"])
def test_a_wrong_password_an_untrusted_broker_or_a_missing_client_certificate_keeps_the_gateway_from_starting(
    broker: SecureBroker, tmp_path: Path, change: str
) -> None:
    if change == "wrong_password":
        client = broker.settings("SASL_SSL", "SCRAM-SHA-512", kafka_sasl_password="not-the-password")
    elif change == "unknown_ca":
        other_ca = make_certificates(tmp_path / "other").cafile
        client = broker.settings("SASL_SSL", "SCRAM-SHA-512", kafka_ssl_cafile=str(other_ca))
    else:
        client = broker.settings("SSL", kafka_ssl_certfile="", kafka_ssl_keyfile="", kafka_ssl_key_password="")
    gateway = gateway_settings(client, tmp_path)
    env = _env(gateway, CXSTREAM_GATEWAY_PORT=str(gateway.gateway_port),
               CXSTREAM_GATEWAY_KEYS_FILE=str(gateway.gateway_keys_file))

    result = subprocess.run([sys.executable, "-m", "cxstream.cli", "gateway"], env=env, capture_output=True,
                            timeout=120, check=False)

    output = result.stderr.decode() + result.stdout.decode()
    assert result.returncode != 0, output[-2000:]
    assert "cannot reach Kafka" in output, output[-2000:]
    for secret in (client.kafka_sasl_password, PLAIN_PASSWORD, SCRAM_PASSWORD, CLIENT_KEY_PASSWORD):
        assert not secret or secret not in output


def test_the_worker_joins_and_stores_over_sasl_ssl(broker: SecureBroker, settings: Settings, tmp_path: Path) -> None:
    """Gateway -> worker (Faust and the sink's consumer) -> ClickHouse, every Kafka client on SCRAM over TLS."""
    from clickhouse_driver import Client

    from cxstream.vocabulary import CONTRACT_TOPICS
    from tests.support.worker import wait_for

    run = uuid.uuid4().hex[:8]
    client = broker.settings("SASL_SSL", "SCRAM-SHA-512", topic_prefix=f"w{run}.")
    ensure_topics(client, CONTRACT_TOPICS)
    database = f"cx_sasl{run}"
    password_file = tmp_path / "sasl-password"
    password_file.write_text(SCRAM_PASSWORD)
    env = _env(client, CXSTREAM_KAFKA_SASL_PASSWORD="", CXSTREAM_KAFKA_SASL_PASSWORD_FILE=str(password_file),
               CXSTREAM_WORKER_ID="cxw", CXSTREAM_STATE_DIR=str(tmp_path / "state"), CXSTREAM_METRICS_PORT="0",
               CXSTREAM_CLICKHOUSE_DATABASE=database, CXSTREAM_CLICKHOUSE_PORT=str(settings.clickhouse_port),
               CXSTREAM_PARTITIONS=str(client.partitions), CXSTREAM_EMIT_INTERVAL_MS="200")
    log_path = tmp_path / "worker.log"
    clickhouse = Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                        password=settings.clickhouse_password, connect_timeout=5)
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "sink.started" in log_path.read_text(), timeout=120, what="the worker's sink to start")
        gw = gateway_settings(client, tmp_path, topic_prefix=client.topic_prefix)
        with running_gateway(gw, tmp_path, create_topics=False) as gateway:
            key = gateway.add_key()
            posted = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}"), key)
            feedback = {"feedback_id": f"fb-{run}", "touchpoint_id": f"tp-{run}",
                        "submitted_at": "2026-11-25T14:09:41Z", "answers": {"trust": 5}}
            posted_feedback = gateway.post("/v1/feedback", feedback, key)
        wait_for(lambda: clickhouse.execute(f"SELECT count() FROM {database}.feedback")[0][0] == 1, timeout=120,
                 what="the feedback in ClickHouse")
        stored = clickhouse.execute(f"SELECT feedback_id, agency, channel, matched FROM {database}.feedback")
        log_text = log_path.read_text()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        clickhouse.execute(f"DROP DATABASE IF EXISTS {database}")
        clickhouse.disconnect()

    assert (posted.status, posted_feedback.status) == (200, 200)
    assert stored == [(f"fb-{run}", "VA", "phone", 1)]
    assert SCRAM_PASSWORD not in log_text
