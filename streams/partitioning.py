"""Where a key lives: Kafka's default partitioner (murmur2), as Java, kafka-python and aiokafka use it.

Producers outside the project may key a message wrongly or not at all; the worker recomputes the
partition its join key belongs to and forwards misplaced messages there.
"""

from __future__ import annotations

from kafka.partitioner.default import murmur2


def home_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner assigns to ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
