"""One of three Kafka brokers is SIGKILLed mid-stream and comes back: nothing acknowledged is lost.

The production shape of durability: every topic has three copies, two of which must have each
write (acks=all), so an acknowledged record survives the loss of any one broker, and the cluster
keeps taking writes while it is gone. The scenario runs on the local cluster (three
brokers, two ClickHouse replicas: tests/cluster/conftest.py); it kills the broker leading the most
partitions of the input topics, so leaderships (and maybe the group's coordinator) move while the
channel publishes and the worker consumes, produces and commits.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from cxstream.vocabulary import INPUT_TOPICS
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, fault_figures, scale
from tests.faults.test_broker_restart import RetryingChannel
from tests.faults.test_worker_kill import _differences
from tests.support.ground_truth import generate
from tests.support.stored import stored_differences
from tests.support.worker import WorkerRun, running_worker, wait_for

from .conftest import LocalCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

__all__ = ["fault_figures"]  # the fixture, imported so this scenario's figures join the table

KILLED_SECONDS = 20.0
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


def _admin(run: WorkerRun) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=run.settings.bootstrap_servers, request_timeout_ms=10000)


def _run_topics(run: WorkerRun) -> list[str]:
    """Every topic of the run: the contract's, the worker's internal ones and its changelogs."""
    admin = _admin(run)
    try:
        return sorted(t for t in admin.list_topics() if t.startswith(run.settings.topic_prefix))
    finally:
        admin.close()


def _durability_problems(run: WorkerRun, topics: list[str]) -> list[str]:
    """Topics with fewer than three replicas in a partition, or not requiring two in-sync replicas.
    Every topic must have min.insync.replicas=2 set on the topic itself (the brokers' default is 2
    as well: only the topic's own setting proves that cxstream asked for it)."""
    admin = _admin(run)
    try:
        problems = []
        for described in admin.describe_topics(topics):
            name = described["name"]
            if described["error_code"] or not described["partitions"]:
                problems.append(f"{name}: not described yet (error {described['error_code']})")
                continue
            factors = sorted({len(p["replica_nodes"]) for p in described["partitions"]})
            if factors != [REPLICATION_FACTOR]:
                problems.append(f"{name}: replication factors {factors}, expected {REPLICATION_FACTOR}")
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics],
                                         config_filter="all")["topic"]
        for name in topics:
            entry = configs[name].get("min.insync.replicas") or {}
            if (entry.get("value"), entry.get("config_source")) != (str(MIN_INSYNC_REPLICAS), "DYNAMIC_TOPIC_CONFIG"):
                problems.append(f"{name}: min.insync.replicas {entry.get('value')} from {entry.get('config_source')}, "
                                f"expected {MIN_INSYNC_REPLICAS} set on the topic")
        return problems
    finally:
        admin.close()


def _leaders(run: WorkerRun, topics: list[str]) -> dict[tuple[str, int], int]:
    """The leader broker of every partition of ``topics``."""
    admin = _admin(run)
    try:
        return {(d["name"], p["partition_index"]): p["leader_id"]
                for d in admin.describe_topics(topics) for p in d["partitions"]}
    finally:
        admin.close()


def _under_replicated(run: WorkerRun, topics: list[str]) -> list[str]:
    """Partitions of ``topics`` whose in-sync replicas are not all three (empty once caught up)."""
    admin = _admin(run)
    try:
        return [f"{d['name']}:{p['partition_index']} isr={p['isr_nodes']}" for d in admin.describe_topics(topics)
                for p in d["partitions"] if len(p["isr_nodes"]) < REPLICATION_FACTOR]
    finally:
        admin.close()


def test_scores_are_exact_when_a_broker_is_killed_mid_stream(
    local_cluster: LocalCluster, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    cluster = local_cluster.stack.kafka
    prefix = f"B{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=47, agency_prefix=prefix, touchpoints=500 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed", comments=True)
    fault_figures.events = len(dataset.messages)
    began = time.monotonic()
    with running_worker(local_cluster.settings, tmp_path, join_wait_seconds=300,
                        **local_cluster.worker_overrides) as run:
        assert run.settings.topic_replication_factor == REPLICATION_FACTOR
        assert run.settings.topic_min_insync_replicas == MIN_INSYNC_REPLICAS
        topics = _run_topics(run)
        inputs = [run.settings.topic(t) for t in INPUT_TOPICS]
        assert set(inputs) <= set(topics)
        assert any(t.endswith("-changelog") for t in topics), f"no changelog topics among {topics}"
        assert not (problems := _durability_problems(run, topics)), "\n".join(problems)

        leaders = _leaders(run, inputs)
        victim = cluster.node(Counter(leaders.values()).most_common(1)[0][0])
        led = sorted(tp for tp, leader in leaders.items() if leader == victim.node_id)

        channel = RetryingChannel(run, dataset, seconds=40 * scale())
        channel.thread.start()
        time.sleep(8)
        assert channel.thread.is_alive(), "the channel finished before the kill: the kill would not be mid-stream"
        victim.kill()
        fault_figures.faults = (f"broker {victim.node_id} of {len(cluster.nodes)} SIGKILLed for "
                                f"{KILLED_SECONDS:.0f} s (it led {len(led)} of {len(leaders)} input partitions)")
        time.sleep(KILLED_SECONDS)
        moved = _leaders(run, inputs)
        assert all(moved[tp] not in (victim.node_id, -1) for tp in led), \
            f"the input partitions broker {victim.node_id} led did not move to another broker: {moved}"
        assert run.process.poll() is None, "the worker stopped while a broker was down"
        victim.start()

        channel.thread.join(timeout=180)
        assert not channel.thread.is_alive(), "the channel could not publish after the broker was killed"
        fault_figures.faults += f"; the channel resent {channel.resent_chunks} unacknowledged chunks"
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=180,
                              what="exact scores after the broker kill")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        assert run.process.poll() is None, f"the worker exited with {run.process.returncode} after the broker kill"
        # The restarted broker caught up: every partition of the run has its three copies again.
        wait_for(lambda: not _under_replicated(run, _run_topics(run)), timeout=120,
                 what=f"broker {victim.node_id} to be back in sync on every partition")
    fault_figures.notes.append(f"took {time.monotonic() - began:.0f} s")
