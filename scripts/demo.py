"""`make demo`: the stack, the worker and generated traffic, with live scores printed from ClickHouse.

Runs until Ctrl-C, then stops what it started (the children; the stack only if it started it).
``DEMO_SECONDS=60 make demo`` runs bounded and exits 1 if no scores reached ClickHouse (CI mode).
Settings come from CXSTREAM_* env vars, passed to the children unchanged.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clickhouse_driver import Client

from cxstream.config import Settings
from cxstream.logs import configure as configure_logs
from cxstream.stack import Stack

BIN = Path(sys.executable).parent
INCIDENT = "VA/disability-claims/phone"
TABLE_SECONDS = 10.0
LOGS = Path(".cxstream") / "demo"


def _scores(settings: Settings) -> list[tuple[str, str, str, int, float, float, float]]:
    """Rolling 15-minute scores per agency, service and domain (all channels), busiest first."""
    client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                    password=settings.clickhouse_password, connect_timeout=3)
    db = settings.clickhouse_database
    try:
        rows = client.execute(
            f"SELECT agency, service, domain, responses, pct_positive, pct_positive_low, pct_positive_high "
            f"FROM {db}.domain_scores_15m_all_channels WHERE domain IN ('satisfaction', 'trust') "
            f"ORDER BY agency, service, domain")
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3]), float(r[4]), float(r[5]), float(r[6])) for r in rows]
    except Exception:  # noqa: BLE001 - before the worker's sink creates the views there is nothing to read
        return []
    finally:
        client.disconnect()


def _print_table(rows: list[tuple[str, str, str, int, float, float, float]], elapsed: float) -> None:
    print(f"\n--- live 15-minute scores after {elapsed:.0f}s (pct positive, 95% Wilson interval) ---")
    print(f"{'agency':<10} {'service':<22} {'domain':<13} {'responses':>9} {'pct+':>6}  interval")
    for agency, service, domain, responses, pct, low, high in rows:
        print(f"{agency:<10} {service:<22} {domain:<13} {responses:>9} {pct:>6.1f}  [{low:.0f}, {high:.0f}]")
    sys.stdout.flush()


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    print(f"demo: stopped {name} (exit {process.returncode})")


def main() -> int:
    bounded = os.environ.get("DEMO_SECONDS")
    limit = float(bounded) if bounded else None
    began = time.monotonic()
    settings = Settings.load({})
    configure_logs(settings.log_level, settings.log_format)
    stack = Stack(settings)
    status = stack.up()
    print(f"demo: stack up after {time.monotonic() - began:.1f}s "
          f"({'started ' + ', '.join(status.started) if status.started else 'already running'})")
    LOGS.mkdir(parents=True, exist_ok=True)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    first_scores: float | None = None
    try:
        for name, args in (("worker", ["worker"]),
                           ("generator", ["generate", "--rate", "50", "--incident", INCIDENT])):
            log = open(LOGS / f"{name}.log", "wb")
            children.append((name, subprocess.Popen([str(BIN / "cxstream"), *args], stdout=log,
                                                     stderr=subprocess.STDOUT)))
            print(f"demo: started {name} (pid {children[-1][1].pid}), log in {LOGS / (name + '.log')}")
        last_table = 0.0
        while limit is None or time.monotonic() - began < limit:
            for name, process in children:
                if process.poll() is not None:
                    print(f"demo: {name} exited with {process.returncode}; see {LOGS / (name + '.log')}")
                    return 1
            now = time.monotonic()
            if now - last_table >= (2.0 if first_scores is None else TABLE_SECONDS):
                last_table = now
                rows = _scores(settings)
                if rows and first_scores is None:
                    first_scores = now - began
                    print(f"demo: first scores in ClickHouse {first_scores:.1f}s after the demo started")
                if rows:
                    _print_table(rows, now - began)
            time.sleep(0.5)  # the display's cadence; the polls above are bounded by the limit
    except KeyboardInterrupt:
        print("\ndemo: Ctrl-C, stopping")
    finally:
        for name, process in reversed(children):
            _stop(process, name)
        if status.started:
            stack.down(status.started)
            print(f"demo: stopped {', '.join(status.started)}")
    if first_scores is None:
        print("demo: no scores reached ClickHouse", file=sys.stderr)
        return 1
    print(f"demo: first scores after {first_scores:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
