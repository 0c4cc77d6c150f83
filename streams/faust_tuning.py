"""Per-event costs of Faust that cxstream does not use, taken out (issue: worker throughput).

Each change here is measured in BENCHMARKS.md and pinned by tests/unit/streams/test_faust_tuning.py,
which fails first if a Faust or rocksdict upgrade moves what it relies on:

- :class:`QuietMonitor`: Faust's Monitor sensor records statistics on every message, event,
  table read and write and send (counters, timestamps, a deque of runtimes). cxstream never reads
  them (its metrics are its own, streams/metrics.py). Kept: the per-partition time of the last
  event a stream took, which the aiokafka driver reads to report a stalled stream.
- :func:`deliver_without_tasks`: Faust's fetcher hands each record to the streams through
  ``wait_first(callback(message), suspend_flow.wait())`` (``faust/transport/consumer.py``,
  ``_drain_messages``), which makes four tasks per record (the callback, and waits on flow
  suspension, stop and crash) and cancels three. The callback almost always finishes without
  waiting (its stream queues have room): it is run at once, and only when it does wait is the
  rest of it raced the way Faust does.
- :func:`disable_rocksdb_wal`: the table stores write RocksDB's write-ahead log on every set.
  The log only serves a restart that reopens the local store, and the worker empties its data
  folder at every start (streams/app.py, ``worker_data_dir``): state comes back from the
  changelog topics, never from the local files. The log was pure cost.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Generator
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


def deliver_without_tasks(consumer: Any) -> None:
    """Run each fetched record's delivery at once; race it against a flow suspension (or a stop)
    only if it has to wait."""
    race = consumer.wait_first

    async def wait_first(*coros: Any, timeout: Any = None) -> Any:
        if len(coros) != 2 or timeout is not None or not inspect.iscoroutine(coros[0]):
            return await race(*coros, timeout=timeout)
        delivery, suspended = coros
        if consumer.suspend_flow.is_set() or consumer._stopped.is_set() or consumer._crashed.is_set():
            return await race(delivery, suspended)
        try:
            waiting_on = delivery.send(None)
        except StopIteration:
            _close(suspended)
            return None  # _drain_messages ignores the result
        except BaseException:
            _close(suspended)
            raise
        return await race(_rest_of(delivery, waiting_on), suspended)

    consumer.wait_first = wait_first


def _close(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never started: no "was never awaited" warning


async def _rest_of(coroutine: Any, waiting_on: Any) -> Any:
    """A native coroutine (mode's ``wait_first`` takes only ``Awaitable`` instances as such)."""
    return await _resumed(coroutine, waiting_on)


@types.coroutine
def _resumed(coroutine: Any, waiting_on: Any) -> Generator[Any, Any, Any]:
    """The rest of a started ``coroutine``, which is waiting on ``waiting_on``: a task running
    this waits on that future first, then drives the coroutine on (cancellation included)."""
    while True:
        try:
            sent = yield waiting_on
        except BaseException as error:  # noqa: BLE001 - a cancellation (or anything thrown) goes into the coroutine
            try:
                waiting_on = coroutine.throw(error)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            waiting_on = coroutine.send(sent)
        except StopIteration as stop:
            return stop.value
