"""The worker's partitioner is Kafka's: its murmur2 agrees with kafka-python's pure-Python one
(itself checked against the Java client), so a key lands where every producer puts it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from cxstream.streams.partitioning import home_partition, murmur2


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=1, max_value=500))
def test_the_partition_of_any_key_is_kafkas(key: bytes, partitions: int) -> None:
    assert home_partition(key, partitions) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % partitions


def test_the_hash_itself_is_kafkas_for_the_ids_the_contract_uses() -> None:
    for key in (b"", b"a", b"tp-00000001", "fb-é-ü".encode(), b"0f8fad5b-d9cb-469f-a165-70867728950e"):
        assert murmur2(key) & 0xFFFFFFFF == kafka_python_murmur2(key) & 0xFFFFFFFF
