"""Where a key lives: Kafka's default partitioner (murmur2), as Java, kafka-python and aiokafka use it.

Producers outside the project may key a message wrongly or not at all; the worker recomputes the
partition its join key belongs to and forwards misplaced messages there. Every input record is
hashed, so the hash is written for speed: the key's 32-bit words unpacked in one call (1.6 us for
a 12-byte id, 4.1 us for a UUID, against 8-14 us for kafka-python's ``murmur2``). A C hash that
releases the GIL (``murmurhash2``: 0.2 us alone) took 50 us a call beside a busy thread, and
~7 us a record on average in the worker, whose other threads (Faust's consumer, the producer's
flush) take the GIL whenever it is let go (BENCHMARKS.md). Tests check it against kafka-python's
on random keys.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

#: The seed and multiplier of Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
KAFKA_MURMUR2_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_PRECOMPILED_WORDS = 64


def _words_reader(count: int) -> Callable[[bytes], tuple[int, ...]]:
    return struct.Struct(f"<{count}I").unpack_from


#: Readers of ``n`` little-endian 32-bit words (keys up to 256 bytes; longer ones build theirs).
_WORDS = [_words_reader(n) for n in range(_PRECOMPILED_WORDS + 1)]


def murmur2(key: bytes) -> int:
    """Kafka's murmur2 of ``key`` (as an unsigned 32-bit value; only its low 31 bits are used)."""
    length = len(key)
    h = (KAFKA_MURMUR2_SEED ^ length) & _MASK
    count = length >> 2
    words = _WORDS[count] if count <= _PRECOMPILED_WORDS else _words_reader(count)
    for k in words(key):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        tail = count << 2
        if rest == 3:
            h ^= key[tail + 2] << 16
        if rest >= 2:
            h ^= key[tail + 1] << 8
        h = ((h ^ key[tail]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def home_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner assigns to ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
