"""Slow clients cannot hold the gateway's connections: bodies and headers have a deadline, and one
key or one address has a bound on requests in flight (answered 429 at once beyond it).

Every test serves the real ``Gateway`` in-process on loopback (``tests.support.gateway.serving``,
with the server options `cxstream gateway` uses) and talks to it with raw sockets: each read has a
deadline, so a test that finds a connection still open fails in seconds instead of hanging.
"""

from __future__ import annotations

import dataclasses
import http.client
import io
import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.gateway.delivery import Message
from cxstream.logs import configure as configure_logs
from tests.support.gateway import LocalGateway, endings, serving, stall

#: How late an answer or a close may come after its deadline on a loaded 2-core machine.
SLACK = 2.0
#: What "at once" means for a refusal that must not wait for anything.
AT_ONCE = 1.0
TOUCHPOINT = {"touchpoint_id": "tp-slow-1", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA",
              "service": "claims", "channel": "phone"}


@pytest.fixture
def gateway_of(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """``gateway_of(**settings)``: an in-process gateway with those settings, stopped after the test."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> LocalGateway:
            values = {"gateway_keys_file": tmp_path / "keys.json", **overrides}
            return stack.enter_context(serving(dataclasses.replace(settings, **values)))

        yield start


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """``log_lines()``: the JSON log lines written so far (at debug), as the gateway would write them."""
    out = io.StringIO()
    configure_logs("debug", "json", stream=out)
    try:
        yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    finally:
        configure_logs("warning", "console")


def _post(port: int, key: str, body: dict[str, Any] = TOUCHPOINT) -> tuple[int, Any]:
    """One complete request on a connection of its own: (status, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/v1/touchpoints", body=json.dumps(body).encode(),
                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(raw) if is_json else raw
    finally:
        conn.close()


def _post_until_admitted(port: int, key: str, within: float = 5.0) -> tuple[int, Any]:
    """``_post`` again while it is refused for a slot still held, up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        status, body = _post(port, key)
        if status != 429 or time.monotonic() > deadline:
            return status, body
        time.sleep(0.05)


def test_a_body_that_stalls_is_answered_408_and_closed_within_the_body_timeout(gateway_of: Any,
                                                                              log_lines: Any) -> None:
    gw = gateway_of(gateway_body_timeout_seconds=1)
    key = gw.add_key()

    ends = endings([stall(gw.port, key) for _ in range(3)], within=1 + SLACK)
    logs = log_lines()

    for ending in ends:
        assert ending.status == 408, ending
        assert ending.body["error"] == "body_timeout" and "1s" in ending.body["detail"], ending
        assert ending.headers.get("connection") == "close", ending
        assert 0.5 <= ending.seconds <= 1 + SLACK, ending
    assert gw.delivered == []
    refused = [e for e in logs if e["event"] == "gateway.refused"]
    assert [(e["status"], e["error"], e["level"]) for e in refused] == [(408, "body_timeout", "info")] * 3
    assert not any("qzv81" in json.dumps(e) for e in logs), "a log line shows the body"
    assert gw.gateway.traffic.statuses[408] == 3


def test_the_reported_flood_holds_only_the_key_bound_and_each_for_the_body_timeout(gateway_of: Any) -> None:
    # The report: 50 connections a second (the key's rate), each `Content-Length: 100000` and 8 bytes.
    gw = gateway_of(gateway_body_timeout_seconds=3, gateway_in_flight_per_key=5)
    key = gw.add_key(rate=50)

    ends = endings([stall(gw.port, key) for _ in range(20)], within=3 + SLACK)

    timed_out = [e for e in ends if e.status == 408]
    refused = [e for e in ends if e.status == 429]
    assert (len(timed_out), len(refused)) == (5, 15), [(e.status, round(e.seconds, 2)) for e in ends]
    assert all(2.5 <= e.seconds <= 3 + SLACK for e in timed_out), [e.seconds for e in timed_out]
    for ending in refused:
        assert ending.seconds <= AT_ONCE, ending
        assert ending.body["error"] == "too_many_in_flight" and ending.body["in_flight_limit"] == 5, ending
        assert ending.headers.get("retry-after") == "1" and ending.headers.get("connection") == "close", ending
    assert gw.delivered == []
    # The key's slots are free again: a complete request goes through.
    assert _post(gw.port, key)[0] == 200


def test_one_address_holds_only_its_bound_whatever_its_keys(gateway_of: Any) -> None:
    gw = gateway_of(gateway_body_timeout_seconds=2, gateway_in_flight_per_key=2, gateway_in_flight_per_address=3)
    keys = [gw.add_key(name=f"k{i}") for i in range(3)]

    stalled = [stall(gw.port, keys[0]), stall(gw.port, keys[0]), stall(gw.port, keys[1])]
    time.sleep(0.3)  # the three are being read: the address is at its bound
    over = [stall(gw.port, keys[1]), stall(gw.port, keys[2])]
    ends = endings(stalled + over, within=2 + SLACK)

    assert [e.status for e in ends] == [408, 408, 408, 429, 429], ends
    for ending in ends[3:]:
        assert ending.seconds <= AT_ONCE, ending
        assert ending.body["error"] == "too_many_in_flight" and ending.body["in_flight_limit"] == 3, ending
        assert "127.0.0.1" in ending.body["detail"], ending


def test_a_slot_is_freed_however_its_request_ends(tmp_path: Path, settings: Settings) -> None:
    failures = iter([RuntimeError("the broker exploded")])

    async def deliver(messages: list[Message]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure

    context = serving(dataclasses.replace(settings, gateway_keys_file=tmp_path / "keys.json",
                                          gateway_body_timeout_seconds=1, gateway_in_flight_per_key=1,
                                          gateway_in_flight_per_address=1), deliver=deliver)
    with context as gw:
        key = gw.add_key()

        assert _post(gw.port, key)[0] == 500  # the delivery raised
        assert _post(gw.port, key)[0] == 200
        assert _post(gw.port, key, {"touchpoint_id": "no-time"})[0] == 422
        assert _post(gw.port, key)[0] == 200
        [ending] = endings([stall(gw.port, key)], within=1 + SLACK)
        assert ending.status == 408
        assert _post(gw.port, key)[0] == 200
        gone, _ = stall(gw.port, key)
        time.sleep(0.2)
        gone.close()  # the client gives up mid-body
        assert _post_until_admitted(gw.port, key)[0] == 200


def test_a_client_that_gives_up_mid_body_is_one_debug_line_not_an_error(gateway_of: Any, log_lines: Any) -> None:
    gw = gateway_of(gateway_body_timeout_seconds=5, gateway_in_flight_per_key=1)
    key = gw.add_key()

    gone, _ = stall(gw.port, key)
    time.sleep(0.2)
    gone.close()
    status, _ = _post_until_admitted(gw.port, key)
    logs = log_lines()

    assert status == 200
    assert [e["event"] for e in logs if e["event"].startswith("gateway.client_gone")] == ["gateway.client_gone"]
    assert [e for e in logs if e["level"] in ("warning", "error")] == []
    assert gw.gateway.traffic.client_gone == 1 and gw.gateway.traffic.statuses == {200: 1}


def test_headers_that_stall_are_cut_off_after_the_header_timeout(gateway_of: Any) -> None:
    gw = gateway_of(gateway_header_timeout_seconds=1)
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    sock.sendall(b"POST /v1/touchpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    stalled = time.monotonic()
    idle = socket.create_connection(("127.0.0.1", gw.port), timeout=5)  # never sends a byte

    ends = endings([(sock, stalled), (idle, time.monotonic())], within=1 + SLACK)

    assert all(e.status is None and 0.5 <= e.seconds <= 1 + SLACK for e in ends), ends


def test_a_slow_but_steady_body_and_keep_alive_requests_are_served(gateway_of: Any) -> None:
    gw = gateway_of(gateway_body_timeout_seconds=2, gateway_in_flight_per_key=1)
    key = gw.add_key()
    body = json.dumps(TOUCHPOINT).encode()

    sock, _ = stall(gw.port, key, length=len(body), body=body[:10])
    time.sleep(0.5)
    sock.sendall(body[10:])
    sock.settimeout(5)
    answer = sock.recv(65536)
    sock.close()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    statuses = []
    for _ in range(3):  # one connection, one request after another: each frees its slot
        conn.request("POST", "/v1/touchpoints", body=body,
                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    conn.close()

    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert statuses == [200, 200, 200]
    assert len(gw.delivered) == 4
