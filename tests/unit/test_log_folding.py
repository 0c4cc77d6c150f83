"""Repeated library log lines are folded: the first passes, repeats become one count per interval.

The filter runs on a clock the tests move by hand, so no test sleeps.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cxstream import logs
from cxstream.logs import RepeatFolder, Repeated, configure, get_logger

UNREACHABLE = "Unable connect to node with id %s: %s"
METADATA = "Unable to update metadata from %r"


class Clock:
    """Monotonic time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counts() -> list[Repeated]:
    return []


@pytest.fixture
def folder(clock: Clock, counts: list[Repeated]) -> RepeatFolder:
    return RepeatFolder(60, clock=clock, emit=counts.append)


def _record(msg: Any, *args: Any, name: str = "aiokafka", level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def _passed(folder: RepeatFolder, records: list[logging.LogRecord]) -> int:
    return sum(1 for record in records if folder.filter(record))


def test_the_first_line_passes_and_its_repeats_do_not(folder: RepeatFolder, counts: list[Repeated],
                                                      clock: Clock) -> None:
    assert folder.filter(_record(UNREACHABLE, 1, "refused"))
    passed = 0
    for i in range(10_000):  # arguments differ (node, error): the template is the same
        clock.now += 0.00390625
        passed += folder.filter(_record(UNREACHABLE, i % 3, "refused"))
    assert passed == 0
    assert counts == []  # nothing to say before the interval is over


def test_after_the_interval_one_count_line_then_the_line_again(folder: RepeatFolder, counts: list[Repeated],
                                                              clock: Clock) -> None:
    clock.now += 10.0  # the burst starts between two sweeps: its own next line has to count it
    folder.filter(_record(UNREACHABLE, 1, "refused"))
    for _ in range(400):
        clock.now += 0.125
        folder.filter(_record(UNREACHABLE, 1, "refused"))
    # 50 s in: the interval (60 s) is not over.
    assert counts == []
    clock.now += 10.0
    assert folder.filter(_record(UNREACHABLE, 2, "refused"))  # a fresh sample of the message...
    assert counts == [Repeated("aiokafka", logging.ERROR, UNREACHABLE, 400, 60.0)]  # ...after its count
    assert not folder.filter(_record(UNREACHABLE, 2, "refused"))  # and the next interval folds again
    clock.now += 60.0
    assert folder.filter(_record(UNREACHABLE, 2, "refused"))
    assert [c.suppressed for c in counts] == [400, 1]


def test_templates_loggers_and_levels_are_folded_independently(folder: RepeatFolder) -> None:
    distinct = [_record(UNREACHABLE, 1, "x"), _record(METADATA, "cluster"),
                _record(UNREACHABLE, 1, "x", name="aiokafka.cluster"),
                _record(UNREACHABLE, 1, "x", level=logging.WARNING)]
    assert _passed(folder, distinct) == 4
    assert _passed(folder, distinct * 100) == 0


def test_a_burst_that_stops_gets_its_count_from_the_next_sweep(folder: RepeatFolder, counts: list[Repeated],
                                                               clock: Clock) -> None:
    for _ in range(1000):
        folder.filter(_record(METADATA, "cluster"))
    # The broker is back: aiokafka goes quiet. The worker's own metrics line (every 30 s) drives the sweep.
    metrics_line = _record({"event": "worker.metrics"}, level=logging.INFO)
    clock.now += 30.0
    assert folder.filter(metrics_line)
    assert counts == []
    clock.now += 30.0
    assert folder.filter(metrics_line)
    assert counts == [Repeated("aiokafka", logging.ERROR, METADATA, 999, 60.0)]
    clock.now += 120.0
    folder.filter(metrics_line)
    assert len(counts) == 1  # counted once, and forgotten
    assert folder.filter(_record(METADATA, "cluster"))  # a new outage starts with its first line again


def test_a_count_is_due_one_interval_after_its_first_line_not_one_sweep_period_later(
    folder: RepeatFolder, counts: list[Repeated], clock: Clock
) -> None:
    clock.now += 10.0
    for _ in range(100):
        folder.filter(_record(METADATA, "cluster"))
    metrics_line = _record({"event": "worker.metrics"}, level=logging.INFO)
    clock.now += 50.0  # a sweep is due (60 s since the folder started) but this burst is 50 s old
    folder.filter(metrics_line)
    assert counts == []
    clock.now += 10.0  # its interval is over: the next line of any kind writes its count
    folder.filter(metrics_line)
    assert [c.suppressed for c in counts] == [99]


def test_flush_writes_the_final_counts_and_only_those(folder: RepeatFolder, counts: list[Repeated],
                                                      clock: Clock) -> None:
    for _ in range(5):
        folder.filter(_record(UNREACHABLE, 1, "refused"))
    folder.filter(_record(METADATA, "cluster"))  # once: nothing to count
    clock.now += 2.5
    folder.flush()
    assert counts == [Repeated("aiokafka", logging.ERROR, UNREACHABLE, 4, 2.5)]
    folder.flush()
    assert len(counts) == 1


def test_own_events_and_library_lines_below_warning_are_never_folded(folder: RepeatFolder) -> None:
    own = _record({"event": "sink.clickhouse_unavailable", "error": "refused"}, level=logging.WARNING)
    info = _record("Heartbeat failed for group %s", "g", level=logging.INFO)
    debug = _record("Sending request %s", "r", level=logging.DEBUG)
    assert _passed(folder, [own, info, debug] * 1000) == 3000


def test_zero_seconds_writes_every_line(clock: Clock, counts: list[Repeated]) -> None:
    folder = RepeatFolder(0, clock=clock, emit=counts.append)
    assert _passed(folder, [_record(UNREACHABLE, 1, "refused")] * 100) == 100
    folder.flush()
    assert counts == []


def test_the_templates_followed_are_bounded(clock: Clock, counts: list[Repeated]) -> None:
    folder = RepeatFolder(60, clock=clock, emit=counts.append, max_templates=10)
    formatted = [_record(f"Bootstrap attempt failed (backoff {i / 100:.2f} secs)") for i in range(1000)]
    assert _passed(folder, formatted) == 1000  # every text differs: nothing to fold, nothing kept past 10
    assert len(folder._runs) == 10


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """JSON logs into a buffer; the session's logging and exception hooks are put back after."""
    out = io.StringIO()
    hooks = (sys.excepthook, threading.excepthook)
    configure("info", "json", stream=out)
    try:
        yield out
    finally:
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)
        configure("warning", "console")


