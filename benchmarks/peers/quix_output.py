"""Reading the Quix peer's output: the latest (cumulative) value per window and cell, as score cells."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka import Consumer, KafkaError

from benchmarks.workload import CellKey, Counts


class QuixOutput:
    """A consumer of the peer's output topic that keeps the latest value per (cell, window start)."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                   "auto.offset.reset": "earliest", "enable.auto.commit": False})
        self._consumer.subscribe([topic])
        self.latest: dict[tuple[str, int], dict[str, list[int]]] = {}

    def poll(self, seconds: float) -> int:
        """Read what arrived within ``seconds``; how many messages were read."""
        messages = self._consumer.consume(num_messages=10_000, timeout=seconds)
        for message in messages:
            error = message.error()
            if error is not None and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                continue  # the peer creates its output topic when it starts
            if error is not None:
                raise RuntimeError(f"reading the Quix output failed: {message.error()}")
            value: Any = json.loads(message.value())
            key = message.key().decode()
            self.latest[(key, value["start"])] = value["value"]
        return len(messages)

    def total_answers(self) -> int:
        return sum(sum(row) for counts in self.latest.values() for row in counts.values())

    def cells(self) -> dict[CellKey, Counts]:
        out: dict[CellKey, Counts] = {}
        for (key, start), counts in self.latest.items():
            agency, service, channel = key.split("|")
            for domain, row in counts.items():
                out[(start, agency, service, channel, domain)] = (row[0], row[1], row[2], row[3], row[4])
        return out

    def close(self) -> None:
        self._consumer.close()
