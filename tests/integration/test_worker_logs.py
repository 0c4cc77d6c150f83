"""The worker's own log, at its most talkative (debug), on feedback full of personal data: every
line is JSON with an event name, and no comment or raw message content ever appears in it."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK
from tests.support.worker import running_worker, wait_for

pytestmark = pytest.mark.integration
EMAIL, PHONE, SSN = "pat.q.public@example.org", "202-555-0183", "078-05-1120"
SECRETS = (EMAIL, PHONE, SSN, "pat.q.public", "555-0183", "05-1120", "0781120")


def test_personal_data_in_comments_never_reaches_the_worker_log(stack: StackStatus, settings: Settings,
                                                                 tmp_path: Path) -> None:
    comment = f"Email me at {EMAIL} or call {PHONE}. My SSN is {SSN}."
    now = int(time.time() * 1000)
    run = uuid.uuid4().hex[:6]
    with running_worker(settings, tmp_path, log_level="debug", join_wait_seconds=1) as worker:
        worker.send_touchpoint(Touchpoint(f"tp-{run}", now - 60_000, "GSA", "claims", "phone"))
        # Joined, buffered then fallen back, repeated, invalid (dead-lettered) and unreadable
        # (dead-lettered with its raw bytes): every path a comment can take through the worker.
        worker.send_feedback(Feedback(f"fb-{run}-1", now - 30_000, {"satisfaction": 5}, f"tp-{run}", comment))
        worker.send_feedback(Feedback(f"fb-{run}-2", now - 30_000, {"trust": 1}, f"tp-{run}-never", comment))
        worker.send_feedback(Feedback(f"fb-{run}-1", now - 30_000, {"satisfaction": 5}, f"tp-{run}", comment))
        worker.send_feedback(Feedback(f"fb-{run}-3", now - 30_000, {"satisfaction": 9}, f"tp-{run}", comment))
        worker.send_raw(TOPIC_FEEDBACK, comment.encode(), comment.encode())
        wait_for(lambda: worker.query("SELECT count() FROM {db}.feedback_store")[0][0] >= 2, timeout=120,
                 what="the joined and the fallen-back feedback stored")
        wait_for(lambda: worker.query("SELECT count() FROM {db}.dead_letters_store")[0][0] >= 2, timeout=60,
                 what="the invalid and the unreadable feedback dead-lettered")
        wait_for(worker.drained, timeout=60, what="the worker to commit everything it read")
        # Avro written straight to Kafka skips the entry points: the worker redacted the comments.
        stored = worker.query(f"SELECT comment FROM {{db}}.feedback_store WHERE feedback_id LIKE 'fb-{run}-%'")
        assert stored and all(row[0] == "Email me at [EMAIL] or call [PHONE]. My SSN is [SSN]." for row in stored)
    text = worker.log_text()  # the worker has stopped: its shutdown lines are in too

    lines = text.splitlines()
    assert len(lines) > 50, "a debug run logs every event: too few lines means the log was not captured"
    for number, line in enumerate(lines, 1):
        record = json.loads(line)  # every line is one JSON object...
        assert isinstance(record.get("event"), str) and record["event"], f"line {number} has no event: {line[:200]}"
    for secret in SECRETS:  # ...and none carries the personal data
        assert secret not in text, f"{secret!r} is in the worker log"
    assert comment[:20] not in text
