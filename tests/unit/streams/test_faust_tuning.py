"""streams/faust_tuning.py: what it takes out of Faust's per-event path, and what it must keep."""

from __future__ import annotations

import asyncio
import glob
import inspect
import os
from pathlib import Path

import pytest
from faust.sensors.monitor import Monitor
from mode import Service
from faust.stores import rocksdb as faust_rocksdb
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from cxstream.streams import faust_tuning
from cxstream.streams.faust_tuning import QuietMonitor, deliver_without_tasks


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


def test_the_fetcher_still_delivers_through_wait_first_as_this_module_says() -> None:
    source = inspect.getsource(faust_consumer.Consumer._drain_messages)
    assert "await self.wait_first(\n                                callback(message), self.suspend_flow.wait()" in source


class _Consumer:
    """What deliver_without_tasks needs of Faust's consumer; the race is mode's own
    ``Service.wait_first`` (the one Faust's consumer inherits), so what it accepts is real."""

    def __init__(self) -> None:
        self.suspend_flow = asyncio.Event()
        self._stopped = asyncio.Event()
        self._crashed = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.raced: list[int] = []

    async def wait_first(self, *coros: object, timeout: object = None) -> object:
        self.raced.append(len(coros))
        return await Service.wait_first(self, *coros, timeout=timeout)  # type: ignore[arg-type]


def test_a_delivery_that_does_not_wait_runs_at_once_without_the_race() -> None:
    delivered: list[int] = []

    async def scenario() -> None:
        consumer = _Consumer()
        deliver_without_tasks(consumer)

        async def deliver(n: int) -> None:
            delivered.append(n)

        for n in range(3):
            await consumer.wait_first(deliver(n), consumer.suspend_flow.wait())
        assert consumer.raced == []

    asyncio.run(scenario())
    assert delivered == [0, 1, 2]


def test_a_delivery_that_waits_is_raced_and_a_suspension_cancels_it_as_in_faust() -> None:
    steps: list[str] = []

    async def scenario() -> None:
        consumer = _Consumer()
        deliver_without_tasks(consumer)
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        queue.put_nowait(0)  # full: the next put waits

        async def deliver(n: int) -> None:
            steps.append(f"start {n}")
            await queue.put(n)
            steps.append(f"queued {n}")

        # 1: waits, then the queue makes room: the rest of the delivery runs.
        async def make_room() -> None:
            await asyncio.sleep(0.05)
            queue.get_nowait()

        room = asyncio.create_task(make_room())
        await consumer.wait_first(deliver(1), consumer.suspend_flow.wait())
        await room
        # 2: waits, then flow is suspended (a rebalance): the delivery is cancelled, as in Faust.
        async def suspend() -> None:
            await asyncio.sleep(0.05)
            consumer.suspend_flow.set()

        stop = asyncio.create_task(suspend())
        await consumer.wait_first(deliver(2), consumer.suspend_flow.wait())
        await stop
        assert consumer.raced == [2, 2]
        assert list(queue._queue) == [1]  # type: ignore[attr-defined]

    asyncio.run(scenario())
    assert steps == ["start 1", "queued 1", "start 2"]


def test_an_error_in_a_delivery_propagates_like_faust_s() -> None:
    async def scenario() -> None:
        consumer = _Consumer()
        deliver_without_tasks(consumer)

        async def broken() -> None:
            raise ValueError("bad record")

        with pytest.raises(ValueError, match="bad record"):
            await consumer.wait_first(broken(), consumer.suspend_flow.wait())

    asyncio.run(scenario())
