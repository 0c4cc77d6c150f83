"""A throwaway Kafka broker or ClickHouse server of the test's own, for scenarios that stop one.

The shared local stack serves every other test (and other engineers' runs): a scenario that
stops Kafka or ClickHouse gets its own server, on free ports, with its data in the test's
temporary folder, started from the same cached jars / installed binary as the local stack.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxstream.config import Settings
from cxstream.stack.clickhouse import ClickHouseServer
from cxstream.stack.kafka import KafkaBroker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_broker(base: Settings, folder: Path) -> Iterator[KafkaBroker]:
    """A started broker whose settings (``broker.settings``) point at it; stopped at the end."""
    settings = dataclasses.replace(base, kafka_bootstrap="", kafka_port=free_port(),
                                   kafka_controller_port=free_port(), state_dir=folder)
    broker = KafkaBroker(settings)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def private_clickhouse(base: Settings, folder: Path) -> Iterator[ClickHouseServer]:
    """A started ClickHouse server whose settings (``server.settings``) point at it; stopped at the end."""
    settings = dataclasses.replace(base, clickhouse_host="127.0.0.1", clickhouse_port=free_port(),
                                   clickhouse_http_port=free_port(), state_dir=folder)
    server = ClickHouseServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
