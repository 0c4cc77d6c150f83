"""The gateway while Kafka is down: 503 with Retry-After, nothing half-written, a retry lands once.

Runs against a private broker (the shared one is never stopped).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_TOUCHPOINTS
from tests.support.gateway import Answer, GatewayRun, gateway_settings, read_topic, running_gateway
from tests.support.private_stack import private_broker

pytestmark = pytest.mark.integration


def _touchpoints(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"touchpoint_id": f"{prefix}-{i}", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA",
             "service": "claims", "channel": "phone"} for i in range(n)]


def _ids(gateway: GatewayRun) -> list[str]:
    return sorted(m.key.decode() for m in read_topic(gateway.settings, gateway.topic(TOPIC_TOUCHPOINTS)))


def _post_until_accepted(gateway: GatewayRun, key: str, batch: list[dict[str, Any]], timeout: float = 90) -> Answer:
    """What a client does with 503: wait Retry-After, send the same request again."""
    deadline = time.monotonic() + timeout
    while True:
        answer = gateway.post("/v1/touchpoints", batch, key)
        if answer.status != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(int(answer.headers["retry-after"]))


def test_kafka_down_is_503_with_retry_after_nothing_is_written_and_the_retry_lands_once(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    base = dataclasses.replace(settings, kafka_heap="256m")
    with private_broker(base, tmp_path / "kafka") as broker:
        gw = gateway_settings(broker.settings, tmp_path, gateway_ack_timeout_ms=3000)
        with running_gateway(gw, tmp_path) as gateway:
            key = gateway.add_key()
            before = gateway.post("/v1/touchpoints", _touchpoints(f"a-{run}", 5), key)
            broker.stop()

            started = time.monotonic()
            during = gateway.post("/v1/touchpoints", _touchpoints(f"b-{run}", 5), key)
            waited = time.monotonic() - started
            at_once = gateway.post("/v1/touchpoints", _touchpoints(f"c-{run}", 5), key)

            broker.start()
            after_restart = _ids(gateway)
            retried = _post_until_accepted(gateway, key, _touchpoints(f"b-{run}", 5))
            final = _ids(gateway)
            alive = gateway.process.poll() is None

    assert before.status == 200, before
    assert during.status == 503, during
    assert during.body["error"] == "kafka_unavailable"
    assert int(during.headers["retry-after"]) >= 1
    assert waited < 3 + 5, waited  # bounded by the acknowledgement timeout, not the client's patience
    assert at_once.status == 503 and at_once.body["written"] == "none", at_once  # breaker: nothing enqueued
    # Nothing of the refused requests reached Kafka, not even once the broker was back.
    assert after_restart == sorted(f"a-{run}-{i}" for i in range(5))
    assert retried.status == 200, retried
    assert final == sorted([f"a-{run}-{i}" for i in range(5)] + [f"b-{run}-{i}" for i in range(5)])
    assert alive
