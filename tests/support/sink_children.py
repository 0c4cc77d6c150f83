"""Stand-ins for the sink's process in tests of sinks/child.py: module-level functions, so a
spawned interpreter can import them. Each starts as the real one does (become_child_of)."""

from __future__ import annotations

import os
import signal
import sys
import time
from multiprocessing.connection import Connection

from prometheus_client.core import CounterMetricFamily

from cxstream.config import Settings
from cxstream.sinks.child import become_child_of


def reports_then_waits_for_sigterm(settings: Settings, metrics: Connection, parent: int) -> None:
    """Sends one family (rows 7) every 50 ms, and exits 0 on SIGTERM, as a sink that wrote what it held."""
    become_child_of(parent)
    stopped: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopped.append(signum))
    while not stopped:
        rows = CounterMetricFamily("cxstream_sink_rows", "rows", labels=["table"])
        rows.add_metric(["touchpoints_store"], 7)
        metrics.send([rows])
        time.sleep(0.05)
    sys.exit(0)


def exits_with_3(settings: Settings, metrics: Connection, parent: int) -> None:
    """A sink that failed (its own fail-stop)."""
    become_child_of(parent)
    os._exit(3)


def exits_cleanly(settings: Settings, metrics: Connection, parent: int) -> None:
    """A sink that a signal stopped (a service manager signalled every process of the group)."""
    become_child_of(parent)
    sys.exit(0)


def ignores_sigterm(settings: Settings, metrics: Connection, parent: int) -> None:
    """A sink stuck in an insert that never answers."""
    become_child_of(parent)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)


def sleeps(settings: Settings, metrics: Connection, parent: int) -> None:
    """A sink at work, until a signal ends it (the default SIGTERM action)."""
    become_child_of(parent)
    time.sleep(600)
