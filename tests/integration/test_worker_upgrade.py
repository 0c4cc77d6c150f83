"""A worker id holding state in an earlier layout refuses to start, and says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from cxstream.config import Settings
from cxstream.stack.manager import StackStatus
from cxstream.topics import ensure_topics
from tests.support.cleanup import delete_prefixed_topics


def test_a_worker_id_with_a_retired_table_layout_refuses_to_start(stack: StackStatus, settings: Settings,
                                                                   tmp_path: Path) -> None:
    prefix = f"u{uuid.uuid4().hex[:8]}."
    values = {"topic_prefix": prefix, "worker_id": "cxw", "state_dir": str(tmp_path), "metrics_port": "0",
              "sink_enabled": "false"}
    env = {**os.environ, **{f"CXSTREAM_{k.upper()}": v for k, v in values.items()}}
    mine = Settings.load({"topic_prefix": prefix, "kafka_port": settings.kafka_port},
                         environ={k: v for k, v in os.environ.items() if k == "CXSTREAM_KAFKA_BOOTSTRAP"})
    # What a worker of the earlier release left behind: the changelog of its per-domain cells.
    ensure_topics(mine, (mine.topic("cxw-score-cells-changelog"),), prefixed=True)
    try:
        done = subprocess.run([sys.executable, "-m", "cxstream.cli", "worker"], env=env, capture_output=True,
                              timeout=120)
    finally:
        delete_prefixed_topics(mine)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode != 0, output
    assert f"{prefix}cxw-score-cells-changelog" in output, output
    assert "CXSTREAM_WORKER_ID" in output and "CXSTREAM_CLICKHOUSE_DATABASE" in output, output
