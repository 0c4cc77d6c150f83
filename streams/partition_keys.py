"""The keys one partition of a table holds, without visiting (or hashing) every other key.

Faust's RocksDB store keeps one database per partition, and a stage writes a key into the
database of the partition whose event wrote it (which, in every stage here, is the key's own
partition). Listing ``table.keys()`` walks every owned partition's database, and finding one
partition's keys in it took hashing each key (pure-Python murmur2, 3.1 us a key): at 5M stored
touchpoints that held the event loop ~16 s per partition sweep. Reading the one database is
the same answer at the cost of that partition alone.

Relies on the store's private ``_dbs`` (faust-streaming 0.15.3, ``faust/stores/rocksdb.py``);
any other store (the in-memory one of tests) falls back to filtering every key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

#: A long walk gives the event loop a turn this often (heartbeats, other stages, the sink).
YIELD_EVERY = 5_000


def _stored_now(table: Any) -> None:
    """A table that keeps writes until the confirmation round (streams/state_tables.py) stores
    them first, so the walk sees every write."""
    write_local = getattr(table, "write_local", None)
    if write_local is not None:
        write_local()


def partition_keys(table: Any, partition: int, fallback_owner: Callable[[str], int]) -> list[str]:
    """The keys of ``table`` stored under ``partition`` (a list: callers may delete while walking).

    ``fallback_owner(key)`` says which partition a key belongs to, for stores without one
    database per partition."""
    _stored_now(table)
    store = table.data
    databases = getattr(store, "_dbs", None)
    if databases is None or not hasattr(store, "_visible_keys"):
        return [key for key in list(table.keys()) if fallback_owner(key) == partition]
    database = databases.get(partition)
    if database is None:  # never opened here: nothing of this partition is stored
        return []
    return [store._decode_key(raw) for raw in store._visible_keys(database)]


async def partition_items(table: Any, partition: int, fallback_owner: Callable[[str], int]) -> AsyncIterator[tuple[str, Any]]:
    """(key, value) of every key of ``table`` under ``partition``, read in one pass (no lookup
    per key), giving the event loop a turn every ``YIELD_EVERY`` keys. Callers must not change
    the table while walking: collect, then delete."""
    _stored_now(table)
    store = table.data
    databases = getattr(store, "_dbs", None)
    if databases is None or not hasattr(store, "_visible_items"):
        pairs: Any = ((key, table.get(key)) for key in partition_keys(table, partition, fallback_owner))
    else:
        database = databases.get(partition)
        pairs = () if database is None else (
            (store._decode_key(raw_key), store._decode_value(raw_value))
            for raw_key, raw_value in store._visible_items(database))
    for walked, (key, value) in enumerate(pairs, start=1):
        yield key, value
        if walked % YIELD_EVERY == 0:
            await asyncio.sleep(0)


async def delete_stale(table: Any, partition: int, fallback_owner: Callable[[str], int],
                       stale: Callable[[Any], bool]) -> int:
    """Delete the keys of ``partition`` whose stored value is ``stale`` (collected in one walk,
    deleted after it); returns how many."""
    keys = [key async for key, value in partition_items(table, partition, fallback_owner)
            if value is not None and stale(value)]
    for key in keys:
        del table[key]
    return len(keys)
