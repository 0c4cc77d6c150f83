"""`make demo`: the stack, the worker, generated traffic with an incident, and the live page.

Prints the page's address, then a one-line summary now and then; runs until Ctrl-C (or SIGTERM),
then stops everything it started, in order: generator, page, worker, and the stack only if it
started it. ``DEMO_SECONDS=60 make demo`` runs bounded (CI mode): it stops as soon as scores have
reached ClickHouse and the page served them, and exits 1 if that did not happen within the 60
seconds. Settings are CXSTREAM_* variables, passed to the children unchanged
(CXSTREAM_TOPIC_PREFIX and CXSTREAM_CLICKHOUSE_DATABASE give a demo topics and a database of its
own); DEMO_PORT (8080) is the page's port, DEMO_RATE (50) touchpoints per second, DEMO_FORM (mixed)
the A-11 form of the generated surveys (v1, v2 or mixed).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from cxstream.config import Settings
from cxstream.logs import configure as configure_logs
from cxstream.sinks.connection import clickhouse_client
from cxstream.stack import Stack

INCIDENT = "VA/disability-claims/phone"
SUMMARY_SECONDS = 30.0
CLI = [sys.executable, "-m", "cxstream.cli"]


class DemoError(Exception):
    """A demo setting or a port that is not usable, said in one line."""


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise DemoError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise DemoError(f"{name} must be positive, got {raw!r}")
    return value


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise DemoError(f"port {port} for the live page is in use: set DEMO_PORT to a free port") from None


def _score_cells(settings: Settings) -> int:
    """How many rolling 15-minute score cells ClickHouse has (0 before the sink made the views)."""
    client = clickhouse_client(settings, "cxstream-demo", connect_timeout=3)
    try:
        [(cells,)] = client.execute(f"SELECT count() FROM {settings.clickhouse_database}.domain_scores_15m_all_channels")
        return int(cells)
    except Exception:  # noqa: BLE001 - before the worker's sink creates the views there is nothing to read
        return 0
    finally:
        client.disconnect()


def _page_snapshot(url: str) -> dict[str, Any]:
    """What the live page is pushing right now ({} if it does not answer)."""
    try:
        with urllib.request.urlopen(url + "snapshot.json", timeout=15) as response:
            data = json.load(response)
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Children:
    """The demo's processes, each in a session of its own (Ctrl-C reaches only the demo, which stops
    them in order), with their output in ``logs``."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str]) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen([*CLI, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, process))
        print(f"demo: started {name} (pid {process.pid}), log {self.logs / (name + '.log')}", flush=True)

    def check(self) -> None:
        for name, process in self.running:
            if process.poll() is not None:
                raise DemoError(f"{name} exited with {process.returncode}; see {self.logs / (name + '.log')}")

    def stop_all(self, order: tuple[str, ...]) -> None:
        rank = {name: i for i, name in enumerate(order)}
        for name, process in sorted(self.running, key=lambda c: rank.get(c[0], len(order))):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            print(f"demo: stopped {name} (exit {process.returncode})", flush=True)
        self.running.clear()


def run(settings: Settings, limit: float | None, port: int, rate: float, form: str = "mixed") -> int:
    began = time.monotonic()
    _check_port_free(port)
    stack = Stack(settings)
    status = stack.up()
    print(f"demo: stack up after {time.monotonic() - began:.1f}s "
          f"({'started ' + ', '.join(status.started) if status.started else 'already running'}); "
          f"topics prefix {settings.topic_prefix or '(none)'}, database {settings.clickhouse_database}", flush=True)
    logs = settings.state_dir / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    children = Children(logs)
    url = f"http://127.0.0.1:{port}/"
    first_scores: float | None = None
    page_services = 0
    try:
        children.start("worker", ["worker"])
        children.start("dashboard", ["dashboard", "--port", str(port)])
        # Both A-11 forms side by side, as agencies run them today (v1 history and surveys beside the
        # current form); DEMO_FORM=v1 or v2 shows one.
        children.start("generator", ["generate", "--rate", f"{rate:g}", "--incident", INCIDENT, "--form", form])
        traffic_began = time.monotonic()
        print(f"demo: live page at {url} (scores appear within about a minute; Ctrl-C stops the demo)", flush=True)
        last_summary = 0.0
        while limit is None or time.monotonic() - began < limit:
            children.check()
            now = time.monotonic()
            if first_scores is None and _score_cells(settings):
                first_scores = now - began
                print(f"demo: first scores in ClickHouse {first_scores:.1f}s after the demo started "
                      f"({now - traffic_began:.1f}s after the traffic did); see them at {url}", flush=True)
            summary_due = now - last_summary >= SUMMARY_SECONDS
            # Bounded, the page is asked at every step until it shows the scores: then the demo has
            # shown what it runs for and stops, and DEMO_SECONDS is only the limit it must do it in.
            if first_scores is not None and (summary_due or (limit is not None and not page_services)):
                snap = _page_snapshot(url)
                page_services = len(snap.get("services", []))
                if summary_due or page_services:
                    last_summary = now
                    print(f"demo: {time.strftime('%H:%M:%S')} the page shows {page_services} services, "
                          f"{len(snap.get('alerts', []))} open alerts ({url})", flush=True)
            if limit is not None and page_services:
                break
            # Interactive, the summary's cadence; bounded, how soon the demo notices it is done.
            time.sleep(1.0 if limit is None else 0.5)
        if first_scores is not None and not page_services:
            page_services = len(_page_snapshot(url).get("services", []))
    except KeyboardInterrupt:
        print("\ndemo: stopping", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave children behind
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all(("generator", "dashboard", "worker"))
        if status.started:
            stack.down(status.started)
            print(f"demo: stopped {', '.join(status.started)}", flush=True)
    if first_scores is None:
        print("demo: no scores reached ClickHouse", file=sys.stderr)
        return 1
    if limit is not None and not page_services:
        print(f"demo: scores reached ClickHouse but the live page at {url} did not show them", file=sys.stderr)
        return 1
    print(f"demo: first scores after {first_scores:.1f}s; the page showed {page_services} services")
    return 0


def main() -> int:
    # Run in the background by a shell, the demo would inherit SIGINT ignored and pass that on to
    # its children, which then could not be stopped with it: handle it explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        bounded = os.environ.get("DEMO_SECONDS")
        limit = _env_number("DEMO_SECONDS", 0) if bounded else None
        port = int(_env_number("DEMO_PORT", 8080))
        rate = _env_number("DEMO_RATE", 50)
        form = os.environ.get("DEMO_FORM", "mixed")
        if form not in ("v1", "v2", "mixed"):
            raise DemoError(f"DEMO_FORM must be v1, v2 or mixed, got {form!r}")
        settings = Settings.load({})
        configure_logs(settings.log_level, settings.log_format)
        return run(settings, limit, port, rate, form)
    except DemoError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
