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
- a write is kept, as written, in :attr:`ChangelogTable.unsent` (reads see it there; a typed
  view's object is kept unconverted, see :class:`Unconverted`) until
  :meth:`ChangelogTable.send_changelog`, which the confirmation round (streams/acking.py) calls
  *before* it flushes the producer and marks events done: each key's last value is encoded once,
  with Faust's own JSON (orjson), so the bytes in RocksDB and in the changelog are exactly those
  Faust writes and recovery reads (tests pin it), stored in RocksDB and produced as one
  changelog record. Every write of a confirmed event is acknowledged by the broker before its
  offset can be committed, as before; a key written ten times between two rounds is one
  encoding, one RocksDB write and one changelog record (its last value, all recovery needs);
- a partition walk (streams/partition_keys.py) calls :meth:`ChangelogTable.write_local` first, so
  it sees every write.

Faust still owns each table's recovery (restoring the store from the changelog on assignment),
its partitions' databases and their options; this only reads and writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import orjson
from faust.streams import current_event
from faust.utils import json as faust_json

from cxstream.streams.fast_producer import FastProducer


#: The options of Faust's ``dumps`` when it has orjson (a pinned dependency, so always).
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def encode(obj: Any) -> bytes:
    """Faust's JSON for a table key or value (what its ``json`` codec writes).

    The call Faust's ``dumps`` makes, without its wrapper: two encodings a table write, ~0.6 us
    each saved (tests pin the bytes to Faust's store and changelog).
    """
    return orjson.dumps(obj, default=faust_json.on_default, option=_ORJSON_OPTIONS)


decode = orjson.loads


#: A key deleted since the last round (kept in :attr:`ChangelogTable.unsent` until then).
DELETED: Any = object()


class Unconverted:
    """A value written through a typed view (streams/table_views.py), kept as the view's object
    until the round converts it to its JSON form: a window cell or an alert state written on
    every record is converted once a round, not once a write (the merge stage converted every
    partition's partial of a cell on each partial it received)."""

    __slots__ = ("value", "to_json")

    def __init__(self, value: Any, to_json: Callable[[Any], Any]) -> None:
        self.value = value
        self.to_json = to_json

    def json(self) -> Any:
        return self.to_json(self.value)


class ChangelogTable(MutableMapping[str, Any]):
    """A Faust table's partitions read and written directly; writes kept until the round."""

    def __init__(self, table: Any, producer: FastProducer) -> None:
        self.table = table
        self.data = table.data  # the store (streams/partition_keys.py reads a partition's database there)
        self.name = table.name
        self._changelog = table.changelog_topic.get_topic_name()
        self._producer = producer
        #: (partition, key) -> value (or DELETED) written since the last round: not encoded, not stored yet.
        self.unsent: dict[tuple[int, str], Any] = {}
        #: (partition, encoded key) -> encoded value (None: deleted) in RocksDB, not in the changelog yet.
        self.unproduced: dict[tuple[int, bytes], bytes | None] = {}

    def _partition(self) -> int:
        event = current_event()
        if event is None:
            raise RuntimeError(f"table {self.name}: read or written outside a record's processing")
        return int(event.message.partition)

    def _stored(self, partition: int, key: str) -> Any:
        value = self.unsent.get((partition, key), self)  # self: not written since the last round
        if value is self:
            raw = self.data._db_for_partition(partition).get(encode(key))
            return DELETED if raw is None else decode(raw)
        return value.json() if type(value) is Unconverted else value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._stored(self._partition(), key)
        return default if value is DELETED else value

    def __getitem__(self, key: str) -> Any:
        value = self._stored(self._partition(), key)
        if value is DELETED:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self._stored(self._partition(), str(key)) is not DELETED

    def __setitem__(self, key: str, value: Any) -> None:
        self.unsent[(self._partition(), key)] = value

    def set_unconverted(self, key: str, value: Any, to_json: Callable[[Any], Any]) -> None:
        """Write ``value``, converted by ``to_json`` only when the round (or a partition walk)
        stores it. The caller must not change ``value`` in place without writing it again."""
        self.unsent[(self._partition(), key)] = Unconverted(value, to_json)

    def __delitem__(self, key: str) -> None:
        partition = self._partition()
        if self._stored(partition, key) is DELETED:
            raise KeyError(key)
        self.unsent[(partition, key)] = DELETED

    def __iter__(self) -> Iterator[str]:
        self.write_local()
        return iter(self.table.keys())

    def __len__(self) -> int:
        self.write_local()
        return len(self.table)

    def write_local(self) -> None:
        """Store what was written since the last round in RocksDB now, each key's last value
        encoded once (before a partition's database is scanned); the changelog records wait in
        :attr:`unproduced` for :meth:`send_changelog`."""
        if self.unsent:
            self.unproduced.update(self._store_unsent())

    def _store_unsent(self) -> Iterator[tuple[tuple[int, bytes], bytes | None]]:
        """Store every kept write in RocksDB; yields ((partition, encoded key), encoded value or
        None for a delete) as each is stored. The database of a partition is looked up once."""
        unsent, self.unsent = self.unsent, {}
        databases: dict[int, Any] = {}
        for (partition, key), value in unsent.items():
            db = databases.get(partition)
            if db is None:
                db = databases[partition] = self.data._db_for_partition(partition)
            raw_key = encode(key)
            if value is DELETED:
                db.delete(raw_key)
                yield (partition, raw_key), None
            else:
                raw_value = encode(value.json() if type(value) is Unconverted else value)
                db.put(raw_key, raw_value)
                yield (partition, raw_key), raw_value

    def send_changelog(self) -> int:
        """Store and produce the changelog record of every key written since the last call (its
        last value); returns how many records."""
        produce, topic = self._producer.produce, self._changelog
        sent = 0
        # A key stored by a walk and written again since goes out twice, older value first:
        # compaction and recovery keep the last.
        if self.unproduced:  # stored by a partition walk since the last round
            unproduced, self.unproduced = self.unproduced, {}
            for (partition, raw_key), raw_value in unproduced.items():
                produce(topic, raw_key, raw_value, partition)
            sent = len(unproduced)
        if self.unsent:  # one pass: stored, then produced, key by key
            for (partition, raw_key), raw_value in self._store_unsent():
                produce(topic, raw_key, raw_value, partition)
                sent += 1
        return sent
