"""SIGKILL the worker mid-stream, several times, restart it: the scores equal the input's exactly."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaProducer

from cxstream.config import Settings
from cxstream.schemas.records import Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, scale
from tests.support.ground_truth import Dataset, generate
from tests.support.stored import export_differences, stored_differences
from tests.support.worker import WorkerRun, running_worker

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _publish_slowly(run: WorkerRun, dataset: Dataset, seconds: float) -> threading.Thread:
    """Send the dataset over ``seconds`` from a thread, so kills land mid-stream."""
    def send() -> None:
        producer = KafkaProducer(bootstrap_servers=run.settings.bootstrap_servers, acks="all", linger_ms=5)
        pause = seconds / max(len(dataset.messages), 1)
        for message in dataset.messages:
            if isinstance(message, Touchpoint):
                producer.send(run.settings.topic(TOPIC_TOUCHPOINTS), key=message.touchpoint_id.encode(),
                              value=run.codec.encode("Touchpoint", message.to_avro()))
            else:
                producer.send(run.settings.topic(TOPIC_FEEDBACK), key=message.kafka_key,
                              value=run.codec.encode("Feedback", message.to_avro()))
            time.sleep(pause)
        producer.flush()
        producer.close()

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _differences(run: WorkerRun, dataset: Dataset, prefix: str) -> list[str]:
    """The scores topics against the ground truth, cell by cell: domains, and the current form's
    trust (per scale) and drivers."""
    domains = {k: (s.count_1, s.count_2, s.count_3, s.count_4, s.count_5)
               for k, s in run.scores().items() if k[1].startswith(prefix)}
    trust = {k: (s.count_0, s.count_1, s.count_2, s.count_3, s.count_4, s.count_5)
             for k, s in run.trust_scores().items() if k[1].startswith(prefix)}
    drivers = {k: (s.offered, s.went_well, s.did_not_go_well)
               for k, s in run.driver_scores().items() if k[1].startswith(prefix)}
    problems = []
    for name, actual, expected in (("domain", domains, dataset.expected), ("trust", trust, dataset.expected_trust),
                                   ("driver", drivers, dataset.expected_drivers)):
        problems += [f"{name} {key}: expected {want}, got {actual.get(key)}" for key, want in expected.items()
                     if actual.get(key) != want]
        problems += [f"{name} {key}: unexpected cell {got}" for key, got in actual.items() if key not in expected]
    return problems


def _exact(run: WorkerRun, dataset: Dataset, prefix: str) -> Callable[[], bool]:
    return lambda: not _differences(run, dataset, prefix)


def test_scores_are_exact_after_repeated_sigkill_and_restart(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"K{uuid.uuid4().hex[:6]}"
    # Mixed traffic: the 2019-2023 form, the current one (thumbs and five-point), and both in one.
    dataset = generate(seed=11, agency_prefix=prefix, touchpoints=600 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed", comments=True)
    fault_figures.events = len(dataset.messages)
    rng = random.Random(5)
    # A long commit interval leaves many processed-but-uncommitted events at each kill, whose
    # state changes may already be in the changelogs: the replay must not count them again.
    with running_worker(settings, tmp_path, join_wait_seconds=300, commit_interval_ms=8000) as run:
        sender = _publish_slowly(run, dataset, seconds=20 * scale())
        kills = 0
        while sender.is_alive() or kills < 2 * scale():
            time.sleep(rng.uniform(2.0, 5.0))
            run.kill()
            kills += 1
            fault_figures.faults = f"{kills} SIGKILLs of the worker"
            run.start()
        sender.join()
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=120,
                              what=f"exact scores after {kills} kills")
        # The sink was killed too, mid-batch: ClickHouse must show every fact exactly once.
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        expect_no_differences(fault_figures, lambda: export_differences(run, dataset, tmp_path), timeout=30,
                              what="the current form's quarterly export to equal the input, byte for byte")
    assert kills >= 2 * scale()
    assert len(dataset.expected) > 50