def test_configured_logging_folds_a_flood_into_one_line_and_a_count(stream: io.StringIO) -> None:
    for node in range(20_000):
        logging.getLogger("aiokafka").error(UNREACHABLE, node % 2, "[Errno 111] Connection refused")
        logging.getLogger("aiokafka.cluster").warning(METADATA, "ClusterMetadata(brokers: 0)")
        if node % 10_000 == 0:
            get_logger("cxstream.streams.worker").info("worker.metrics", node=node)
    logs.flush_repeated()  # what atexit does when the process ends
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "Unable connect to node with id 0: [Errno 111] Connection refused",
        "Unable to update metadata from 'ClusterMetadata(brokers: 0)'",
        "worker.metrics", "worker.metrics", "log.repeated", "log.repeated"]
    counts = {line["logger"]: line for line in lines if line["event"] == "log.repeated"}
    assert counts["aiokafka"]["template"] == UNREACHABLE and counts["aiokafka"]["suppressed"] == 19_999
    assert counts["aiokafka"]["level"] == "error"
    assert counts["aiokafka.cluster"]["suppressed"] == 19_999 and counts["aiokafka.cluster"]["level"] == "warning"
    assert isinstance(counts["aiokafka"]["seconds"], float)


def test_a_reconfiguration_writes_the_counts_it_would_otherwise_drop(stream: io.StringIO) -> None:
    for _ in range(3):
        logging.getLogger("kafka.net.manager").error("Connection failed: %s", "refused")
    configure("info", "json", stream=stream)  # e.g. a test or a command setting logging up again
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["Connection failed: refused", "log.repeated"]


def test_the_interval_can_be_changed_or_folding_turned_off(stream: io.StringIO) -> None:
    logs.set_repeat_seconds(0)
    for _ in range(3):
        logging.getLogger("faust.transport").warning("Heartbeat failed: %s", "no coordinator")
    assert len(stream.getvalue().splitlines()) == 3


def test_at_exit_a_closed_log_stream_gets_no_counts_and_no_logging_error(
        stream: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    for node in range(3):
        logging.getLogger("aiokafka").error(UNREACHABLE, node, "[Errno 111] Connection refused")
    stream.close()  # what a test runner does with the stream it lent, before the exit hooks
    logs.flush_repeated()
    assert "Logging error" not in capsys.readouterr().err
