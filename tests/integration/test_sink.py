"""The worker's ClickHouse sink on the real broker and the real server: what the input implies is
what the views show, a replay changes nothing, and an outage of ClickHouse loses nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.sinks.service import ClickHouseSink
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_TOUCHPOINTS
from tests.support.ground_truth import Dataset, generate
from tests.support.stored import expected_feedback_ids, expected_touchpoint_ids, view_differences
from tests.support.tcp_proxy import TcpProxy
from tests.support.worker import WorkerRun, running_worker, wait_for

pytestmark = pytest.mark.integration

GARBAGE = b"\x00not an avro record\xff"


def _publish(run: WorkerRun, dataset: Dataset) -> None:
    for message in dataset.messages:
        if isinstance(message, Touchpoint):
            run.send_touchpoint(message)
        else:
            run.send_feedback(message)


def _snapshot(run: WorkerRun) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a BI user sees, sorted: must not change when the sink writes a replay."""
    return {view: sorted(run.query(f"SELECT * FROM {{db}}.{view}"), key=repr)
            for view in ("touchpoints", "feedback", "domain_scores", "dead_letters")}


def _store_rows(run: WorkerRun) -> int:
    return sum(run.query(f"SELECT count() FROM {{db}}.{t}")[0][0]
               for t in ("touchpoints_store", "feedback_store", "domain_scores_store", "dead_letters_store"))


def test_views_show_exactly_what_the_input_implies_and_a_replay_changes_nothing(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    prefix = f"S{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=5, agency_prefix=prefix, touchpoints=150, now_ms=int(time.time() * 1000))
    with running_worker(settings, tmp_path, join_wait_seconds=60) as run:
        _publish(run, dataset)
        run.send_raw(TOPIC_TOUCHPOINTS, b"garbage", GARBAGE)
        wait_for(lambda: not view_differences(run, dataset), timeout=120, what="the views to equal the input")

        # The scores and the enriched feedback reach ClickHouse in batches of their own: scores
        # complete says nothing about the feedback table yet.
        wait_for(lambda: run.query("SELECT count() FROM {db}.feedback")[0][0] >= len(expected_feedback_ids(dataset)),
                 timeout=60, what="every feedback stored")
        feedback = run.query("SELECT feedback_id, matched FROM {db}.feedback")
        assert len(feedback) == len(expected_feedback_ids(dataset))
        with_touchpoint = {m.feedback_id for m in dataset.messages if isinstance(m, Feedback) and m.touchpoint_id}
        assert Counter(m for _, m in feedback)[1] == len(with_touchpoint), "every touchpoint arrives: all joined"
        wait_for(lambda: run.query("SELECT count() FROM {db}.touchpoints")[0][0] == len(expected_touchpoint_ids(dataset)),
                 timeout=60, what="every touchpoint stored once")
        wait_for(lambda: run.query("SELECT count() FROM {db}.dead_letters")[0][0] == 1, timeout=60,
                 what="the garbage message in the dead letters")
        reason, raw_hex = run.query("SELECT reason, hex(raw) FROM {db}.dead_letters")[0]
        assert raw_hex == GARBAGE.hex().upper(), "the dead letter must keep the original bytes unchanged"
        assert reason

        before, stored_before = _snapshot(run), _store_rows(run)
        # A second sink with a group of its own reads every topic from the start: the whole history
        # written again, as after a crash between a write and its commit.
        replay = ClickHouseSink(dataclasses.replace(run.settings, worker_id="replay"))

        async def replay_everything() -> None:
            task = asyncio.create_task(replay.run())
            deadline = time.monotonic() + 90
            while sum(replay.metrics.rows.values()) < stored_before and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            replay.stop()
            await asyncio.wait_for(task, timeout=30)

        asyncio.run(replay_everything())
        assert _store_rows(run) > stored_before, "the replay should have written rows again"
        assert _snapshot(run) == before


def test_a_clickhouse_outage_loses_nothing_and_the_sink_waits_for_it(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    prefix = f"O{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=9, agency_prefix=prefix, touchpoints=300, now_ms=int(time.time() * 1000))
    with TcpProxy(settings.clickhouse_port) as proxy, \
            running_worker(settings, tmp_path, join_wait_seconds=60, clickhouse_port=proxy.port,
                           # A network that stops answering is noticed when an insert times out:
                           # 5 s here instead of a minute, and retries at most 3 s apart.
                           sink_timeout_seconds=5, sink_retry_max_seconds=3) as run:
        wait_for(lambda: "sink.started" in run.log_text(), timeout=60, what="the sink to migrate and start")
        proxy.down()
        rss_at_outage = _rss_mib(run)
        _publish(run, dataset)
        wait_for(lambda: "sink.clickhouse_unavailable" in run.log_text(), timeout=60,
                 what="the sink to notice the outage")
        peak = rss_at_outage
        for _ in range(20):  # the outage goes on while the stages keep working
            peak = max(peak, _rss_mib(run))
            time.sleep(0.5)
        assert run.process.poll() is None, "the worker must wait for ClickHouse, not exit"
        proxy.up()
        wait_for(lambda: not view_differences(run, dataset), timeout=180, what="the views to catch up after the outage")
        wait_for(lambda: run.query("SELECT count() FROM {db}.feedback")[0][0] == len(expected_feedback_ids(dataset)),
                 timeout=60, what="every feedback stored once after the outage")
        assert peak - rss_at_outage < 150, f"worker memory grew by {peak - rss_at_outage:.0f} MiB during the outage"


def _rss_mib(run: WorkerRun) -> float:
    for line in Path(f"/proc/{run.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS for the worker")
