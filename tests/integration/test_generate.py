"""`cxstream generate` publishing to the real broker: every message it reports is there and decodes."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import uuid

import pytest

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.stack import StackStatus
from cxstream.topics import ensure_topics
from cxstream.vocabulary import INPUT_TOPICS, TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.cleanup import delete_prefixed_topics
from tests.support.kafka import end_offsets, read_since

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "cxstream.cli"]


@pytest.mark.parametrize("form", [None, "mixed"])
def test_generated_traffic_arrives_keyed_and_decodable_in_the_counts_reported(
    stack: StackStatus, settings: Settings, form: str | None
) -> None:
    isolated = dataclasses.replace(settings, topic_prefix=f"g{uuid.uuid4().hex[:8]}.")
    try:
        ensure_topics(isolated, INPUT_TOPICS)
        env = dict(os.environ, CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers,
                   CXSTREAM_TOPIC_PREFIX=isolated.topic_prefix, CXSTREAM_LOG_FORMAT="json")

        result = subprocess.run([*CLI, "generate", "--rate", "400", "--duration", "8", "--seed", "11",
                                 "--feedback-share", "0.5", *(["--form", form] if form else [])],
                                capture_output=True, env=env, timeout=120, check=False)

        stderr = result.stderr.decode()
        assert result.returncode == 0, stderr
        summary = re.search(r"sent ([\d,]+) touchpoints and ([\d,]+) feedback .*failed 0", stderr)
        assert summary, stderr
        touchpoints, feedback = (int(n.replace(",", "")) for n in summary.groups())
        assert touchpoints > 100 and feedback > 10
        codec = Codec()
        tp_start = {tp: 0 for tp in end_offsets(settings.bootstrap_servers, isolated.topic(TOPIC_TOUCHPOINTS))}
        fb_start = {tp: 0 for tp in end_offsets(settings.bootstrap_servers, isolated.topic(TOPIC_FEEDBACK))}
        tp_messages = read_since(settings.bootstrap_servers, tp_start, expected=touchpoints)
        fb_messages = read_since(settings.bootstrap_servers, fb_start, expected=feedback)
        assert len(tp_messages) == touchpoints
        assert len(fb_messages) == feedback
        for m in tp_messages:
            assert m.key.decode() == codec.decode(m.value, expected="Touchpoint")[1]["touchpoint_id"]
        decoded = [codec.decode(m.value, expected="Feedback")[1] for m in fb_messages]
        if form is None:  # the default is the 2019-2023 form, as before the current one existed
            assert all({"satisfaction", "trust"} <= set(f["answers"]) and f["a11_v2"] is None for f in decoded)
            return
        # mixed: v1 answers only, the current form only, and both, each as the contract reads it
        kinds = {(bool(f["answers"]), f["a11_v2"] is not None) for f in decoded}
        assert kinds == {(True, False), (False, True), (True, True)}
        current = [f["a11_v2"] for f in decoded if f["a11_v2"] is not None]
        assert {a["trust_scale"] for a in current} == {"thumbs", "five_point"}
        assert all({"effectiveness", "ease"} <= set(a["offered"]) for a in current)
    finally:  # the run's own topics: a developer stack is left as it was
        delete_prefixed_topics(isolated)
