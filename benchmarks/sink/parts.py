"""ClickHouse parts under `make demo` traffic: parts, part directories, disk, and the restart time.

Every INSERT into a MergeTree table writes at least one part (a directory of 30-60 files) per
partition it touches; merged-away parts stay on disk for ``old_parts_lifetime``, and a restart
loads every directory before the server answers. This measures what the sink's insert pattern
costs a server, on a private stack only (it restarts that stack's ClickHouse):

    export CXSTREAM_STATE_DIR=/tmp/parts-x CXSTREAM_KAFKA_PORT=29092 CXSTREAM_KAFKA_CONTROLLER_PORT=29093 \\
           CXSTREAM_CLICKHOUSE_PORT=29000 CXSTREAM_CLICKHOUSE_HTTP_PORT=28123
    .venv/bin/cxstream stack up
    .venv/bin/python -m benchmarks.sink.parts demo --seconds 600 --out /tmp/parts-x.jsonl [--tree /tmp/sink-old]
    .venv/bin/python -m benchmarks.sink.parts sample      # one sample now
    .venv/bin/python -m benchmarks.sink.parts restart     # stop and start ClickHouse, timed

``demo`` runs ``scripts/demo.py`` of ``--tree`` (a checkout, e.g. a worktree of an older commit,
imported first through PYTHONPATH) for ``--seconds`` (then SIGTERM), samples every ``--every`` seconds, then
times a restart. Each sample is one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from clickhouse_driver import Client

from cxstream.config import Settings
from cxstream.stack.clickhouse import ClickHouseServer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Sample:
    """The server's state at one moment (``t`` seconds after the run began)."""

    t: float
    parts: int  # every part the server knows in the database, active or waiting for removal
    active: int
    part_dirs: int  # part directories on disk, every database (what a restart loads)
    disk_mib: float  # du of the server's whole data folder
    inserts: int  # INSERT queries since the server started
    blocks: int  # parts written by inserts since the server started (one per partition touched)
    rows: int  # active rows in the database (with not yet collapsed duplicates)

    def line(self) -> str:
        return (f"t={self.t:6.0f}s parts={self.parts:5d} active={self.active:4d} dirs={self.part_dirs:5d} "
                f"disk={self.disk_mib:7.1f}MiB inserts={self.inserts:6d} parts_written={self.blocks:6d} "
                f"rows={self.rows}")


def _client(settings: Settings) -> Client:
    return Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                  password=settings.clickhouse_password, connect_timeout=3)


def data_dir(settings: Settings) -> Path:
    """The folder a local stack's ClickHouse keeps everything in."""
    return ClickHouseServer(settings).data_dir


def part_dirs(data: Path) -> int:
    """Part directories under ``data/data/<db>/<table>/`` (``detached`` is not a part)."""
    root = data / "data"
    if not root.is_dir():
        return 0
    return sum(1 for db in root.iterdir() if db.is_dir()
               for table in db.iterdir() if table.is_dir()
               for part in table.iterdir() if part.is_dir() and part.name != "detached")


def disk_bytes(path: Path) -> int:
    """Allocated bytes under ``path``, as ``du -s`` counts them (small files take whole blocks)."""
    total = 0
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except FileNotFoundError:  # a part removed while we walk
                pass
    return total


def sample(settings: Settings, began: float) -> Sample:
    """Parts from ``system.parts``, directories and bytes from the disk, counters from ``system.events``."""
    client = _client(settings)
    try:
        [(parts, active, rows)] = client.execute(
            "SELECT count(), countIf(active), sumIf(rows, active) FROM system.parts WHERE database = %(db)s",
            {"db": settings.clickhouse_database})
        events = dict(client.execute(
            "SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'MergeTreeDataWriterBlocks')"))
    finally:
        client.disconnect()
    data = data_dir(settings)
    return Sample(t=round(time.monotonic() - began, 1), parts=int(parts), active=int(active),
                  part_dirs=part_dirs(data), disk_mib=round(disk_bytes(data) / 2**20, 1),
                  inserts=int(events.get("InsertQuery", 0)), blocks=int(events.get("MergeTreeDataWriterBlocks", 0)),
                  rows=int(rows or 0))


