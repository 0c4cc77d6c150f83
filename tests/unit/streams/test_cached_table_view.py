"""CachedTableView: a key is decoded once while this view is the table's only user, and read
from the table again after forget() (the worker's partitions changed)."""

from __future__ import annotations

from typing import Any

import pytest

from cxstream.streams.table_views import CachedTableView


class CountingDecode:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, raw: Any) -> list[int]:
        self.calls += 1
        return list(raw)


def view(table: dict[str, Any], decode: CountingDecode, limit: int = 10) -> CachedTableView[list[int]]:
    return CachedTableView(table, tuple, decode, limit=limit)


def test_a_key_read_and_written_on_every_record_is_decoded_once() -> None:
    table: dict[str, Any] = {"k": (1,)}
    decode = CountingDecode()
    states = view(table, decode)
    for n in range(2, 6):
        value = states["k"]
        value.append(n)
        states["k"] = value
    assert decode.calls == 1
    assert table["k"] == (1, 2, 3, 4, 5), "every write still reaches the table, encoded"
    assert states.get("k") == [1, 2, 3, 4, 5]


def test_after_forget_the_table_is_read_again() -> None:
    table: dict[str, Any] = {"k": (1,)}
    decode = CountingDecode()
    states = view(table, decode)
    assert states.get("k") == [1]
    table["k"] = (7,)  # another worker owned the partition meanwhile; recovery wrote its value
    assert states.get("k") == [1], "cached until told"
    states.forget()
    assert states.get("k") == [7]
    assert decode.calls == 2


def test_deletes_and_misses() -> None:
    table: dict[str, Any] = {"k": (1,)}
    states = view(table, CountingDecode())
    assert states.get("k") == [1]
    del states["k"]
    assert "k" not in table and states.get("k") is None
    assert states.get("missing", "default") == "default"
    with pytest.raises(KeyError):
        states["missing"]
    states["k"] = [2]
    assert states.pop("k") == [2]
    assert states.get("k") is None and "k" not in table


def test_the_cache_is_bounded() -> None:
    table: dict[str, Any] = {str(n): (n,) for n in range(25)}
    decode = CountingDecode()
    states = view(table, decode, limit=10)
    for n in range(25):
        assert states[str(n)] == [n]
    assert len(states._cache) <= 10
    assert states["24"] == [24]
