"""The three contenders, each run as a process of its own on the loaded topics from a fresh group.

Each is timed from its first event processed to the moment its scored results are visible:
- ceiling: its own first and last decoded message;
- quix: the first message its deserializer saw, until its output topic holds the expected answer
  total (read by a consumer here);
- cxstream: the first record any stage wrote (the earliest timestamp in the worker's changelog and
  internal topics, ticks excluded), until ClickHouse's views hold every touchpoint, every feedback
  and the expected answer total.
A workload without feedback (memory with touchpoints in join state) has no answers to wait for:
Quix and cxstream are then done when their group has committed every input offset.
"""

from __future__ import annotations

import json
import uuid
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clickhouse_driver import Client
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import CoordinatorNotAvailableError, NotCoordinatorError

from benchmarks.peers.quix_output import QuixOutput
from benchmarks.rss import peak_rss_bytes, rss_bytes, tree_peak_rss_bytes, tree_rss_bytes
from benchmarks.workload import CellKey, Counts
from cxstream.config import Settings
from cxstream.sinks.connection import clickhouse_client
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support import cleanup
from tests.support.cleanup import drop_database, stop_process

POLL_SECONDS = 0.25


@dataclass
class Expected:
    """What a complete run shows: input messages, stored rows, answers scored, and the cells."""

    messages: int
    touchpoints: int
    feedback: int
    answers: int
    cells: dict[CellKey, Counts]


