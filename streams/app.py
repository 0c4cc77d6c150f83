"""The Faust app: configuration from Settings, and the topics every stage shares.

All topics have the same partition count, and every worker subscribes to the same set, so
Faust's assignor gives partition p of every topic (and of every table's changelog) to one worker:
the stages of one partition always run together.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust

from cxstream.config import Settings
from cxstream.kafka_clients import faust_credentials
from cxstream.streams.faust_tuning import QuietMonitor, disable_rocksdb_wal
from cxstream.vocabulary import (
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_FEEDBACK,
    TOPIC_DRIVER_SCORES,
    TOPIC_FEEDBACK_ENRICHED,
    TOPIC_SCORES,
    TOPIC_TOUCHPOINTS,
    TOPIC_TRUST_SCORES,
)


@dataclass(frozen=True)
class Topics:
    """Every topic a worker reads or writes, by role."""

    touchpoints: Any
    feedback: Any
    rekeyed: Any  # input that arrived on the wrong partition, forwarded to its home partition
    joined: Any  # feedback with its attribution, keyed by feedback_id (internal)
    partials: Any  # per-partition window states, keyed by window (internal)
    ticks: Any  # one tick per partition and interval, for periodic table work (internal)
    alert_input: Any  # merged window cells keyed by (agency, service), for the alert stage (internal)
    confirms: Any  # markers sent through the producer buffer to confirm it has drained (internal, never read)
    enriched: Any  # the storage feed: accepted feedback, one per feedback_id
    scores: Any
    trust_scores: Any  # the current A-11 form: the trust question per scale
    driver_scores: Any  # the current A-11 form: each driver
    alerts: Any
    deadletters: Any
    partitions: int


#: The worker's own topics, under ``<prefix><worker_id>.``, created before the worker starts.
INTERNAL_TOPICS = ("rekeyed", "joined", "partials", "ticks", "alert-input", "confirms")


def internal_topic_names(settings: Settings) -> tuple[str, ...]:
    """Names (before the topic prefix) of the worker's internal topics."""
    return tuple(f"{settings.worker_id}.{name}" for name in INTERNAL_TOPICS)


def worker_data_dir(settings: Settings) -> Path:
    """A data folder of this worker process alone, emptied at start.

    Faust's RocksDB store writes a table key locally before its changelog record is sent, so after
    a crash the local store can hold writes the changelog never got. Starting empty makes every
    start restore from the changelog, which is the state the committed offsets vouch for.
    """
    folder = settings.state_dir.resolve() / "worker" / settings.worker_id / f"{socket.gethostname()}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def create_app(settings: Settings, data_dir: Path) -> faust.App:
    """A Faust app for ``settings``: at-least-once, RocksDB tables (no write-ahead log: see
    streams/faust_tuning.py), no web server, no per-event statistics."""
    disable_rocksdb_wal()
    return faust.App(
        # The app id names the consumer group and every table's changelog topic, so it carries the
        # topic prefix too: two prefixes never share state.
        settings.topic(settings.worker_id),
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        broker_credentials=faust_credentials(settings),
        store="rocksdb://",
        datadir=str(data_dir),
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.topic_replication_factor,
        topic_allow_declare=True,
        # No leader election topic: cxstream never uses app.leader, and Faust declares that topic
        # without topic configs (no min.insync.replicas of its own on a replicated cluster).
        topic_disable_leader=True,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval_ms / 1000.0,
        # The heartbeat stays a third of the session timeout at most (Kafka's rule), 3 s by default.
        broker_session_timeout=float(settings.session_timeout_seconds),
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        producer_acks=-1,
        # Faust's default (0) sends a produce request per record: on the 2-core VM a quarter of the
        # worker's CPU went to socket writes (BENCHMARKS.md). A few ms batch them.
        producer_linger=settings.producer_linger_ms / 1000.0,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        Monitor=QuietMonitor,
    )


def table_options(settings: Settings) -> dict[str, int]:
    """RocksDB options of every table partition's database (one per table and partition).

    Faust's defaults are sized for one big database: 64 MiB memtables x 3 and a 2 GiB block cache
    *each*. A worker holds a database per table and partition (7 tables x 6 partitions by default), so
    those defaults allow tens of GiB; memory then grows with state until the OS says no."""
    mib = 1024 * 1024
    return {
        "write_buffer_size": settings.state_write_buffer_mb * mib,
        "max_write_buffer_number": 2,
        "block_cache_size": settings.state_block_cache_mb * mib,
    }


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """The contract's topics (which must exist) and the worker's internal ones (created here)."""
    n = settings.partitions

    def internal(name: str) -> Any:
        return app.topic(settings.topic(f"{settings.worker_id}.{name}"), partitions=n, internal=True,
                         key_type=bytes, value_type=bytes)

    def external(name: str) -> Any:
        return app.topic(settings.topic(name), key_type=bytes, value_type=bytes)

    return Topics(
        touchpoints=external(TOPIC_TOUCHPOINTS),
        feedback=external(TOPIC_FEEDBACK),
        rekeyed=internal("rekeyed"),
        joined=internal("joined"),
        partials=internal("partials"),
        ticks=internal("ticks"),
        alert_input=internal("alert-input"),
        confirms=internal("confirms"),
        enriched=external(TOPIC_FEEDBACK_ENRICHED),
        scores=external(TOPIC_SCORES),
        trust_scores=external(TOPIC_TRUST_SCORES),
        driver_scores=external(TOPIC_DRIVER_SCORES),
        alerts=external(TOPIC_ALERTS),
        deadletters=external(TOPIC_DEADLETTER),
        partitions=n,
    )
