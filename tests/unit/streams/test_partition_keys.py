"""One partition's keys of a table: from its own database when the store has one per partition."""

from __future__ import annotations

import asyncio
from typing import Any

from cxstream.streams.partition_keys import YIELD_EVERY, partition_items, partition_keys


class _PerPartitionStore:
    """The shape of Faust's RocksDB store that partition_keys reads: one database per partition."""

    offset_key = b"__faust\x00offset__"

    def __init__(self, databases: dict[int, list[bytes]]) -> None:
        self._dbs = databases

    def _visible_keys(self, database: list[bytes]) -> Any:
        return (key for key in database if key != self.offset_key)

    def _decode_key(self, raw: bytes) -> str:
        return raw.decode()


class _Table:
    def __init__(self, data: Any) -> None:
        self.data = data

    def keys(self) -> Any:
        return self.data.keys()


def _never_asked(_key: str) -> int:
    raise AssertionError("a per-partition store must not hash keys")


def test_reads_only_the_partitions_own_database() -> None:
    table = _Table(_PerPartitionStore({0: [b"a", b"b", _PerPartitionStore.offset_key], 1: [b"c"]}))
    assert partition_keys(table, 0, _never_asked) == ["a", "b"]
    assert partition_keys(table, 1, _never_asked) == ["c"]


def test_a_partition_never_opened_has_no_keys() -> None:
    assert partition_keys(_Table(_PerPartitionStore({0: [b"a"]})), 5, _never_asked) == []


def test_other_stores_filter_every_key_by_its_owner() -> None:
    table = _Table({"a0": 1, "b1": 2, "c0": 3})
    assert partition_keys(table, 0, lambda key: int(key[-1])) == ["a0", "c0"]


class _PerPartitionItemsStore(_PerPartitionStore):
    def __init__(self, databases: dict[int, list[tuple[bytes, bytes]]]) -> None:
        self._dbs = databases  # type: ignore[assignment]

    def _visible_items(self, database: list[tuple[bytes, bytes]]) -> Any:
        return ((k, v) for k, v in database if k != self.offset_key)

    def _decode_value(self, raw: bytes) -> int:
        return int(raw)


async def _collect(table: Any, partition: int, owner: Any) -> list[tuple[str, Any]]:
    return [pair async for pair in partition_items(table, partition, owner)]


def test_items_come_from_the_partitions_own_database_in_one_pass() -> None:
    big = [(f"k{i}".encode(), str(i).encode()) for i in range(YIELD_EVERY * 2 + 3)]
    table = _Table(_PerPartitionItemsStore({0: big, 1: [(b"x", b"7")]}))
    items = asyncio.run(_collect(table, 0, _never_asked))
    assert len(items) == len(big) and items[-1] == (f"k{len(big) - 1}", len(big) - 1)
    assert asyncio.run(_collect(table, 1, _never_asked)) == [("x", 7)]
    assert asyncio.run(_collect(table, 4, _never_asked)) == []


def test_items_of_other_stores_are_filtered_by_owner() -> None:
    class _Dict(dict):  # type: ignore[type-arg]
        @property
        def data(self) -> Any:
            return self

    table = _Dict({"a0": 1, "b1": 2})
    assert asyncio.run(_collect(table, 1, lambda key: int(key[-1]))) == [("b1", 2)]
