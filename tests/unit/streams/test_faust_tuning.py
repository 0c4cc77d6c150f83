"""streams/faust_tuning.py: what it takes out of Faust's per-event path, and what it must keep."""

from __future__ import annotations

import glob
import inspect
import os
from pathlib import Path

import pytest
from faust.sensors.monitor import Monitor
from faust.stores import rocksdb as faust_rocksdb
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from cxstream.streams import faust_tuning
from cxstream.streams.faust_tuning import QuietMonitor


def test_every_method_quieted_is_one_faust_calls_on_its_monitor() -> None:
    quieted = {name for name, value in vars(QuietMonitor).items() if callable(value) and name.startswith("on_")}
    assert quieted and all(callable(getattr(Monitor, name, None)) for name in quieted)
    for name in quieted:  # same parameters, so Faust's calls still fit
        assert list(inspect.signature(getattr(QuietMonitor, name)).parameters) == \
            list(inspect.signature(getattr(Monitor, name)).parameters), name


def test_the_stall_check_still_sees_when_a_stream_last_took_an_event() -> None:
    assert "monitor.stream_inbound_time" in inspect.getsource(faust_aiokafka)
    monitor = QuietMonitor()
    tp = TP("cx.touchpoints.v1", 3)
    monitor.on_stream_event_in(tp, 10, stream=None, event=None)
    assert tp in monitor.stream_inbound_time
    assert monitor.events_total == 0  # and nothing else is counted


def _log_bytes(folder: Path) -> int:
    return sum(os.path.getsize(f) for f in glob.glob(str(folder / "*.log")))


@pytest.fixture
def restore_open() -> object:
    original = faust_rocksdb.RocksDBOptions.open
    yield original
    faust_rocksdb.RocksDBOptions.open = original  # type: ignore[method-assign]


def test_table_stores_write_no_write_ahead_log(tmp_path: Path, restore_open: object) -> None:
    assert "rocksdict" in inspect.getsource(faust_rocksdb.RocksDBOptions.open)
    faust_rocksdb.RocksDBOptions.open = faust_tuning._original_open  # type: ignore[method-assign]
    with_log = faust_rocksdb.RocksDBOptions().open(tmp_path / "with")
    for i in range(500):
        with_log.put(b"k%d" % i, b"v" * 100)
    assert _log_bytes(tmp_path / "with") > 50_000  # the default: every write logged

    faust_tuning.disable_rocksdb_wal()
    without = faust_rocksdb.RocksDBOptions().open(tmp_path / "without")
    for i in range(500):
        without.put(b"k%d" % i, b"v" * 100)
    assert _log_bytes(tmp_path / "without") == 0
    assert without.get(b"k7") == b"v" * 100  # and the store still answers