@dataclass
class Outcome:
    """One contender's run: events over the timed span, memory, and the cells it scored."""

    name: str
    events: int
    seconds: float
    peak_rss: int
    end_rss: int
    cells: dict[CellKey, Counts] | None = None
    #: Records the contender wrote to Kafka, by topic (changelogs, internal topics, outputs).
    written: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Profiler:
    """py-spy attached to a contender's process for its timed span (raw collapsed stacks)."""

    def __init__(self, pid: int, out: Path, rate: int = 50) -> None:
        self.out = out
        self._process = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--rate", str(rate), "--subprocesses",
             "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def run_ceiling(settings: Settings, prefix: str, token: str, expected: Expected, timeout: float) -> Outcome:
    topics = f"{prefix}{TOPIC_TOUCHPOINTS},{prefix}{TOPIC_FEEDBACK}"
    done = subprocess.run([sys.executable, "-m", "benchmarks.ceiling", "--bootstrap", settings.bootstrap_servers,
                           "--topics", topics, "--group", f"{token}.ceiling", "--expect", str(expected.messages),
                           "--timeout", str(timeout)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["messages"] != expected.messages:
        raise RuntimeError(f"ceiling read {result['messages']} of {expected.messages} messages within {timeout}s")
    return Outcome("ceiling (aiokafka + fastavro decode)", result["messages"], result["last"] - result["first"],
                   result["peak_rss"], result["peak_rss"])


def run_quix(settings: Settings, prefix: str, token: str, workdir: Path, expected: Expected, timeout: float,
             profile: Path | None = None) -> Outcome:
    output = f"{token}.quix.scores"
    group = f"{token}.quix"
    first_file = workdir / "quix-first-event"
    log = open(workdir / "quix.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.peers.quix_scores", "--bootstrap", settings.bootstrap_servers,
         "--prefix", prefix, "--group", group, "--output", output, "--state-dir", str(workdir / "quix-state"),
         "--first-event-file", str(first_file), "--partitions", str(settings.partitions)],
        stdout=log, stderr=subprocess.STDOUT)
    profiler = Profiler(process.pid, profile) if profile else None
    reader = QuixOutput(settings.bootstrap_servers, output, f"{token}.quix-reader")
    try:
        deadline = time.monotonic() + timeout
        while not (reader.total_answers() >= expected.answers if expected.answers
                   else inputs_committed(settings, group, prefix)):
            _alive_or_fail(process, "the Quix peer", workdir / "quix.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Quix peer: {reader.total_answers()} of {expected.answers} answers after {timeout}s")
            reader.poll(POLL_SECONDS)
        finished = time.time()
        peak, now = peak_rss_bytes(process.pid), rss_bytes(process.pid)
        if profiler:
            profiler.stop()
        stop_process(process, timeout=60)  # Quix writes its changelogs at each checkpoint: count them after the last one
        reader.poll(1.0)  # anything more would be a double count: it shows in the comparison
        first = float(first_file.read_text())
        return Outcome("Quix Streams 3.28 (join + windows)", expected.messages, finished - first, peak, now,
                       reader.cells(), records_written(settings, lambda t: group in t))
    finally:
        reader.close()
        stop_process(process, timeout=60)
        log.close()


def run_cxstream(settings: Settings, prefix: str, token: str, workdir: Path, expected: Expected, timeout: float,
                 profile: Path | None = None, variant: dict[str, str] | None = None, workers: int = 1) -> Outcome:
    """The worker (``workers`` processes in one group, each with its sink) from its first write to
    ClickHouse holding every input's effect, and only after it committed every input record."""
    worker_id = "cxw" + uuid.uuid4().hex[:4]  # not "cx": the contract topics start with "<prefix>cx."
    database = f"cx_{token}_{worker_id}"
    env = dict(os.environ, CXSTREAM_TOPIC_PREFIX=prefix, CXSTREAM_WORKER_ID=worker_id,
               CXSTREAM_CLICKHOUSE_DATABASE=database, CXSTREAM_STATE_DIR=str((workdir / "cx-state").resolve()),
               CXSTREAM_METRICS_PORT="0", CXSTREAM_LOG_FORMAT="json",
               CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers, CXSTREAM_PARTITIONS=str(settings.partitions),
               CXSTREAM_CLICKHOUSE_HOST=settings.clickhouse_host, CXSTREAM_CLICKHOUSE_PORT=str(settings.clickhouse_port),
               CXSTREAM_CLICKHOUSE_USER=settings.clickhouse_user,
               CXSTREAM_CLICKHOUSE_PASSWORD=settings.clickhouse_password, **(variant or {}))
    # Another checkout's code (cxstream@PATH): run from there, or `-m` would import this one.
    where = (variant or {}).get("PYTHONPATH")
    log_paths = [workdir / f"cxstream-{worker_id}-{n}.log" for n in range(workers)]
    logs = [open(path, "wb") for path in log_paths]
    processes = [subprocess.Popen([sys.executable, "-m", "cxstream.cli", "worker"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, cwd=where) for log in logs]
    process = processes[0]
    # SINK_ENABLED=false in a variant: the sink runs beside the worker as `cxstream sink`.
    sink_log_path = workdir / f"cxstream-{worker_id}-sink.log"
    sink_log = open(sink_log_path, "wb")
    separate = (variant or {}).get("CXSTREAM_SINK_ENABLED", "").lower() in ("false", "0", "no")
    sink = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "sink"], env=env, stdout=sink_log,
                            stderr=subprocess.STDOUT) if separate else None
    profiler = Profiler(process.pid, profile) if profile else None
    client = clickhouse_client(settings, "cxstream-bench")
    try:
        deadline = time.monotonic() + timeout
        totals: tuple[int, int, int] | None = None
        want = (expected.touchpoints, expected.feedback, expected.answers)
        while totals != want:
            for each, each_log in zip(processes, log_paths, strict=True):
                _alive_or_fail(each, "the cxstream worker", each_log)
            if sink is not None:
                _alive_or_fail(sink, "the cxstream sink", sink_log_path)
            if time.monotonic() > deadline:
                raise RuntimeError(f"cxstream: (touchpoints, feedback, answers) {totals}, want {want} after {timeout}s")
            time.sleep(POLL_SECONDS)
            totals = _stored_totals(client, database)
            if totals == want and not expected.answers and not inputs_committed(settings, prefix + worker_id, prefix):
                totals = None  # nothing to score: done when the join has committed every input
        finished = time.time()
        # The totals must come from this worker's own work: it has read every input record.
        committed_by = time.monotonic() + 60
        while not inputs_committed(settings, prefix + worker_id, prefix):
            for each, each_log in zip(processes, log_paths, strict=True):
                _alive_or_fail(each, "the cxstream worker", each_log)
            if time.monotonic() > committed_by:
                raise RuntimeError("cxstream: ClickHouse has the totals but the worker has not read all its "
                                   "input: the rows came from another run's topics")
            time.sleep(POLL_SECONDS)
        # Several processes, each with its sink's process (CXSTREAM_SINK_PROCESS=child): their sum.
        peak = sum(tree_peak_rss_bytes(each.pid) for each in processes)
        now = sum(tree_rss_bytes(each.pid) for each in processes)
        if sink is not None:  # a separate sink too
            peak, now = peak + peak_rss_bytes(sink.pid), now + rss_bytes(sink.pid)
        if profiler:
            profiler.stop()
        first = _first_write(settings, prefix + worker_id)
        cells = _stored_cells(client, database)
        for each in processes:
            stop_process(each, timeout=60)
        inputs = {prefix + TOPIC_TOUCHPOINTS, prefix + TOPIC_FEEDBACK}
        written = records_written(settings, lambda t: t.startswith(prefix + "cx") and t not in inputs)
        label = " ".join(f"{key.removeprefix('CXSTREAM_').lower()}={value}" for key, value in (variant or {}).items())
        name = ("cxstream worker + sink (into ClickHouse)" if workers == 1
                else f"cxstream, {workers} workers + sinks (into ClickHouse)") + (f", {label}" if label else "")
        return Outcome(name, expected.messages, finished - first, peak, now, cells, written)
    finally:
        client.disconnect()
        for each, log in zip(processes, logs, strict=True):
            stop_process(each, timeout=60)
            log.close()
        if sink is not None:
            stop_process(sink, timeout=60)
        sink_log.close()
        drop_database(settings, database)


