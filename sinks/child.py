"""The worker's sink as a process of its own (``CXSTREAM_SINK_PROCESS=child``, the default).

The stages and the sink are both CPU-bound Python: in one process they share one event loop and
one core, and the sink's decoding and row building were about a fifth of the worker's CPU. The
worker therefore starts the same sink (sinks/process.py, as ``cxstream sink`` runs it) in a
child process, so the two use two cores (BENCHMARKS.md has the same-run figures). One command
still runs everything, and the pair behaves as one program:

- **Stopping.** The child is in a process group of its own, so a Ctrl-C at a terminal reaches
  the worker only; the worker stops its stages first, then sends the child one SIGTERM (the
  sink writes what it holds, commits it, and exits) and waits up to
  ``sink_timeout_seconds`` + :data:`STOP_MARGIN_SECONDS` before it kills it. Nothing is lost
  either way: the sink commits only what ClickHouse has.
- **The worker dies** (SIGKILL, a fail-stop): the kernel sends the child SIGTERM
  (``PR_SET_PDEATHSIG``), and it stops as above. It never outlives its worker.
- **The child dies or stops:** the worker notices within a second (:meth:`SinkChild.watch`). A
  clean stop by a signal (a service manager signalling every process) stops the worker too; any
  other exit fail-stops the worker, as an exception in an in-process sink does, so a supervisor
  restarts the pair and the worker never runs on without its sink looking alive.
- **Metrics.** The child sends its metric families about once a second through a pipe; the
  worker's /metrics serves the latest, so a scrape sees the same series in both modes.
- **Logs** go to the worker's own stdout, in the same format.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from prometheus_client.metrics_core import Metric

from cxstream.config import Settings
from cxstream.logs import configure as configure_logs
from cxstream.logs import get_logger

log = get_logger(__name__)

#: Seconds the worker waits for its sink beyond the sink's own insert timeout before killing it.
STOP_MARGIN_SECONDS = 10.0
#: prctl(2): the signal this process gets when its parent exits.
PR_SET_PDEATHSIG = 1
#: Exit codes of a sink stopped by a signal on purpose (sinks/process.py: 0, or 130 after SIGINT).
STOPPED_BY_SIGNAL = (0, 130, -signal.SIGTERM, -signal.SIGINT)

#: What the child runs: (settings, a pipe end to send metric families into).
ChildMain = Callable[[Settings, Connection, int], None]


def run_sink_child(settings: Settings, metrics: Connection, parent: int) -> None:
    """The child's entry point: leave the terminal's process group, die with the parent, log as
    the worker does, then run the sink with its metrics sent to the parent."""
    become_child_of(parent)
    configure_logs(settings.log_level, settings.log_format, repeat_seconds=settings.log_repeat_seconds)
    from cxstream.sinks.process import run

    def report(sink: Any) -> None:
        try:
            metrics.send(list(sink.metrics.families(settings.topic_prefix)))
        except (BrokenPipeError, EOFError, OSError):
            pass  # the worker is gone: PR_SET_PDEATHSIG is stopping this process

    run(replace(settings, metrics_port=0), report)  # the worker serves /metrics


def become_child_of(parent: int) -> None:
    """What a child sink does first: leave the terminal's process group (a Ctrl-C there reaches
    the worker, which stops the sink itself) and die with ``parent``."""
    os.setpgrp()
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent exits (Linux); if it already has, stop now."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux/glibc: the worker still stops the child on every exit but a SIGKILL
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


class SinkChild:
    """The worker's handle on its sink process: start, metrics, watch, stop."""

    def __init__(self, settings: Settings, main: ChildMain = run_sink_child) -> None:
        self.settings = settings
        self._main = main
        self._families: list[Metric] = []
        self._process: Any = None
        self.stopping = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child (a fresh interpreter: nothing of the worker's threads or loop is copied)."""
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=self._main, args=(self.settings, send, os.getpid()),
                                        name="cxstream-sink", daemon=False)
        self._process.start()
        send.close()  # the child holds the only writing end: its exit ends the receiver
        threading.Thread(target=self._receive, args=(receive,), name="cxstream-sink-metrics", daemon=True).start()
        log.info("sink.child_started", pid=self._process.pid)

    def _receive(self, pipe: Connection) -> None:
        while True:
            try:
                self._families = pipe.recv()
            except (EOFError, OSError):
                return

    def families(self) -> Iterator[Metric]:
        """The child's metric families as it last sent them (none before its first report)."""
        yield from self._families

    def exitcode(self) -> int | None:
        """None while the child runs; its exit code (negative: the signal) once it has ended."""
        return None if self._process is None else self._process.exitcode

    def watch(self, stop_worker: Callable[[], None], fail: Callable[..., Any]) -> None:
        """Called every second by the worker: a child that stopped cleanly stops the worker; any
        other end of it fails the worker."""
        code = self.exitcode()
        if code is None or self.stopping:
            return
        self.stopping = True
        if code in STOPPED_BY_SIGNAL:
            log.warning("sink.child_stopped", exit_code=code, meaning="the sink was stopped by a signal: "
                        "the worker stops too, so the two never run apart")
            stop_worker()
        else:
            fail("sink.failed", error=f"the sink process exited with code {code}", pid=self.pid)

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the child and wait for it to write what it holds; kill it after ``timeout``
        (default: the sink's insert timeout plus a margin). Returns its exit code."""
        self.stopping = True
        process = self._process
        if process is None:
            return None
        if process.exitcode is None:
            try:
                os.kill(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            wait = timeout if timeout is not None else self.settings.sink_timeout_seconds + STOP_MARGIN_SECONDS
            process.join(wait)
            if process.exitcode is None:
                log.warning("sink.child_killed", pid=process.pid, waited_seconds=wait,
                            meaning="what it held and had not written is not committed: the next sink writes it")
                process.kill()
                process.join()
        log.info("sink.child_ended", pid=process.pid, exit_code=process.exitcode)
        return int(process.exitcode)


def stop_this_process() -> None:
    """Stop the worker the way SIGTERM does (Faust's handler stops it cleanly)."""
    os.kill(os.getpid(), signal.SIGTERM)

