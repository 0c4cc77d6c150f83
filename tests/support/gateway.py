"""The gateway under test: a real `cxstream gateway` process for integration tests, on topics of its own
(a unique prefix), or an in-process one (``serving``) whose Kafka is a list, for the fast tier.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from kafka import KafkaConsumer, TopicPartition

from cxstream.config import Settings
from cxstream.gateway import keys as key_store
from cxstream.gateway.app import Deliver, Gateway, server_options
from cxstream.gateway.delivery import Message
from cxstream.kafka_clients import security_options
from cxstream.topics import ensure_topics
from cxstream.vocabulary import INPUT_TOPICS
from tests.support.cleanup import delete_prefixed_topics, stop_process
from tests.support.private_stack import free_port


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (lower-case names), parsed JSON body."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class GatewayRun:
    """A running gateway, its settings (topics, keys file), and the means to post and read back."""

    settings: Settings
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    @property
    def port(self) -> int:
        return self.settings.gateway_port

    def add_key(self, agency: str = "VA", channels: tuple[str, ...] = ("phone", "website"), rate: int = 1000,
                name: str = "test") -> str:
        record, text = key_store.new_key(name, agency, channels, rate)
        key_store.add(self.settings.gateway_keys_file, record)
        return text

    def post(self, path: str, body: bytes | str | dict[str, Any] | list[dict[str, Any]], key: str | None,
             content_type: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        """POST a dict as JSON, a list of dicts as NDJSON, or raw bytes/text as given."""
        if isinstance(body, dict):
            data, kind = json.dumps(body).encode(), "application/json"
        elif isinstance(body, list):
            data, kind = "".join(json.dumps(r) + "\n" for r in body).encode(), "application/x-ndjson"
        else:
            data, kind = (body.encode() if isinstance(body, str) else body), "application/json"
        sent = {"Content-Type": content_type or kind, **(headers or {})}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        return self.request("POST", path, data, sent)

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          json.loads(raw) if raw else None)
        finally:
            conn.close()

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def read_topic(settings: Settings, topic: str, settle: float = 1.5) -> list[Any]:
    """Every message in ``topic`` (a test's own topic), read until ``settle`` seconds pass with none new."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                             auto_offset_reset="earliest", **security_options(settings))
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        messages: list[Any] = []
        last_new = time.monotonic()
        while time.monotonic() - last_new < settle or any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=200).values():
                messages.extend(batch)
                last_new = time.monotonic()
        return messages
    finally:
        consumer.close()


