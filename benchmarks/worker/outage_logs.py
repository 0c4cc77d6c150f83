"""How much one `cxstream worker` logs while its Kafka broker is down.

Run: .venv/bin/python -m benchmarks.worker.outage_logs [--outage 40] [--checkout DIR] [--env K=V ...]
Starts a broker of its own (free ports, a temporary folder: the shared one is never stopped) and one
worker on it (sink included, into a throwaway ClickHouse database), waits for the worker to own its
partitions, stops the broker for ``--outage`` seconds, starts it again, and counts the lines and
bytes the worker wrote from the stop until the broker answered again, and in the minute after.
``--checkout`` runs the worker from another source tree (e.g. an export of the previous commit) to
compare; ``--env CXSTREAM_LOG_REPEAT_SECONDS=0`` turns folding off.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from clickhouse_driver import Client

from cxstream.config import Settings
from cxstream.stack.kafka import KafkaBroker
from tests.support.cleanup import stop_process
from tests.support.private_stack import free_port
from tests.support.worker import wait_for

#: Seconds after the broker answers again that are counted too: reconnection, rebalance, count lines.
AFTER_SECONDS = 60


@dataclasses.dataclass
class Window:
    """Lines and bytes of the log between two offsets."""

    seconds: float
    lines: int
    bytes: int
    top: list[tuple[str, int]]

    def describe(self, name: str) -> str:
        rate = self.lines / self.seconds if self.seconds else 0.0
        head = (f"{name}: {self.seconds:.1f} s, {self.lines:,} lines, {self.bytes:,} bytes "
                f"({rate:,.1f} lines/s)")
        return "\n".join([head] + [f"    {count:>8,}  {what}" for what, count in self.top])


def _window(log_path: Path, start: int, end: int, seconds: float) -> Window:
    with open(log_path, "rb") as log:
        log.seek(start)
        text = log.read(end - start).decode(errors="replace")
    kinds: collections.Counter[str] = collections.Counter()
    lines = text.splitlines()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            kinds["(not JSON) " + line[:60]] += 1
            continue
        kinds[f"{record.get('logger', '-')}: {str(record.get('event'))[:70]}"] += 1
    return Window(seconds, len(lines), end - start, kinds.most_common(8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outage", type=float, default=40.0, help="seconds the broker stays stopped")
    parser.add_argument("--checkout", type=Path, default=Path.cwd(), help="source tree the worker runs from")
    parser.add_argument("--env", action="append", default=[], help="extra KEY=VALUE for the worker")
    parser.add_argument("--no-sink", action="store_true", help="run the worker without its ClickHouse sink")
    args = parser.parse_args()

    base = Settings.load()
    folder = Path(tempfile.mkdtemp(prefix="cxoutage-"))
    run = uuid.uuid4().hex[:6]
    broker = KafkaBroker(dataclasses.replace(base, kafka_bootstrap="", kafka_port=free_port(),
                                             kafka_controller_port=free_port(), state_dir=folder / "broker"))
    database = f"cx_outage{run}"
    env = dict(os.environ, CXSTREAM_KAFKA_BOOTSTRAP=broker.address, CXSTREAM_TOPIC_PREFIX=f"out{run}.",
               CXSTREAM_LOG_FORMAT="json", CXSTREAM_STATE_DIR=str(folder / "worker"), CXSTREAM_METRICS_PORT="0",
               CXSTREAM_CLICKHOUSE_DATABASE=database, CXSTREAM_SINK_ENABLED=str(not args.no_sink).lower())
    env.update(item.split("=", 1) for item in args.env)
    log_path = folder / "worker.log"
    broker.start()
    try:
        with open(log_path, "wb") as log:
            worker = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=args.checkout)
        try:
            _measure(broker, worker, log_path, args.outage, sink=not args.no_sink)
        finally:
            stop_process(worker)
        print(f"whole run: {log_path.stat().st_size:,} bytes, {len(log_path.read_bytes().splitlines()):,} lines "
              f"(log: {log_path})")
    finally:
        broker.stop()
        _drop(base, database)


def _measure(broker: KafkaBroker, worker: subprocess.Popen[bytes], log_path: Path, outage: float, sink: bool) -> None:
    def ready() -> bool:
        text = log_path.read_text(errors="replace")
        return '"worker.partitions_assigned"' in text and ("sink.started" in text or not sink)

    wait_for(ready, timeout=180, what="the worker to own its partitions")
    time.sleep(5)
    stopped_at, start = time.monotonic(), log_path.stat().st_size
    broker.stop()
    time.sleep(max(0.0, outage - (time.monotonic() - stopped_at)))
    broker.start()  # returns once the broker answers
    back_at, back = time.monotonic(), log_path.stat().st_size
    print(_window(log_path, start, back, back_at - stopped_at).describe(
        f"broker stopped for {outage:.0f} s, until it answered again"))
    time.sleep(AFTER_SECONDS)
    assert worker.poll() is None, f"the worker exited with {worker.returncode}"
    after = log_path.stat().st_size
    print(_window(log_path, back, after, time.monotonic() - back_at).describe(f"the {AFTER_SECONDS} s after"))
    before_stop = log_path.stat().st_size
    worker.terminate()
    worker.wait(timeout=60)
    print(_window(log_path, before_stop, log_path.stat().st_size, 0).describe("at shutdown (counts flushed at exit)"))


def _drop(settings: Settings, database: str) -> None:
    client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                    password=settings.clickhouse_password, connect_timeout=5)
    try:
        client.execute(f"DROP DATABASE IF EXISTS {database}")
    finally:
        client.disconnect()


if __name__ == "__main__":
    main()