#: Run by the checkout under test (its config template, its stack code): stop ClickHouse, start
#: it, print the seconds until a native query is answered.
_RESTART = """
import os, sys, time
from clickhouse_driver import Client
from clickhouse_driver import errors
from cxstream.config import Settings
from cxstream.stack.clickhouse import ClickHouseServer
settings = Settings.load({})
server = ClickHouseServer(settings)
server.stop()
if sys.argv[1:] == ["cold"]:  # evict the server's files from the page cache, as after a reboot
    for folder, _, files in os.walk(server.data_dir):
        for name in files:
            try:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
began = time.monotonic()
server.start()
while True:
    try:
        client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port,
                        user=settings.clickhouse_user, password=settings.clickhouse_password, connect_timeout=3)
        client.execute("SELECT 1")
        client.disconnect()
        break
    except (errors.Error, OSError, EOFError):
        time.sleep(0.2)
print(round(time.monotonic() - began, 1))
"""


def restart_seconds(tree: Path, cold: bool = False) -> float:
    """Stop the stack's ClickHouse, start it with ``tree``'s code and config, and time until it
    answers a native query (the start timeout raised: an old server may take minutes). ``cold``
    first evicts the server's files from the page cache (only its own files: nothing else on the
    machine is slowed), as after a reboot."""
    env = dict(os.environ, PYTHONPATH=str(tree), CXSTREAM_START_TIMEOUT="3600")
    done = subprocess.run([sys.executable, "-c", _RESTART, "cold" if cold else "warm"], env=env, cwd=tree,
                          check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def run_demo(settings: Settings, seconds: float, every: float, tree: Path, out: Path, port: int) -> None:
    """Run the demo of ``tree`` for ``seconds``, sampling every ``every`` seconds, then restart."""
    # The demo runs unbounded and is stopped with SIGTERM after ``seconds``: a bounded demo
    # (DEMO_SECONDS) stops as soon as its page shows scores, which is no soak.
    env = dict(os.environ, DEMO_PORT=str(port), PYTHONPATH=str(tree))
    env.pop("DEMO_SECONDS", None)
    began = time.monotonic()
    with open(out, "a") as lines, open(out.with_suffix(".demo.log"), "ab") as demo_log:
        def record(kind: str, s: Sample) -> None:
            lines.write(json.dumps({"kind": kind, **asdict(s)}) + "\n")
            lines.flush()
            print(kind, s.line(), flush=True)

        demo = subprocess.Popen([sys.executable, str(tree / "scripts" / "demo.py")], env=env, cwd=tree,
                                stdout=demo_log, stderr=subprocess.STDOUT)
        print(f"demo pid {demo.pid} from {tree}, log {out.with_suffix('.demo.log')}", flush=True)
        next_at = began
        while demo.poll() is None:
            if time.monotonic() - began >= seconds:
                demo.send_signal(signal.SIGTERM)  # stops its children and the stack it started
                demo.wait(timeout=120)
                break
            if time.monotonic() >= next_at:
                record("during", sample(settings, began))
                next_at += every
            time.sleep(1.0)
        print(f"demo exited with {demo.returncode}", flush=True)
        record("end", sample(settings, began))
        for cold in (False, True):
            took = restart_seconds(tree, cold)
            record("after_restart", sample(settings, began))
            lines.write(json.dumps({"kind": "restart", "cold": cold, "seconds": took}) + "\n")
            print(f"restart ({'cold' if cold else 'warm'} page cache): {took:.1f}s until ClickHouse answered "
                  "a query", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run make-demo traffic, sample, then time a restart")
    demo.add_argument("--seconds", type=float, default=600.0)
    demo.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    demo.add_argument("--tree", type=Path, default=ROOT, help="checkout whose scripts/demo.py and cxstream run")
    demo.add_argument("--out", type=Path, required=True, help="JSON lines, one per sample")
    demo.add_argument("--port", type=int, default=28080, help="the demo's live page port")
    sub.add_parser("sample", help="one sample now")
    restart = sub.add_parser("restart", help="stop and start ClickHouse, timed")
    restart.add_argument("--tree", type=Path, default=ROOT, help="checkout whose stack code and config start it")
    restart.add_argument("--cold", action="store_true", help="evict the server's files from the page cache first")
    args = parser.parse_args()
    settings = Settings.load({})
    if args.command == "demo":
        run_demo(settings, args.seconds, args.every, args.tree.resolve(), args.out, args.port)
    elif args.command == "sample":
        print(sample(settings, time.monotonic()).line())
    else:
        print(f"restart: {restart_seconds(args.tree.resolve(), args.cold):.1f}s until ClickHouse answered a query")


if __name__ == "__main__":
    main()
