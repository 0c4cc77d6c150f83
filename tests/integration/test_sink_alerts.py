"""Alerts the worker raises reach ClickHouse: the `alerts` view has each transition, `open_alerts`
what is firing now (real broker, real server)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Feedback
from cxstream.stack import StackStatus
from tests.support.worker import running_worker, wait_for

pytestmark = pytest.mark.integration


def test_a_fired_alert_is_open_in_clickhouse_until_it_resolves(stack: StackStatus, settings: Settings,
                                                                tmp_path: Path) -> None:
    agency = f"AL-{uuid.uuid4().hex[:6]}"
    now = int(time.time() * 1000)

    def survey(i: int, answer: int) -> Feedback:
        return Feedback(f"fb-{agency}-{answer}-{i}", now - 60_000, {"trust": answer}, None, None, agency,
                        "claims", "phone")

    with running_worker(settings, tmp_path, alert_min_responses=10) as run:
        # The views exist once the sink has migrated its database (queried before, they are not there).
        wait_for(lambda: "sink.started" in run.log_text(), timeout=60, what="the sink to migrate and start")
        for i in range(12):  # 0% positive on 12 answers: below 60% on more than the min-n of 10
            run.send_feedback(survey(i, 1))
        [opened] = wait_for(lambda: run.query("SELECT agency, service, domain, pct_positive, responses, threshold, "
                                              "min_responses, firing_since_ms FROM {db}.open_alerts"),
                            timeout=90, what="the firing alert in open_alerts")
        [on_topic] = [a for a in run.alerts() if a.state == "firing"]
        assert opened == (agency, "claims", "trust", on_topic.pct_positive, on_topic.responses, 60.0, 10,
                          on_topic.raised_at)
        assert on_topic.pct_positive == 0.0

        for i in range(60):
            run.send_feedback(survey(i, 5))
        wait_for(lambda: run.query("SELECT state FROM {db}.alerts ORDER BY window_end_ms, raised_at_ms")
                 == [("firing",), ("resolved",)], timeout=90, what="the resolved alert in the alerts view")
        assert run.query("SELECT count() FROM {db}.open_alerts") == [(0,)]
