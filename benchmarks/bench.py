"""`make bench`: cxstream against the raw ceiling and Quix Streams, same broker, data and machine.

Run: .venv/bin/python -m benchmarks.bench [--touchpoints 200000] [--feedback-share 0.1]
     [--contenders ceiling,quix,cxstream[,cxstream+EVENT_LOOP=asyncio...][,cxstream*3]]
     [--latency-rate 100 --latency-seconds 40] [--profile DIR]
The seeded workload is generated once into the cache dir, loaded into fresh topics (a unique
prefix), then each contender reads it from a fresh consumer group, one after the other. Prints a
table and writes it with the machine, date and versions to ``--out`` (markdown).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.contenders import Expected, Outcome, compare, delete_topics, run_ceiling, run_cxstream, run_quix
from benchmarks.sink.latency import Latency, measure
from benchmarks.workload import Workload, ensure_workload, publish, read_workload
from cxstream.config import Settings
from cxstream.stack import Stack
from cxstream.topics import ensure_topics
from cxstream.vocabulary import CONTRACT_TOPICS

CONTENDERS = ("ceiling", "quix", "cxstream")
#: How a contender's name says it is cxstream with a change: settings (+), another checkout (@),
#: or several worker processes in one group (*N).
CXSTREAM_VARIANTS = ("cxstream+", "cxstream@", "cxstream*")
MIB = 1024 * 1024


@dataclass
class Report:
    """Everything one run measured."""

    touchpoints: int
    feedback_messages: int
    distinct_feedback: int
    answers: int
    load_seconds: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    latency: Latency | None = None

    def table(self) -> str:
        rows = [f"workload: {self.touchpoints:,} touchpoints, {self.feedback_messages:,} feedback messages "
                f"({self.distinct_feedback:,} distinct, {self.answers:,} answers); "
                f"{self.touchpoints + self.feedback_messages:,} input events, loaded in {self.load_seconds:.1f}s",
                "",
                "| contender | events | seconds | events/s | peak RSS MiB | RSS at end MiB | results |",
                "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for key, o in self.outcomes.items():
            check = "n/a" if o.cells is None else (
                "exact" if not [d for d in self.differences if d.startswith(key + ":")] else "DIFFER")
            rows.append(f"| {o.name} | {o.events:,} | {o.seconds:.1f} | {o.events_per_second:,.0f} | "
                        f"{o.peak_rss / MIB:,.0f} | {o.end_rss / MIB:,.0f} | {check} |")
        rows.append("")
        cx, ceiling, quix = self.outcomes.get("cxstream"), self.outcomes.get("ceiling"), self.outcomes.get("quix")
        if cx and ceiling:
            rows.append(f"cxstream / ceiling: {cx.events_per_second / ceiling.events_per_second:.3f}")
        if cx and quix:
            rows.append(f"cxstream / Quix Streams: {cx.events_per_second / quix.events_per_second:.2f}")
        for key, variant in self.outcomes.items():
            if key.startswith(CXSTREAM_VARIANTS) and quix:
                rows.append(f"{key} / Quix Streams: {variant.events_per_second / quix.events_per_second:.2f}")
        if self.latency:
            rows.append(f"cxstream event -> ClickHouse: {self.latency.line()}")
        for key, o in self.outcomes.items():
            if o.written:
                total = sum(o.written.values())
                rows.append(f"{key} wrote {total:,} records to Kafka ({total / o.events:.2f} per input event): "
                            + ", ".join(f"{re.sub(r'bench[0-9a-f]{6}[.]', '', t)} {n:,}"
                                        for t, n in sorted(o.written.items(), key=lambda kv: -kv[1]) if n))
        rows.append(f"differences: {len(self.differences)}")
        rows += [f"  {d}" for d in self.differences[:20]]
        return "\n".join(rows)


def run(touchpoints: int, feedback_share: float = 0.1, seed: int = 1, contenders: tuple[str, ...] = CONTENDERS,
        latency_rate: float = 0.0, latency_seconds: float = 0.0, profile_dir: Path | None = None,
        timeout: float = 1800.0, settings: Settings | None = None, workdir: Path | None = None) -> Report:
    """Generate (once) and load the workload, run the contenders, compare their results."""
    settings = settings or Settings.load({})
    token = f"bench{uuid.uuid4().hex[:6]}"
    prefix = f"{token}."
    workdir = workdir or settings.state_dir / "bench" / token
    workdir.mkdir(parents=True, exist_ok=True)
    workload = read_workload(ensure_workload(settings.cache_dir, seed, touchpoints, feedback_share)).shifted_to_now()
    expected = _expected(workload)

    def load(prefix: str) -> None:
        topics = Settings.load({"topic_prefix": prefix, "kafka_bootstrap": settings.bootstrap_servers,
                                "partitions": settings.partitions})
        ensure_topics(topics, CONTRACT_TOPICS)
        publish(workload, settings.bootstrap_servers, prefix)

    started = time.monotonic()
    base_prefix = prefix
    load(prefix)
    report = Report(workload.touchpoints, workload.feedback_messages, workload.distinct_feedback, expected.answers,
                    time.monotonic() - started)
    try:
        cxstream_ran = False
        for number, name in enumerate(contenders):
            prefix = base_prefix
            if name == "cxstream" or name.startswith(CXSTREAM_VARIANTS):
                if cxstream_ran:
                    # Every cxstream run writes the same output topics: each after the first gets
                    # its own copy of the workload, or its sink would store the earlier run's outputs
                    # (and finish as soon as it had read them).
                    prefix = f"{token}v{number}."
                    load(prefix)
                cxstream_ran = True
            profile = profile_dir / f"{token}-{name}.txt" if profile_dir and name != "ceiling" else None
            if name == "ceiling":
                outcome = run_ceiling(settings, prefix, token, expected, timeout)
            elif name == "quix":
                outcome = run_quix(settings, prefix, token, workdir, expected, timeout, profile)
            elif name == "cxstream" or name.startswith(CXSTREAM_VARIANTS):
                outcome = run_cxstream(settings, prefix, token, workdir, expected, timeout, profile,
                                       variant_settings(name), workers=variant_workers(name))
            else:
                raise ValueError(f"unknown contender {name!r}: choose from {', '.join(CONTENDERS)}")
            report.outcomes[name] = outcome
            report.differences += compare(name, outcome.cells, expected.cells)
    finally:
        delete_topics(settings, token)
        for state in ("quix-state", "cx-state"):  # the logs stay in workdir, the state stores go
            shutil.rmtree(workdir / state, ignore_errors=True)
    if latency_rate and latency_seconds:
        report.latency = measure(latency_rate, latency_seconds)
    return report


def variant_settings(name: str) -> dict[str, str]:
    """``cxstream+EVENT_LOOP=asyncio+SINK_FLUSH_MS=500``: the worker with those settings
    (CXSTREAM_ prefixed), to compare a change side by side with the default in one run.
    ``cxstream@/path/to/checkout``: the worker of another checkout (a ``git worktree`` of an
    earlier commit), to compare before and after in one run. ``cxstream*3+NAME=VALUE``: three
    workers with that setting."""
    if name.startswith("cxstream@"):
        return {"PYTHONPATH": name.removeprefix("cxstream@")}
    pairs = re.sub(r"^cxstream\*\d+", "cxstream", name).split("+")[1:]
    if any("=" not in pair for pair in pairs):
        raise ValueError(f"contender {name!r}: write settings as cxstream+NAME=VALUE (without CXSTREAM_)")
    return {f"CXSTREAM_{key.upper()}": value for key, _, value in (pair.partition("=") for pair in pairs)}


def variant_workers(name: str) -> int:
    """``cxstream*3``: three worker processes in one consumer group (each with its sink), to
    measure how throughput scales with workers; 1 otherwise."""
    match = re.match(r"^cxstream\*(\d+)", name)
    if match is None:
        return 1
    workers = int(match.group(1))
    if not 1 <= workers <= 32:
        raise ValueError(f"contender {name!r}: between 1 and 32 workers")
    return workers


def _expected(workload: Workload) -> Expected:
    cells = workload.expected_cells()
    return Expected(len(workload.messages), workload.touchpoints, workload.distinct_feedback,
                    sum(sum(c) for c in cells.values()), cells)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in
                         ("faust-streaming", "aiokafka", "quixstreams", "confluent-kafka", "fastavro",
                          "rocksdict", "clickhouse-driver"))
    return (f"{os.cpu_count()} vCPU ({model}), {_mem_gib():.0f} GiB, {platform.platform()}, "
            f"CPython {platform.python_version()}; {versions}; load average at start "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _mem_gib() -> float:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--touchpoints", type=int, default=200_000)
    parser.add_argument("--feedback-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--latency-rate", type=float, default=100.0, help="pairs/s for the latency run (0 = skip)")
    parser.add_argument("--latency-seconds", type=float, default=40.0)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw profiles of quix and cxstream here")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds each contender may take")
    parser.add_argument("--out", type=Path, default=Path(".cxstream/bench/report.md"))
    args = parser.parse_args()
    header = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {machine()}"
    print(header, flush=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    # Like the test suite: start Kafka and ClickHouse when they are not running, stop only that.
    local = Stack(Settings.load({}))
    started = local.up().started
    try:
        report = run(args.touchpoints, args.feedback_share, args.seed, tuple(args.contenders.split(",")),
                     args.latency_rate, args.latency_seconds, args.profile, args.timeout)
    finally:
        if started:
            local.down(started)
    text = report.table()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"{header}\n\n`python -m benchmarks.bench --touchpoints {args.touchpoints} "
                        f"--feedback-share {args.feedback_share:g} --seed {args.seed}`\n\n{text}\n")
    print(f"written to {args.out}")
    if report.differences:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
