"""Where a key lives: Kafka's default partitioner (murmur2), as Java, kafka-python and aiokafka use it.

Producers outside the project may key a message wrongly or not at all; the worker recomputes the
partition its join key belongs to and forwards misplaced messages there. Every input record is
hashed, so the hash is the C one of ``murmurhash2`` (MurmurHash2 with Kafka's seed; 0.5 us a key
against 8-14 us for kafka-python's pure-Python ``murmur2``, BENCHMARKS.md); tests check the two
agree.
"""

from __future__ import annotations

from murmurhash2 import murmurhash2

#: The seed of Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
KAFKA_MURMUR2_SEED = 0x9747B28C


def murmur2(key: bytes) -> int:
    """Kafka's murmur2 of ``key`` (as an unsigned 32-bit value; only its low 31 bits are used)."""
    return int(murmurhash2(key, KAFKA_MURMUR2_SEED))


def home_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner assigns to ``key``."""
    return (murmurhash2(key, KAFKA_MURMUR2_SEED) & 0x7FFFFFFF) % partitions
