"""Typed views of Faust tables: the pure stage logic sees dataclasses, the changelog sees JSON.

Tables hold JSON-serialisable values (lists), so their changelogs are readable with any tool; a
view converts on the way in and out and is a plain MutableMapping for the logic in streams/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class TableView(MutableMapping[str, V], Generic[V]):
    """A MutableMapping over a Faust table (or any mapping) that encodes values with two functions."""

    def __init__(self, table: MutableMapping[str, Any], encode: Callable[[V], Any], decode: Callable[[Any], V]) -> None:
        self._table = table
        self._encode = encode
        self._decode = decode

    def __getitem__(self, key: str) -> V:
        raw = self._table[key]
        if raw is None:
            raise KeyError(key)
        return self._decode(raw)

    def get(self, key: str, default: Any = None) -> Any:  # faster than the MutableMapping default
        raw = self._table.get(key)
        return default if raw is None else self._decode(raw)

    def pop(self, key: str, *default: Any) -> Any:  # one read, no KeyError raised on a miss
        raw = self._table.get(key)
        if raw is None:
            if default:
                return default[0]
            raise KeyError(key)
        del self._table[key]
        return self._decode(raw)

    def __setitem__(self, key: str, value: V) -> None:
        self._table[key] = self._encode(value)

    def __delitem__(self, key: str) -> None:
        del self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._table.keys()))

    def __len__(self) -> int:
        return len(self._table)
