"""``cxstream sink``: the ClickHouse sink in a process of its own.

``cxstream worker`` starts this same sink as its child process by default (sinks/child.py), or
runs it as one of its tasks (``CXSTREAM_SINK_PROCESS=task``). To scale the two apart, run the worker with
``CXSTREAM_SINK_ENABLED=false`` and one or more ``cxstream sink`` processes: same code, same
consumer group (``<worker id>.sink``), so they share the storage topics' partitions, and the
stages no longer share an event loop and a core with the inserts (BENCHMARKS.md has the figures).

Delivery is the sink's own (sinks/service.py: write, then commit). A first SIGTERM or Ctrl-C
writes what is held and commits it; while ClickHouse is down that cannot finish, so a second
signal, or ``CXSTREAM_SINK_TIMEOUT_SECONDS`` after the first, ends the process without
committing what was not written (the next owner writes it again; the tables absorb copies).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import uvloop

from cxstream.collector import tune_collector
from cxstream.config import Settings
from cxstream.logs import get_logger, set_repeat_seconds
from cxstream.sinks.service import ClickHouseSink
from cxstream.streams.acking import fail_stop
from cxstream.streams.metrics_http import MetricsEndpoint

log = get_logger(__name__)
METRICS_LOG_SECONDS = 30.0


#: Called about once a second with the running sink (the worker's child sink sends its metrics).
Reporter = Callable[[ClickHouseSink], None]
REPORT_SECONDS = 1.0


def run(settings: Settings, report: Reporter | None = None) -> None:
    """Serve /metrics (if a port is set), then consume and write until stopped; ``report`` (if
    any) is called with the sink about once a second, and once more when it has stopped."""
    set_repeat_seconds(settings.log_repeat_seconds)
    tune_collector(settings.gc_young_threshold)
    if settings.event_loop == "uvloop":
        uvloop.install()
    sink = ClickHouseSink(settings)
    endpoint = MetricsEndpoint(settings) if settings.metrics_port else None
    if endpoint is not None:
        endpoint.add(lambda: sink.metrics.families(settings.topic_prefix))
        endpoint.start()
    try:
        stopped_by = asyncio.run(_serve(sink, settings, report))
    finally:
        if endpoint is not None:
            endpoint.stop()
    if stopped_by == signal.SIGINT:
        raise SystemExit(130)  # the shell's code for "interrupted"


async def _serve(sink: ClickHouseSink, settings: Settings, report: Reporter | None = None) -> int | None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            log.info("sink.stopping", signal=signal.Signals(signum).name,
                     meaning="writing what is held, then committing it")
            sink.stop()
            loop.call_later(float(settings.sink_timeout_seconds), _give_up, "timeout")
        else:
            _give_up("second signal")

    def _give_up(why: str) -> None:
        log.warning("sink.stopped_without_writing", why=why,
                    meaning="records held but not written are not committed: the next sink writes them")
        if task is not None:
            task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)

    async def log_metrics() -> None:
        while True:
            await asyncio.sleep(METRICS_LOG_SECONDS)
            log.info("sink.metrics", **sink.metrics.snapshot())

    async def report_often(report: Reporter) -> None:
        while True:
            report(sink)
            await asyncio.sleep(REPORT_SECONDS)

    reporters = [asyncio.create_task(log_metrics())]
    if report is not None:
        reporters.append(asyncio.create_task(report_often(report)))
    try:
        await sink.run()
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # noqa: BLE001 - a broken sink must stop, not look alive
        fail_stop("sink.failed", error=repr(exc))
    finally:
        for reporter in reporters:
            reporter.cancel()
        if report is not None:
            report(sink)
    return received[0] if received else None
