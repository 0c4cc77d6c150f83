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


class CachedTableView(TableView[V]):
    """A TableView that keeps the values it decoded or was given, so a key read and written on
    every record is decoded once (the alert stage's state of an (agency, service) holds the
    rolling cells of every domain: decoding it on each update was most of that stage's work).

    Sound only where every read, write and delete of the table goes through this view, and
    :meth:`forget` is called whenever the worker's partitions change (another worker may have
    changed a key meanwhile; recovery rewrites the store). A value read here is the cached
    object itself: a caller that changes it must write it back (the stages always do, in the
    same record; an exception there ends the worker, and the cache with it). Over a table that
    converts values at its round, what is converted is the object as it is then: the same
    rule (every change written back) makes that the value last written."""

    def __init__(self, table: MutableMapping[str, Any], encode: Callable[[V], Any], decode: Callable[[Any], V],
                 limit: int = 10_000) -> None:
        super().__init__(table, encode, decode)
        self._cache: dict[str, V] = {}
        self._limit = limit
        # A table that converts a written value at its round (streams/state_tables.py) is given
        # the object itself: a key written on every record is converted once a round.
        self._set_unconverted: Callable[[str, V, Callable[[V], Any]], None] | None = getattr(
            table, "set_unconverted", None)

    def forget(self) -> None:
        """Drop every cached value: the next read of each key decodes the table's."""
        self._cache.clear()

    def _remember(self, key: str, value: V) -> None:
        if len(self._cache) >= self._limit and key not in self._cache:
            self._cache.clear()  # bounded: a table of more keys than this is read from the store again
        self._cache[key] = value

    def __getitem__(self, key: str) -> V:
        cached = self._cache.get(key, self)
        if cached is not self:
            return cached  # type: ignore[return-value]
        value = super().__getitem__(key)
        self._remember(key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        cached = self._cache.get(key, self)
        if cached is not self:
            return cached
        value = super().get(key, self)
        if value is self:
            return default
        self._remember(key, value)
        return value

    def pop(self, key: str, *default: Any) -> Any:
        self._cache.pop(key, None)
        return super().pop(key, *default)

    def __setitem__(self, key: str, value: V) -> None:
        if self._set_unconverted is not None:
            self._set_unconverted(key, value, self._encode)
        else:
            super().__setitem__(key, value)
        self._remember(key, value)

    def __delitem__(self, key: str) -> None:
        self._cache.pop(key, None)
        super().__delitem__(key)