def gateway_settings(base: Settings, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a test gateway: own topic prefix, own keys file, a free port."""
    run_id = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {"topic_prefix": f"gw{run_id}.", "gateway_port": free_port(),
                              "gateway_keys_file": tmp_path / f"keys-{run_id}.json", "partitions": 3, **overrides}
    return dataclasses.replace(base, **values)


@contextmanager
def running_gateway(settings: Settings, tmp_path: Path, *, create_topics: bool = True,
                    extra_env: dict[str, str] | None = None) -> Iterator[GatewayRun]:
    """Start `cxstream gateway` with ``settings``; stop it (SIGTERM) and delete its topics at the end."""
    if create_topics:
        ensure_topics(settings, INPUT_TOPICS)
    names = ("kafka_bootstrap", "topic_prefix", "gateway_port", "gateway_keys_file", "gateway_max_records",
             "gateway_max_bytes", "gateway_rate_per_second", "gateway_ack_timeout_ms", "gateway_body_timeout_seconds",
             "gateway_header_timeout_seconds", "gateway_in_flight_per_key", "gateway_in_flight_per_address",
             "kafka_security_protocol",
             "kafka_sasl_mechanism", "kafka_sasl_username", "kafka_ssl_cafile", "kafka_ssl_certfile",
             "kafka_ssl_keyfile", "kafka_ssl_check_hostname")
    env = dict(os.environ)
    env.update({f"CXSTREAM_{n.upper()}": str(getattr(settings, n)) for n in names})
    env["CXSTREAM_KAFKA_BOOTSTRAP"] = settings.bootstrap_servers
    # Secrets reach the process through files, as a deployment would pass them.
    for secret in ("kafka_sasl_password", "kafka_ssl_key_password"):
        if getattr(settings, secret):
            secret_file = tmp_path / f"{secret}-{settings.gateway_port}"
            secret_file.write_text(getattr(settings, secret) + "\n")
            env[f"CXSTREAM_{secret.upper()}_FILE"] = str(secret_file)
    env.update(CXSTREAM_LOG_FORMAT="json", **(extra_env or {}))
    log_path = tmp_path / f"gateway-{settings.gateway_port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "gateway"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    run = GatewayRun(settings, process, log_path, env)
    try:
        _wait_until_up(run)
        yield run
    finally:
        stop_process(process)
        if create_topics:
            delete_prefixed_topics(settings)


def _wait_until_up(run: GatewayRun, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run.process.poll() is not None:
            raise AssertionError(f"the gateway exited ({run.process.returncode}):\n{run.log_text()[-3000:]}")
        try:
            if run.request("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the gateway did not answer within {timeout:.0f}s:\n{run.log_text()[-3000:]}")


@dataclass
class LocalGateway:
    """An in-process gateway on 127.0.0.1 (an ephemeral port); what it delivered is in ``delivered``."""

    gateway: Gateway
    port: int
    delivered: list[Message]

    def add_key(self, agency: str = "VA", channels: tuple[str, ...] = ("phone", "website"), rate: int = 1000,
                name: str = "test") -> str:
        record, text = key_store.new_key(name, agency, channels, rate)
        key_store.add(self.gateway.settings.gateway_keys_file, record)
        return text


@contextmanager
def serving(settings: Settings, deliver: Deliver | None = None, start_timeout: float = 10.0
            ) -> Iterator[LocalGateway]:
    """Serve ``Gateway`` as `cxstream gateway` does (same server options) from a thread of its own.

    Kafka is replaced by ``deliver`` (default: append to ``delivered``), so raw-socket tests of the
    HTTP layer need no broker. The server and its thread are stopped when the block ends.
    """
    delivered: list[Message] = []

    async def to_list(messages: list[Message]) -> None:
        delivered.extend(messages)

    gateway = Gateway(settings, key_store.KeyFileWatcher(settings.gateway_keys_file), deliver or to_list)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(gateway.application(), access_log=None, shutdown_timeout=1.0,
                           **server_options(settings))

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return int(runner.addresses[0][1])

    thread = threading.Thread(target=loop.run_forever, name="local-gateway", daemon=True)
    thread.start()
    try:
        port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=start_timeout)
        yield LocalGateway(gateway, port, delivered)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=start_timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=start_timeout)
        loop.close()


#: 8 bytes of a body, as in the outside report; a marker no log line may show.
STALLED_BODY = b'{"qzv81"'


@dataclass
class Ending:
    """How a connection ended: when the server closed it (seconds after it stalled) and its answer."""

    seconds: float
    status: int | None
    headers: dict[str, str]
    body: Any


def stall(port: int, key: str, length: int = 100_000, body: bytes = STALLED_BODY) -> tuple[socket.socket, float]:
    """A connection that sent a request's headers (``Content-Length: length``) and ``body``, then stalls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = (f"POST /v1/touchpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()
    sock.sendall(head + body)
    return sock, time.monotonic()


def endings(stalled: list[tuple[socket.socket, float]], within: float) -> list[Ending]:
    """Read every connection until the server closes it; fail if one is open ``within`` s after it stalled."""
    received = {sock: b"" for sock, _ in stalled}
    started = dict(stalled)
    closed: dict[socket.socket, float] = {}
    deadline = max(started.values()) + within
    with selectors.DefaultSelector() as selector:
        for sock in received:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while len(closed) < len(received):
            left = deadline - time.monotonic()
            open_ones = [s for s in received if s not in closed]
            assert left > 0, (f"{len(open_ones)} of {len(received)} stalled connections are still open "
                              f"{within:.1f}s after they stalled; first answer so far: "
                              f"{received[open_ones[0]][:120]!r}")
            for event, _ in selector.select(timeout=min(left, 0.2)):
                ready = event.fileobj
                assert isinstance(ready, socket.socket)
                try:
                    chunk = ready.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    received[ready] += chunk
                else:
                    closed[ready] = time.monotonic()
                    selector.unregister(ready)
    for sock in received:
        sock.close()
    return [_parse(received[sock], closed[sock] - started[sock]) for sock, _ in stalled]


def _parse(data: bytes, seconds: float) -> Ending:
    """The answer in ``data`` (none if the server closed without one)."""
    if not data:
        return Ending(seconds, None, {}, None)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return Ending(seconds, int(status_line.split()[1]), headers, json.loads(body) if body else None)
