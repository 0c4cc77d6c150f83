"""Three workers share the six partitions; one is SIGKILLed mid-stream: the other two take its
partitions over (restoring its state from the changelogs) and the counts stay exact.

The group must really be split three ways before the kill (checked on the broker, not assumed
from the workers' logs), or the scenario would test one worker dying alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from cxstream.config import Settings
from cxstream.vocabulary import TOPIC_TOUCHPOINTS
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, fault_figures, scale  # noqa: F401 - fault_figures is a fixture
from tests.faults.test_worker_kill import _differences, _publish_slowly
from tests.support.ground_truth import generate
from tests.support.stored import stored_differences
from tests.support.worker import WorkerRun, running_worker, wait_for

from .conftest import LocalCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

PARTITIONS = 6

# kafka-python decodes each member's metadata as the plain consumer protocol and warns on every
# call that Faust's (its own user data) does not decode; the assignments, read below, do.
logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)


def _assignments(run: WorkerRun) -> list[int]:
    """How many input partitions each member of the worker's consumer group holds, sorted."""
    group = run.settings.topic(run.settings.worker_id)
    admin = KafkaAdminClient(bootstrap_servers=run.settings.bootstrap_servers.split(","), client_id="cxstream-test")
    try:
        described = admin.describe_groups([group])[group]
    finally:
        admin.close()
    touchpoints = run.settings.topic(TOPIC_TOUCHPOINTS)
    counts = []
    for member in described["members"]:
        assigned = (member.get("member_assignment") or {}).get("assigned_partitions") or []
        counts.append(sum(len(entry["partitions"]) for entry in assigned if entry["topic"] == touchpoints))
    return sorted(counts)


def test_scores_are_exact_when_one_of_three_workers_is_killed(
    local_cluster: LocalCluster, settings: Settings, tmp_path: Path, fault_figures: FaultFigures  # noqa: F811
) -> None:
    prefix = f"W{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=41, agency_prefix=prefix, touchpoints=900 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed")
    fault_figures.events = len(dataset.messages)
    with running_worker(local_cluster.settings, tmp_path, join_wait_seconds=300, partitions=PARTITIONS,
                        **local_cluster.worker_overrides) as run:
        # A third of the input flows while the other two workers join; the rest starts once the
        # group is split three ways, so the kill lands mid-stream however slow the joins are.
        third_of = len(dataset.messages) // 3
        joining = _publish_slowly(run, dataclasses.replace(dataset, messages=dataset.messages[:third_of]),
                                  seconds=15 * scale())
        run.start()
        run.start()
        first, second, third = run.spawned
        wait_for(lambda: _assignments(run) == [2, 2, 2], timeout=90,
                 what="the six input partitions split 2/2/2 over the three workers")
        joining.join()
        sender = _publish_slowly(run, dataclasses.replace(dataset, messages=dataset.messages[third_of:]),
                                 seconds=40 * scale())
        time.sleep(8)
        assert sender.is_alive(), "the input was all published before the kill: the kill would not be mid-stream"
        second.kill()  # no flush, no commit, no leave-group: the group notices by its session timeout
        second.wait()
        fault_figures.faults = "1 of 3 workers SIGKILLed mid-stream"
        wait_for(lambda: sorted(_assignments(run)) == [3, 3], timeout=90,
                 what="the killed worker's partitions to move to the other two")
        sender.join()
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=180,
                              what="exact scores after the kill")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        assert first.poll() is None and third.poll() is None, "the surviving workers must keep running"
