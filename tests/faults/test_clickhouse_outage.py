"""ClickHouse stops during ingestion and starts again: nothing is lost, the
worker keeps processing and waits, its memory stays bounded, and a worker killed during the
outage loses nothing its sink had read but not yet written.

The scenario stops a ClickHouse server of its own (tests/support/private_stack.py); the shared
one serves every other run. tests/integration/test_sink.py covers the other shape of outage, a
network that stops answering (a proxy), in a few seconds. The outage lasts 20 s in `make test` and
a minute in `make faults` (CXSTREAM_FAULTS_OUTAGE_SECONDS): long enough, either way, for the sink
to fail, back off, hold its batch and be killed with it.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures, scale
from tests.support.ground_truth import generate
from tests.support.private_stack import private_clickhouse
from tests.support.stored import stored_differences
from tests.support.worker import WorkerRun, running_worker, wait_for

from .test_worker_kill import _differences, _publish_slowly

pytestmark = [pytest.mark.integration, pytest.mark.faults]

OUTAGE_SECONDS = float(os.environ.get("CXSTREAM_FAULTS_OUTAGE_SECONDS", "20"))
#: What the worker may grow by while ClickHouse is away: the sink holds one batch, not the stream.
MAX_GROWTH_MIB = 150


def _rss_mib(run: WorkerRun) -> float:
    for line in Path(f"/proc/{run.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS for the worker")


def test_a_clickhouse_outage_and_a_kill_in_it_lose_nothing_and_memory_stays_bounded(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"C{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=17, agency_prefix=prefix, touchpoints=400 * scale(), now_ms=int(time.time() * 1000),
                       form="mixed")
    fault_figures.events = len(dataset.messages)
    with private_clickhouse(settings, tmp_path / "clickhouse") as server, \
            running_worker(server.settings, tmp_path, join_wait_seconds=300) as run:
        wait_for(lambda: "sink.started" in run.log_text(), timeout=60, what="the sink to migrate and start")
        sender = _publish_slowly(run, dataset, seconds=OUTAGE_SECONDS)  # ingestion spans the outage
        time.sleep(2)
        server.stop()
        # Halfway through, the worker is killed and restarted (a pod rescheduled during the outage):
        # whatever its sink had read but not written must be read again, not committed and lost.
        growth = 0.0
        for half in ("before the kill", "after the restart"):
            started = time.monotonic()
            baseline = peak = _rss_mib(run)
            while time.monotonic() - started < OUTAGE_SECONDS / 2:
                peak = max(peak, _rss_mib(run))
                assert run.process.poll() is None, f"the worker must wait for ClickHouse, not exit ({half})"
                time.sleep(1)
            growth = max(growth, peak - baseline)
            assert "sink.clickhouse_unavailable" in run.log_text(), "the sink did not notice the outage"
            if half == "before the kill":
                run.kill()
                run.start()
        fault_figures.faults = f"ClickHouse stopped {OUTAGE_SECONDS:.0f} s, worker SIGKILLed in it; RSS +{growth:.0f} MiB"
        server.start()
        sender.join()
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=180,
                              what="exact scores in Kafka")
        expect_no_differences(fault_figures, lambda: stored_differences(run, dataset), timeout=180,
                              what="ClickHouse to equal the input after the outage")
        assert run.process.poll() is None
        assert growth < MAX_GROWTH_MIB, f"worker memory grew by {growth:.0f} MiB while ClickHouse was down"
