"""The stages' tables: Faust's RocksDB stores read and written directly, each key's changelog
record produced once per confirmation round.

A write through Faust's ``Table`` passes ``ManagedUserDict``, ``Table.on_key_set`` (sensors,
TTL bookkeeping), the serializer registry twice (once for the store, once for the changelog
record, the same JSON each time), the store's key index and a changelog send per write. In the
55k-event bench those layers were about a fifth of the worker's CPU, and a key written many
times in a second (a window cell, an alert state) sent a changelog record every time.

:class:`ChangelogTable` keeps what Faust's table means and drops the layers:

- a key lives in the database of the partition whose record wrote it (Faust's rule: the stages
  only ever write a key from its own partition), found through ``current_event()`` as Faust
  does, so the stages' code and the tests' dict tables are unchanged;
- keys and values are encoded once, with Faust's own JSON (orjson), so the bytes in RocksDB and
  in the changelog are exactly those Faust writes and recovery reads (tests pin it);
- RocksDB is written at once, so a read or a partition scan sees every write;
- the changelog record of a key is queued in :attr:`ChangelogTable.unsent` and produced by
  :meth:`ChangelogTable.send_changelog`, which the confirmation round (streams/acking.py) calls
  *before* it flushes the producer and marks events done: every write of a confirmed event is
  acknowledged by the broker before its offset can be committed, as before. A key written ten
  times between two rounds is one changelog record (its last value), which is all recovery needs.

Faust still owns each table's recovery (restoring the store from the changelog on assignment),
its partitions' databases and their options; this only reads and writes them.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from faust.streams import current_event
from faust.utils import json as faust_json

from cxstream.streams.fast_producer import FastProducer


def encode(obj: Any) -> bytes:
    """Faust's JSON for a table key or value (what its ``json`` codec writes)."""
    raw = faust_json.dumps(obj)
    return raw if isinstance(raw, bytes) else raw.encode()


decode = faust_json.loads


class ChangelogTable(MutableMapping[str, Any]):
    """A Faust table's partitions read and written directly; changelog records sent per round."""

    def __init__(self, table: Any, producer: FastProducer) -> None:
        self.table = table
        self.data = table.data  # the store (streams/partition_keys.py reads a partition's database there)
        self.name = table.name
        self._changelog = table.changelog_topic.get_topic_name()
        self._producer = producer
        #: (partition, encoded key) -> encoded value (None: deleted) not yet produced to the changelog.
        self.unsent: dict[tuple[int, bytes], bytes | None] = {}

    def _database(self) -> tuple[int, Any]:
        event = current_event()
        if event is None:
            raise RuntimeError(f"table {self.name}: read or written outside a record's processing")
        partition = event.message.partition
        return partition, self.data._db_for_partition(partition)

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._database()[1].get(encode(key))
        return default if raw is None else decode(raw)

    def __getitem__(self, key: str) -> Any:
        raw = self._database()[1].get(encode(key))
        if raw is None:
            raise KeyError(key)
        return decode(raw)

    def __contains__(self, key: object) -> bool:
        return self._database()[1].get(encode(key)) is not None

    def __setitem__(self, key: str, value: Any) -> None:
        partition, database = self._database()
        raw_key, raw_value = encode(key), encode(value)
        database.put(raw_key, raw_value)
        self.unsent[(partition, raw_key)] = raw_value

    def __delitem__(self, key: str) -> None:
        partition, database = self._database()
        raw_key = encode(key)
        if database.get(raw_key) is None:
            raise KeyError(key)
        database.delete(raw_key)
        self.unsent[(partition, raw_key)] = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.keys())

    def __len__(self) -> int:
        return len(self.table)

    def send_changelog(self) -> int:
        """Produce the changelog record of every key written since the last call; returns how many."""
        if not self.unsent:
            return 0
        unsent, self.unsent = self.unsent, {}
        produce, topic = self._producer.produce, self._changelog
        for (partition, raw_key), raw_value in unsent.items():
            produce(topic, raw_key, raw_value, partition)
        return len(unsent)
