"""Per-event costs of Faust that cxstream does not use, taken out (issue: worker throughput).

Each change here is measured in BENCHMARKS.md and pinned by tests/unit/streams/test_faust_tuning.py,
which fails first if a Faust or rocksdict upgrade moves what it relies on:

- :class:`QuietMonitor`: Faust's Monitor sensor records statistics on every message, event,
  table read and write and send (counters, timestamps, a deque of runtimes). cxstream never reads
  them (its metrics are its own, streams/metrics.py). Kept: the per-partition time of the last
  event a stream took, which the aiokafka driver reads to report a stalled stream.
- :func:`disable_rocksdb_wal`: the table stores write RocksDB's write-ahead log on every set.
  The log only serves a restart that reopens the local store, and the worker empties its data
  folder at every start (streams/app.py, ``worker_data_dir``): state comes back from the
  changelog topics, never from the local files. The log was pure cost.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

import rocksdict
from faust.sensors.monitor import Monitor
from faust.stores import rocksdb as faust_rocksdb


class QuietMonitor(Monitor):
    """Faust's Monitor without its per-event bookkeeping."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        self.stream_inbound_time[tp] = monotonic()
        return None

    def on_stream_event_out(self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_table_get(self, table: Any, key: Any) -> None:
        return None

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        return None

    def on_table_del(self, table: Any, key: Any) -> None:
        return None

    def on_send_initiated(self, producer: Any, topic: str, message: Any, keysize: int, valsize: int) -> None:
        return None

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        return None


_original_open = faust_rocksdb.RocksDBOptions.open


def _open_without_wal(self: Any, path: Any, *, read_only: bool = False) -> Any:
    db = _original_open(self, path, read_only=read_only)
    if isinstance(db, rocksdict.Rdict):
        options = rocksdict.WriteOptions()
        options.disable_wal = True  # type: ignore[method-assign,assignment]  # a property; the stub says method
        db.set_write_options(options)
    return db


def disable_rocksdb_wal() -> None:
    """Every table store opened from now on in this process writes without RocksDB's log."""
    faust_rocksdb.RocksDBOptions.open = _open_without_wal  # type: ignore[method-assign]
