"""A second worker joins mid-stream and the first leaves: state moves with the partitions, counts stay exact.

Marked ``rebalance``: it runs in ``make faults``, not in ``make test``. It passed locally, then
failed in a clean-clone CI run on 2026-11-25 (38 cells short of their expected counts: updates
lost across the hand-over). Until that is understood and fixed, exactness under rebalance is an
open defect of the streaming core (see docs/ARCHITECTURE.md, Known limits), not a proven property.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.support.ground_truth import generate
from tests.support.worker import running_worker, wait_for

from .test_worker_kill import _differences, _exact, _publish_slowly

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.rebalance]


def test_scores_are_exact_when_a_second_worker_joins_and_the_first_leaves(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    prefix = f"R{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=23, agency_prefix=prefix, touchpoints=600, now_ms=int(time.time() * 1000))
    with running_worker(settings, tmp_path, join_wait_seconds=300) as run:
        first = run.process
        sender = _publish_slowly(run, dataset, seconds=20)
        time.sleep(4)
        run.start()  # a second worker in the same group: the partitions are split
        second = run.process
        assert first.poll() is None and second.poll() is None
        time.sleep(6)
        first.terminate()  # the first one leaves (clean shutdown): its partitions move to the second
        first.wait(timeout=60)
        sender.join()
        try:
            wait_for(_exact(run, dataset, prefix), timeout=120, what="exact scores after the rebalances")
        except AssertionError:
            problems = _differences(run, dataset, prefix)
            raise AssertionError(f"{len(problems)} cells differ:\n" + "\n".join(problems[:30]))
        assert second.poll() is None
    assert isinstance(first, subprocess.Popen)
