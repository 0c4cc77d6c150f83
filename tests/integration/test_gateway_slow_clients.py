"""`cxstream gateway` as deployed (the CLI, its environment, `web.run_app`) bounds slow clients: the
settings reach the server, stalled bodies are answered 408 and nothing reaches Kafka, stalled
headers are cut off, and a key past its bound on requests in flight is refused at once.

The fast tier tests the same behaviour in-process (tests/unit/gateway/test_slow_clients.py); this
one proves the real process is wired the same way. Every socket read has a deadline.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_TOUCHPOINTS
from tests.support.gateway import GatewayRun, endings, gateway_settings, read_topic, running_gateway, stall

pytestmark = pytest.mark.integration

SLACK = 2.0


@pytest.fixture(scope="module")
def gateway(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayRun]:
    folder = tmp_path_factory.mktemp("gateway-slow")
    tuned = gateway_settings(settings, folder, gateway_body_timeout_seconds=1, gateway_header_timeout_seconds=1,
                             gateway_in_flight_per_key=2)
    with running_gateway(tuned, folder) as run:
        yield run


def test_stalled_bodies_are_408_within_the_timeout_and_past_the_key_bound_429_at_once(gateway: GatewayRun) -> None:
    key = gateway.add_key()

    first = [stall(gateway.port, key), stall(gateway.port, key)]
    time.sleep(0.3)  # both are being read: the key is at its bound
    ends = endings([*first, stall(gateway.port, key)], within=1 + SLACK)

    assert [e.status for e in ends] == [408, 408, 429], ends
    assert all(0.5 <= e.seconds <= 1 + SLACK for e in ends[:2]), ends
    assert ends[2].seconds <= 1.0 and ends[2].body["error"] == "too_many_in_flight", ends
    assert read_topic(gateway.settings, gateway.topic(TOPIC_TOUCHPOINTS)) == []
    lines = [json.loads(line) for line in gateway.log_text().splitlines() if line.startswith("{")]
    assert [(e["status"], e["error"]) for e in lines if e.get("event") == "gateway.refused"] == [(408, "body_timeout")] * 2
    assert not any("Traceback" in json.dumps(e) or "qzv81" in json.dumps(e) for e in lines)


def test_stalled_headers_are_cut_off_after_the_header_timeout(gateway: GatewayRun) -> None:
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    sock.sendall(b"POST /v1/touchpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")

    [ending] = endings([(sock, time.monotonic())], within=1 + SLACK)

    assert ending.status is None and 0.5 <= ending.seconds <= 1 + SLACK, ending