def _stored_totals(client: Client, database: str) -> tuple[int, int, int] | None:
    try:
        (tps,), = client.execute(f"SELECT count() FROM {database}.touchpoints")
        (fbs,), = client.execute(f"SELECT count() FROM {database}.feedback")
        (answers,), = client.execute(f"SELECT sum(responses) FROM {database}.domain_scores")
    except Exception:  # noqa: BLE001 - the sink creates the database and views when it starts
        return None
    return int(tps), int(fbs), int(answers)


def _stored_cells(client: Client, database: str) -> dict[CellKey, Counts]:
    rows = client.execute(
        "SELECT toUInt64(toUnixTimestamp(window_start)) * 1000, agency, service, channel, domain, "
        f"count_1, count_2, count_3, count_4, count_5 FROM {database}.domain_scores")
    return {(int(r[0]), r[1], r[2], r[3], r[4]): (r[5], r[6], r[7], r[8], r[9]) for r in rows}


def _first_write(settings: Settings, app_prefix: str) -> float:
    """Wall time of the earliest record the worker's stages wrote (changelogs, internal topics)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        topics = [t for t in consumer.topics() if t.startswith(app_prefix) and not t.endswith(".ticks")]
        parts = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        found = consumer.offsets_for_times({tp: 0 for tp in parts})
        stamps = [v.timestamp for v in found.values() if v is not None]
    finally:
        consumer.close()
    if not stamps:
        raise RuntimeError(f"no records in the worker's topics {app_prefix}*")
    return min(stamps) / 1000


def records_written(settings: Settings, mine: Callable[[str], bool]) -> dict[str, int]:
    """Records in each topic ``mine`` accepts (end minus beginning offsets, all partitions)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        topics = [t for t in consumer.topics() if mine(t)]
        parts = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends, starts = consumer.end_offsets(parts), consumer.beginning_offsets(parts)
    finally:
        consumer.close()
    written: dict[str, int] = {}
    for tp in parts:
        written[tp.topic] = written.get(tp.topic, 0) + ends[tp] - starts[tp]
    return written


def inputs_committed(settings: Settings, group: str, prefix: str) -> bool:
    """True once ``group`` has committed the end offset of every partition of both input topics."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        try:
            committed = admin.list_group_offsets(group).get(group, {})
        except (CoordinatorNotAvailableError, NotCoordinatorError):
            return False  # a fresh broker creates its offsets topic with the first group: not yet
        tps = [TopicPartition(prefix + t, p) for t in (TOPIC_TOUCHPOINTS, TOPIC_FEEDBACK)
               for p in range(settings.partitions)]
        ends = consumer.end_offsets(tps)
        return all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def _alive_or_fail(process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    if process.poll() is not None:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{what} exited with {process.returncode}; end of {log}:\n{tail}")


def delete_topics(settings: Settings, token: str) -> None:
    """Every topic of the run (inputs, cxstream's and Quix's internal ones all carry the token)."""
    cleanup.delete_topics(settings, lambda topic: token in topic)


def compare(name: str, cells: dict[CellKey, Counts] | None, want: dict[CellKey, Counts],
            describe: Callable[[Any], str] = str) -> list[str]:
    """Cells of a contender that differ from the expected ones (empty when exact)."""
    if cells is None:
        return []
    problems = [f"{name}: {describe(k)} expected {v}, got {cells.get(k)}" for k, v in want.items() if cells.get(k) != v]
    return problems + [f"{name}: {describe(k)} unexpected {v}" for k, v in cells.items() if k not in want]
