"""A throwaway Kafka broker of the test's own, for scenarios that stop the broker.

The shared local broker serves every other test (and other engineers' runs): a scenario that
stops Kafka gets its own broker, on free ports, with its data in the test's temporary folder,
started from the same cached jars as the local stack.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxstream.config import Settings
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
