"""Gateway -> worker -> ClickHouse: a channel's retry of the same ids counts once."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.support.gateway import gateway_settings, running_gateway
from tests.support.worker import running_worker, wait_for

pytestmark = pytest.mark.integration


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_requests_retried_with_the_same_ids_count_once_in_clickhouse(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    with running_worker(settings, tmp_path) as run:
        wait_for(lambda: "sink.started" in run.log_text(), timeout=60, what="the sink to migrate and start")
        gw = gateway_settings(run.settings, tmp_path, topic_prefix=run.settings.topic_prefix)
        with running_gateway(gw, tmp_path, create_topics=False) as gateway:
            key = gateway.add_key(agency="VA", channels=("phone",))
            touchpoints: list[dict[str, Any]] = [
                {"touchpoint_id": f"tp-{i}", "occurred_at": _now(), "agency": "VA", "service": "claims",
                 "channel": "phone"} for i in range(10)]
            feedback: list[dict[str, Any]] = [
                {"feedback_id": f"fb-{i}", "touchpoint_id": f"tp-{i}", "submitted_at": _now(),
                 "answers": {"satisfaction": 4 if i % 2 else 2}} for i in range(10)]

            statuses = [gateway.post("/v1/touchpoints", touchpoints, key).status,
                        gateway.post("/v1/feedback", feedback, key).status,
                        gateway.post("/v1/feedback", feedback, key).status,  # the channel's retry
                        gateway.post("/v1/touchpoints", touchpoints[:5], key).status]

            wait_for(lambda: run.query("SELECT count() FROM {db}.feedback")[0][0] >= 10, timeout=120,
                     what="the feedback to reach ClickHouse")
            wait_for(run.drained, timeout=120, what="the worker to drain its input")
            time.sleep(2.0)  # the sink's last batch and the coalesced score flush
            stored_feedback = run.query("SELECT count(), sum(matched) FROM {db}.feedback")[0]
            stored_touchpoints = run.query("SELECT count() FROM {db}.touchpoints")[0][0]
            scores = run.query("SELECT sum(responses), sum(count_4), sum(count_2) FROM {db}.domain_scores "
                               "WHERE domain = 'satisfaction'")[0]

    assert statuses == [200, 200, 200, 200]
    assert tuple(stored_feedback) == (10, 10)
    assert stored_touchpoints == 10
    assert tuple(scores) == (10, 5, 5)
