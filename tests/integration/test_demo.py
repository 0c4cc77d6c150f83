"""`make demo` in CI mode on the real stack, on topics and a database of its own: it reports the live
page and the first scores, exits 0 only when scores reached ClickHouse and the page, stops as soon
as they have (DEMO_SECONDS is only its limit), and leaves no process behind; without scores it
fails."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.support.clickhouse import local_client
from tests.support.cleanup import delete_prefixed_topics, drop_database

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_env(stack: StackStatus, settings: Settings) -> Iterator[tuple[dict[str, str], Settings]]:
    """Environment for a demo on fresh topics and a fresh database; both removed afterwards."""
    run_id = uuid.uuid4().hex[:8]
    own = {"topic_prefix": f"demo{run_id}.", "clickhouse_database": f"cx_demo{run_id}", "worker_id": f"demo{run_id}"}
    env = {**os.environ, **{f"CXSTREAM_{k.upper()}": v for k, v in own.items()},
           # The suite's partitions (2 unless set): a demo worker starts faster and stops sooner.
           "CXSTREAM_PARTITIONS": str(settings.partitions),
           "CXSTREAM_STATE_DIR": str(settings.state_dir), "CXSTREAM_METRICS_PORT": "0",
           "CXSTREAM_LOG_FORMAT": "json", "DEMO_PORT": str(_free_port())}
    demo_settings = Settings.load(own, environ={k: v for k, v in env.items() if k.startswith("CXSTREAM_")})
    try:
        yield env, demo_settings
    finally:
        drop_database(demo_settings, demo_settings.clickhouse_database)
        delete_prefixed_topics(demo_settings)


def _run_demo(env: dict[str, str], seconds: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/demo.py"], cwd=REPO, env={**env, "DEMO_SECONDS": str(seconds)},
                          capture_output=True, text=True, timeout=seconds + 150)


def _children_gone(output: str) -> None:
    """The demo waited for each child it started (so none is even a zombie): none may exist."""
    pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", output)]
    assert len(pids) == 3, output
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_bounded_demo_shows_scores_in_clickhouse_and_on_the_page_then_stops_everything(
    demo_env: tuple[dict[str, str], Settings],
) -> None:
    env, demo_settings = demo_env
    limit = 90  # an upper bound only: the demo stops once the page has shown scores
    began = time.monotonic()
    result = _run_demo(env, limit)
    took = time.monotonic() - began
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert took < limit, f"the demo ran out its {limit} s instead of stopping once the page showed scores:\n{output}"
    assert f"live page at http://127.0.0.1:{env['DEMO_PORT']}/" in output
    first = re.search(r"first scores in ClickHouse ([\d.]+)s after the demo started", output)
    assert first, output
    shown = re.search(r"the page showed (\d+) services", output)
    assert shown and int(shown.group(1)) > 0, output
    _children_gone(output)
    client = local_client(demo_settings)
    try:
        [(cells,)] = client.execute(
            f"SELECT count() FROM {demo_settings.clickhouse_database}.domain_scores_15m_all_channels")
    finally:
        client.disconnect()
    assert cells > 0


def test_a_demo_too_short_for_any_score_fails_and_still_stops_everything(
    demo_env: tuple[dict[str, str], Settings],
) -> None:
    env, _ = demo_env
    result = _run_demo(env, 2)  # the worker alone needs longer than this to start
    output = result.stdout + result.stderr

    assert result.returncode == 1, output
    assert "no scores reached ClickHouse" in output
    _children_gone(output)
