"""The worker's sink process (sinks/child.py): metrics reach the worker, the pair stops and fails
together, and the child never outlives the worker. Real processes, no broker, no server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.sinks.child import SinkChild
from tests.support import sink_children

SETTINGS = Settings.load({"sink_timeout_seconds": 1}, environ={})


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): it has ended
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0] != "Z"


def test_the_childs_metrics_are_served_by_the_worker_and_a_stop_waits_for_it() -> None:
    child = SinkChild(SETTINGS, main=sink_children.reports_then_waits_for_sigterm)
    child.start()
    try:
        families = wait_until(lambda: list(child.families()))
        assert [(s.name, s.labels, s.value) for f in families for s in f.samples] == [
            ("cxstream_sink_rows_total", {"table": "touchpoints_store"}, 7)]
        assert os.getpgid(child.pid) != os.getpgid(0), "a Ctrl-C at the terminal must reach the worker only"
        assert child.exitcode() is None
    finally:
        code = child.stop()
    assert code == 0, "SIGTERM lets the sink write what it holds and exit on its own"


def test_a_failed_child_fails_the_worker() -> None:
    child = SinkChild(SETTINGS, main=sink_children.exits_with_3)
    child.start()
    wait_until(lambda: child.exitcode() is not None)
    failed: list[tuple[str, dict[str, Any]]] = []
    stopped: list[bool] = []
    child.watch(lambda: stopped.append(True), lambda event, **details: failed.append((event, details)))
    assert stopped == []
    assert failed == [("sink.failed", {"error": "the sink process exited with code 3", "pid": child.pid})]
    child.watch(lambda: stopped.append(True), lambda event, **details: failed.append((event, details)))
    assert len(failed) == 1, "reported once"


def test_a_child_stopped_by_a_signal_stops_the_worker() -> None:
    child = SinkChild(SETTINGS, main=sink_children.exits_cleanly)
    child.start()
    wait_until(lambda: child.exitcode() is not None)
    stopped: list[bool] = []
    child.watch(lambda: stopped.append(True), lambda event, **details: pytest.fail(f"failed: {event} {details}"))
    assert stopped == [True]


def test_a_running_child_changes_nothing_and_a_stopping_worker_ignores_its_end() -> None:
    child = SinkChild(SETTINGS, main=sink_children.sleeps)
    child.start()
    try:
        child.watch(lambda: pytest.fail("stopped"), lambda event, **details: pytest.fail(event))
    finally:
        child.stop()
    child.watch(lambda: pytest.fail("stopped"), lambda event, **details: pytest.fail(event))


def test_a_child_that_does_not_stop_is_killed_after_the_timeout() -> None:
    child = SinkChild(SETTINGS, main=sink_children.ignores_sigterm)
    child.start()
    time.sleep(1.0)  # let it install its handler: before that SIGTERM would simply end it
    started = time.monotonic()
    assert child.stop(timeout=0.5) == -9
    assert time.monotonic() - started < 10


def test_the_child_ends_when_the_worker_is_killed() -> None:
    script = textwrap.dedent("""
        import os, sys, time
        from cxstream.config import Settings
        from cxstream.sinks.child import SinkChild
        from tests.support import sink_children
        child = SinkChild(Settings.load({}, environ={}), main=sink_children.sleeps)
        child.start()
        time.sleep(1.0)
        print(child.pid, flush=True)
        os._exit(0)  # as a SIGKILL would: no finally, no atexit
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=os.getcwd(), env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[-1])
    wait_until(lambda: not alive(pid), timeout=10)
