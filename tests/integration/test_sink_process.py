"""`cxstream sink` beside a worker that runs without its sink: the views equal the input, and a
SIGTERM writes what is held, then exits 0 (Ctrl-C: 130)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Touchpoint
from cxstream.stack import StackStatus
from tests.support.ground_truth import generate
from tests.support.stored import view_differences
from tests.support.worker import running_worker, wait_for

pytestmark = pytest.mark.integration


def test_a_separate_sink_process_stores_exactly_what_the_worker_produced(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    prefix = f"P{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=9, agency_prefix=prefix, touchpoints=120, now_ms=int(time.time() * 1000), form="mixed")
    with running_worker(settings, tmp_path, join_wait_seconds=60, sink_enabled=False) as run:
        sink_log = tmp_path / "sink.log"
        with open(sink_log, "ab") as log:
            sink = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "sink"], env=run.env, stdout=log,
                                    stderr=subprocess.STDOUT)
        run.spawned.append(sink)
        for message in dataset.messages:
            if isinstance(message, Touchpoint):
                run.send_touchpoint(message)
            else:
                run.send_feedback(message)
        wait_for(lambda: not view_differences(run, dataset), timeout=120, what="the views to equal the input")
        assert "sink.started" not in run.log_text(), "the worker must not run a sink of its own here"

        sink.send_signal(signal.SIGTERM)
        assert sink.wait(timeout=30) == 0
        text = sink_log.read_text()
        assert '"sink.stopping"' in text and '"sink.stopped"' in text
        assert "Traceback" not in text
