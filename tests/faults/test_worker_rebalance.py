"""Workers join and leave mid-stream: state moves with the partitions, counts stay exact.

Each round starts another worker in the same group (the partitions are split between two) and
then stops the older one with SIGTERM (its partitions move to the newer one): two rebalances per
round, one round in `make test`, more in `make faults` (CXSTREAM_FAULTS_SCALE). The sink's own
group moves with them, so ClickHouse is checked too.

History: with Faust's own commit bookkeeping this failed under CPU load (4 to 38 cells short);
cxstream's commit positions (streams/acking.py) fixed it, see docs/ARCHITECTURE.md.
"""

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
from tests.support.stored import stored_differences
from tests.support.worker import running_worker

from .test_worker_kill import _differences, _publish_slowly

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_scores_are_exact_when_workers_join_and_leave(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"R{uuid.uuid4().hex[:6]}"
    rounds = scale()
    dataset = generate(seed=23, agency_prefix=prefix, touchpoints=600 * rounds, now_ms=int(time.time() * 1000),
                       form="mixed")
    fault_figures.events = len(dataset.messages)
    with running_worker(settings, tmp_path, join_wait_seconds=300) as run:
        sender = _publish_slowly(run, dataset, seconds=20 * rounds)
        for done in range(1, rounds + 1):
            older = run.process
            time.sleep(4)
            run.start()  # another worker in the same group: the partitions are split
            assert older.poll() is None and run.process.poll() is None
            time.sleep(6)
            older.terminate()  # the older one leaves (clean shutdown): its partitions move
            older.wait(timeout=60)
            assert older.returncode == 0, f"the leaving worker exited with {older.returncode}"
            fault_figures.faults = f"{done} join(s) + {done} leave(s): {2 * done} rebalances"
        sender.join()
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=120,
                              what="exact scores after the rebalances")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=120,
                              what="ClickHouse to equal the input")
        assert run.process.poll() is None
