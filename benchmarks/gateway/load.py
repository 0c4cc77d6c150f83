"""Load test of `cxstream gateway` on loopback, bounded in requests and time.

Starts a gateway (its own process, its own topics on the local broker), then:
1. **steady**: open loop at each target rate (requests/s, one touchpoint per request unless
   ``--batch``): achieved rate, latency percentiles, statuses;
2. **ceiling**: ``--concurrency`` clients back to back: the most requests/s the gateway answers;
3. **abuse**: legitimate traffic at ``--legit-rate`` while one key floods past its rate limit and
   other clients flood with wrong keys: the legitimate latency, and whether the limit held
   (accepted <= rate x seconds + one burst);
4. **check**: the records in Kafka equal the records the gateway answered 200 for.

    .venv/bin/python -m benchmarks.gateway.load --rates 200,400,600 --seconds 10

Needs the local stack (`cxstream stack up`). Prints a table and writes JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from cxstream.config import Settings
from cxstream.gateway import keys as key_store
from cxstream.kafka_clients import admin_client
from cxstream.topics import ensure_topics
from cxstream.vocabulary import INPUT_TOPICS, TOPIC_TOUCHPOINTS

#: Never more than this many requests in one phase, whatever the rate and duration asked for
#: (a flood at 4,000/s stays under it for the default 10 s, so every phase lasts its full time).
MAX_REQUESTS_PER_PHASE = 50_000


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    offered_rate: float | None
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    accepted_records: int = 0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        done = len(lat)
        return {
            "phase": self.name, "offered_rps": self.offered_rate, "requests": done,
            "achieved_rps": round(done / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99),
            "max_ms": round(lat[-1], 1) if lat else None,
            "statuses": dict(sorted(self.statuses.items())), "accepted_records": self.accepted_records,
        }


def _pct(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return round(sorted_values[0], 1)
    return round(statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1], 1)


class Client:
    """Posts touchpoints with unique ids and records what came back."""

    def __init__(self, session: aiohttp.ClientSession, url: str, run: str, batch: int) -> None:
        self.session = session
        self.url = url
        self.run = run
        self.batch = batch
        self._n = 0

    def body(self) -> bytes:
        lines = []
        for _ in range(self.batch):
            self._n += 1
            lines.append(json.dumps({"touchpoint_id": f"{self.run}-{self._n}", "occurred_at": "2026-11-25T14:03:07Z",
                                     "agency": "VA", "service": "load-test", "channel": "phone"}))
        return ("\n".join(lines) + "\n").encode()

    async def post(self, key: str, phase: Phase) -> int:
        content_type = "application/x-ndjson" if self.batch > 1 else "application/json"
        started = time.perf_counter()
        async with self.session.post(self.url, data=self.body(), headers={
                "Authorization": f"Bearer {key}", "Content-Type": content_type}) as response:
            answer = await response.read()
            status = response.status
        phase.latencies_ms.append((time.perf_counter() - started) * 1000)
        phase.statuses[status] += 1
        if status == 200:
            phase.accepted_records += json.loads(answer)["accepted"]
        return status


async def open_loop(client: Client, key: str, phase: Phase, rate: float, seconds: float, concurrency: int) -> None:
    """``rate`` requests/s for ``seconds`` (at most ``concurrency`` outstanding; then sends wait)."""
    total = min(int(rate * seconds), MAX_REQUESTS_PER_PHASE)
    slots = asyncio.Semaphore(concurrency)
    tasks = []

    async def one() -> None:
        try:
            await client.post(key, phase)
        finally:
            slots.release()

    started = time.perf_counter()
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - started


async def closed_loop(client: Client, keys: list[str], phase: Phase, seconds: float, concurrency: int) -> None:
    """``concurrency`` clients back to back for ``seconds`` (bounded by MAX_REQUESTS_PER_PHASE)."""
    deadline = time.perf_counter() + seconds
    budget = [MAX_REQUESTS_PER_PHASE]

    async def worker(i: int) -> None:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            await client.post(keys[i % len(keys)], phase)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    phase.seconds = time.perf_counter() - started


async def measure(url: str, keys: dict[str, str], args: argparse.Namespace, limit: int) -> list[Phase]:
    run = uuid.uuid4().hex[:8]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        client = Client(session, url, run, args.batch)
        warm_up = Phase("warm-up", 50)
        await open_loop(client, keys["fast"], warm_up, 50, 2, 50)  # connections, the producer's metadata
        phases = [warm_up]
        for rate in args.rates:
            phase = Phase(f"steady {rate:g}/s", rate)
            await open_loop(client, keys["fast"], phase, rate, args.seconds, args.concurrency)
            phases.append(phase)
        ceiling = Phase(f"ceiling, {args.concurrency} clients", None)
        await closed_loop(client, [keys["fast"]], ceiling, args.seconds, args.concurrency)
        phases.append(ceiling)

        legit = Phase(f"abuse: legit {args.legit_rate:g}/s", args.legit_rate)
        flood = Phase(f"abuse: one key over its {limit}/s limit", None)
        wrong = Phase("abuse: wrong keys", None)
        await asyncio.gather(
            open_loop(client, keys["fast"], legit, args.legit_rate, args.seconds, args.concurrency),
            closed_loop(client, [keys["limited"]], flood, args.seconds, args.flooders),
            closed_loop(client, ["cxk_000000000000_not-a-key", "garbage"], wrong, args.seconds, args.flooders),
        )
        phases += [legit, flood, wrong]
    return phases


def start_gateway(settings: Settings, folder: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CXSTREAM_TOPIC_PREFIX=settings.topic_prefix, CXSTREAM_GATEWAY_PORT=str(settings.gateway_port),
               CXSTREAM_GATEWAY_KEYS_FILE=str(settings.gateway_keys_file),
               CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers, CXSTREAM_LOG_FORMAT="json")
    log = open(folder / "gateway.log", "wb")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen([sys.executable, "-m", "cxstream.cli", "gateway"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


async def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the gateway exited with {process.returncode}")
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the gateway did not come up")


def records_in_kafka(settings: Settings) -> int:
    from kafka import KafkaConsumer, TopicPartition

    topic = settings.topic(TOPIC_TOUCHPOINTS)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def delete_topics(settings: Settings) -> None:
    admin = admin_client(settings, "cxstream-bench-cleanup")
    try:
        admin.delete_topics([t for t in admin.list_topics() if t.startswith(settings.topic_prefix)])
    finally:
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], default=[200.0, 400.0, 600.0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (at most 60)")
    parser.add_argument("--batch", type=int, default=1, help="touchpoints per request")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--legit-rate", type=float, default=100.0)
    parser.add_argument("--limit", type=int, default=20, help="the flooded key's requests/s")
    parser.add_argument("--flooders", type=int, default=16, help="clients flooding each abuse phase")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 60.0)

    folder = Path(tempfile.mkdtemp(prefix="cxstream-gateway-load-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = dataclasses.replace(Settings.load(), topic_prefix=f"load{uuid.uuid4().hex[:8]}.", gateway_port=port,
                                   gateway_keys_file=folder / "keys.json")
    ensure_topics(settings, INPUT_TOPICS)
    keys = {}
    for name, rate in (("fast", 1_000_000), ("limited", args.limit)):
        record, text = key_store.new_key(f"load-{name}", "VA", ("phone",), rate)
        key_store.add(settings.gateway_keys_file, record)
        keys[name] = text
    url = f"http://127.0.0.1:{port}"
    process = start_gateway(settings, folder)
    try:
        asyncio.run(wait_up(url, process))
        phases = asyncio.run(measure(url + "/v1/touchpoints", keys, args, args.limit))
        in_kafka = records_in_kafka(settings)
    finally:
        process.terminate()
        process.wait(timeout=30)
        delete_topics(settings)
    report(phases, in_kafka, args)
    shutil.rmtree(folder)  # kept when the run fails: the gateway's log is in it


def report(phases: list[Phase], in_kafka: int, args: argparse.Namespace) -> None:
    rows = [p.summary() for p in phases]
    print(f"{'phase':<40} {'offered':>8} {'achieved':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    for r in rows:
        offered = f"{r['offered_rps']:g}" if r["offered_rps"] else "-"
        print(f"{r['phase']:<40} {offered:>8} {r['achieved_rps']:>9} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
              f"{r['p99_ms']!s:>8} {r['max_ms']!s:>8}  {r['statuses']}")
    accepted = sum(p.accepted_records for p in phases)
    flood = next(p for p in phases if p.name.startswith("abuse: one key"))
    allowed = args.limit * flood.seconds + args.limit
    held = flood.statuses[200] <= allowed
    print(f"rate limit: {flood.statuses[200]} of {sum(flood.statuses.values())} flood requests accepted in "
          f"{flood.seconds:.1f}s, at most {allowed:.0f} allowed ({args.limit}/s + one burst): "
          f"{'held' if held else 'BROKEN'}")
    print(f"records answered 200: {accepted}; records in Kafka: {in_kafka}: {'equal' if accepted == in_kafka else 'DIFFERENT'}")
    machine = {"nproc": os.cpu_count(), "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "args": {k: v for k, v in vars(args).items() if k != "json"},
                                         "phases": rows, "rate_limit_held": held,
                                         "accepted_records": accepted, "records_in_kafka": in_kafka}, indent=1))
    if not held or accepted != in_kafka:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
