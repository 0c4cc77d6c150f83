"""A channel's blind retry: the whole input published a second time changes no count."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, scale
from tests.support.ground_truth import generate
from tests.support.stored import export_differences, stored_differences
from tests.support.worker import running_worker, wait_for

from .test_worker_kill import _differences, _exact, _publish_slowly

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_the_same_input_published_twice_counts_once_in_kafka_and_in_clickhouse(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"D{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=41, agency_prefix=prefix, touchpoints=250 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed", comments=True)
    fault_figures.events = 2 * len(dataset.messages)
    fault_figures.faults = "the whole input published twice"
    with running_worker(settings, tmp_path, join_wait_seconds=120) as run:
        _publish_slowly(run, dataset, seconds=3).join()
        wait_for(_exact(run, dataset, prefix), timeout=120, what="exact scores after the first copy")
        _publish_slowly(run, dataset, seconds=3).join()
        # The second copy goes through the join and dedupe but counts nothing: wait until the worker
        # has committed all of it, then the scores must still be exact.
        wait_for(run.drained, timeout=120, what="the worker to commit the second copy")
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=0.1,
                              what="exact scores after the second copy")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        expect_no_differences(fault_figures, lambda: export_differences(run, dataset, tmp_path), timeout=30,
                              what="the current form's quarterly export to equal the input, byte for byte")

