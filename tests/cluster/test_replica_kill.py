"""The ClickHouse replica the sink writes to is SIGKILLed mid-stream and comes back a while later:
the sink fails over to the other replica, and once the killed one has caught up, the views on
BOTH replicas equal the input exactly: nothing lost, nothing doubled.

It runs on the local cluster (tests/cluster/conftest.py: three Kafka brokers, ZooKeeper and two
ClickHouse replicas, stack/clickhouse_cluster.py). The replica stays
down CXSTREAM_CLUSTER_OUTAGE_SECONDS (30 s by default; 60 for a soak), long enough for several
of the sink's inserts (one per table per second) to need the other replica.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from functools import partial
from pathlib import Path

import pytest

from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, fault_figures, scale  # noqa: F401 - fault_figures is a fixture
from tests.faults.test_worker_kill import _publish_slowly
from tests.support.cleanup import drop_database
from tests.support.ground_truth import generate
from tests.support.stored import stored_differences
from tests.support.worker import WorkerRun, running_worker, wait_for

from .conftest import LocalCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

OUTAGE_SECONDS = float(os.environ.get("CXSTREAM_CLUSTER_OUTAGE_SECONDS", "30"))
#: Every table the migrations create holds data, so every one must be Replicated in cluster mode.
STORE_TABLES = {"touchpoints_store", "feedback_store", "domain_scores_store", "dead_letters_store", "view_settings",
                "alerts_store", "trust_scores_store", "driver_scores_store"}


def _on(run: WorkerRun, port: int) -> WorkerRun:
    """``run`` whose queries go to the replica at ``port`` (run.query reaches one server, no failover)."""
    return dataclasses.replace(run, settings=dataclasses.replace(run.settings, clickhouse_port=port))


def _replicated_tables(node: WorkerRun) -> set[str]:
    rows = node.query("SELECT table FROM system.replicas WHERE database = '{db}' AND total_replicas = 2")
    return {table for (table,) in rows}


def _rows(node: WorkerRun) -> int:
    try:
        return int(node.query("SELECT count() FROM {db}.feedback_store")[0][0])
    except Exception:  # noqa: BLE001 - the replica is down or has no table yet
        return -1


def test_the_replica_written_to_is_killed_and_both_replicas_end_exact(
    local_cluster: LocalCluster, tmp_path: Path,
    fault_figures: FaultFigures,  # noqa: F811 - the fixture imported above
) -> None:
    first, second = local_cluster.stack.clickhouse.replicas
    prefix = f"R{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=23, agency_prefix=prefix, touchpoints=400 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed", comments=True)
    fault_figures.events = len(dataset.messages)
    began = time.monotonic()
    database = ""
    try:
        with running_worker(local_cluster.settings, tmp_path, join_wait_seconds=300,
                            **local_cluster.worker_overrides) as run:
            assert (run.settings.clickhouse_port, run.settings.clickhouse_replicas) == \
                (first.port, f"127.0.0.1:{second.port}"), "the sink must write to replica 1 first"
            database = run.settings.clickhouse_database
            nodes = {"replica 1": _on(run, first.port), "replica 2": _on(run, second.port)}
            wait_for(lambda: "sink.started" in run.log_text(), timeout=120, what="the sink to migrate both replicas")
            for name, node in nodes.items():
                assert _replicated_tables(node) == STORE_TABLES, f"{name}: the store tables are not all Replicated"

            sender = _publish_slowly(run, dataset, seconds=30)
            wait_for(lambda: _rows(nodes["replica 1"]) > 0, timeout=60, what="the sink's first rows on replica 1")
            first.kill()
            killed = time.monotonic()
            before = _rows(nodes["replica 2"])
            while time.monotonic() - killed < OUTAGE_SECONDS:
                assert run.process.poll() is None, "the worker must fail over, not exit"
                time.sleep(1)
            during = _rows(nodes["replica 2"])
            fault_figures.faults = (f"replica 1 of 2 SIGKILLed for {OUTAGE_SECONDS:.0f} s mid-stream; "
                                    f"replica 2 took {during - before} feedback rows meanwhile")
            assert during > before, "nothing reached replica 2 while replica 1 was down: the sink did not fail over"
            changes = [line for line in run.log_text().splitlines() if "sink.clickhouse_server_changed" in line]
            assert any(f'"server": "127.0.0.1:{second.port}"' in line for line in changes), \
                "the sink did not log its failover to replica 2"
            first.start()
            sender.join()
            for name, node in nodes.items():
                expect_no_differences(fault_figures, partial(stored_differences, node, dataset), timeout=240,
                                      what=f"ClickHouse on {name} to equal the input")
            for name, node in nodes.items():
                assert _replicated_tables(node) == STORE_TABLES, f"{name}: a store table stopped replicating"
            assert run.process.poll() is None
            fault_figures.notes.append(f"took {time.monotonic() - began:.0f} s")
    finally:
        if database:  # running_worker dropped it on both; again in case the worker never started
            drop_database(local_cluster.settings, database)


ZOOKEEPER_OUTAGE_SECONDS = 20.0


def test_zookeeper_away_mid_stream_the_sink_waits_and_both_replicas_end_exact(
    local_cluster: LocalCluster, tmp_path: Path,
    fault_figures: FaultFigures,  # noqa: F811 - the fixture imported above
) -> None:
    """Without ZooKeeper a replicated table takes no insert (it cannot number or register a part):
    the sink must hold its batch and retry, not crash, and lose nothing once ZooKeeper is back."""
    zookeeper = local_cluster.stack.clickhouse.zookeeper
    first, second = local_cluster.stack.clickhouse.replicas
    prefix = f"Z{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=29, agency_prefix=prefix, touchpoints=300 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed")
    fault_figures.events = len(dataset.messages)
    database = ""
    try:
        with running_worker(local_cluster.settings, tmp_path, join_wait_seconds=300,
                            **local_cluster.worker_overrides) as run:
            database = run.settings.clickhouse_database
            nodes = {"replica 1": _on(run, first.port), "replica 2": _on(run, second.port)}
            wait_for(lambda: "sink.started" in run.log_text(), timeout=120, what="the sink to migrate both replicas")
            sender = _publish_slowly(run, dataset, seconds=25)
            wait_for(lambda: _rows(nodes["replica 1"]) > 0, timeout=60, what="the sink's first rows on replica 1")
            zookeeper.stop()
            stopped = time.monotonic()
            wait_for(lambda: "sink.clickhouse_unavailable" in run.log_text(), timeout=60,
                     what="the sink to find the replicated tables refusing inserts")
            while time.monotonic() - stopped < ZOOKEEPER_OUTAGE_SECONDS:
                assert run.process.poll() is None, "the worker must wait for ZooKeeper, not exit"
                time.sleep(1)
            fault_figures.faults = f"ZooKeeper stopped for {ZOOKEEPER_OUTAGE_SECONDS:.0f} s mid-stream"
            zookeeper.start()
            sender.join()
            for name, node in nodes.items():
                expect_no_differences(fault_figures, partial(stored_differences, node, dataset), timeout=240,
                                      what=f"ClickHouse on {name} to equal the input")
            assert run.process.poll() is None
    finally:
        if database:
            drop_database(local_cluster.settings, database)
