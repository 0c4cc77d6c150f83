"""`cxstream publish` end to end on the real broker, bad lines included."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.kafka import end_offsets, read_since

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "cxstream.cli"]


def _touchpoint(tp_id: str) -> dict[str, object]:
    return {"touchpoint_id": tp_id, "occurred_at": "2026-11-25T14:03:07.250Z", "agency": "VA",
            "service": "disability-claims", "channel": "phone", "outcome": "completed", "wait_seconds": 95}


def _run(settings: Settings, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers, CXSTREAM_LOG_FORMAT="json")
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, env=env, timeout=120, check=False)


def test_valid_lines_arrive_keyed_and_decodable_and_bad_lines_are_reported(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    good = [_touchpoint(f"tp-{run}-{i}") for i in range(50)]
    lines = [json.dumps(t) for t in good[:25]]
    lines += ["{not json", json.dumps({**_touchpoint("x"), "channel": "carrier_pigeon"}), "",
              json.dumps({**_touchpoint("y"), "wait_seconds": -5}), b"\xff\xfe".decode("latin-1")]
    lines += [json.dumps(t) for t in good[25:]]
    path = tmp_path / "touchpoints.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8").replace("ÿþ".encode(), b"\xff\xfe") + b"\n")
    start = end_offsets(settings.bootstrap_servers, TOPIC_TOUCHPOINTS)

    result = _run(settings, "publish", "touchpoints", str(path))

    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "line 26: rejected: invalid JSON" in stderr
    assert "line 27: rejected: channel: unknown_channel" in stderr
    assert "line 29: rejected: wait_seconds: out_of_range" in stderr
    assert "line 30: rejected: invalid UTF-8" in stderr
    assert re.search(r"sent 50, rejected 4 of 55 lines", stderr), stderr
    messages = read_since(settings.bootstrap_servers, start, expected=50)
    codec = Codec()
    received = {m.key.decode(): Touchpoint(**codec.decode(m.value, expected="Touchpoint")[1]) for m in messages}
    assert len(messages) == 50
    assert set(received) == {t["touchpoint_id"] for t in good}
    assert received[f"tp-{run}-0"].occurred_at == 1_795_615_387_250


def test_feedback_is_keyed_by_touchpoint_or_by_feedback_id_for_direct_surveys(
    stack: StackStatus, settings: Settings
) -> None:
    run = uuid.uuid4().hex[:8]
    joined = {"feedback_id": f"fb-{run}-1", "touchpoint_id": f"tp-{run}", "submitted_at": "2026-11-25T14:09:41Z",
              "answers": {"satisfaction": 4, "trust": 3}}
    direct = {"feedback_id": f"fb-{run}-2", "submitted_at": "2026-11-25T14:09:41Z", "answers": {"ease": 5},
              "agency": "USDA", "service": "farm-loans", "channel": "website"}
    start = end_offsets(settings.bootstrap_servers, TOPIC_FEEDBACK)

    result = _run(settings, "publish", "feedback", "-", stdin=f"{json.dumps(joined)}\n{json.dumps(direct)}\n".encode())

    assert result.returncode == 0, result.stderr.decode()
    codec = Codec()
    keys = {m.key.decode(): Feedback(**codec.decode(m.value)[1]).feedback_id
            for m in read_since(settings.bootstrap_servers, start, expected=2)}
    assert keys == {f"tp-{run}": f"fb-{run}-1", f"fb-{run}-2": f"fb-{run}-2"}


def test_ctrl_c_delivers_everything_reported_as_sent(stack: StackStatus, settings: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    start = end_offsets(settings.bootstrap_servers, TOPIC_TOUCHPOINTS)
    env = dict(os.environ, CXSTREAM_KAFKA_BOOTSTRAP=settings.bootstrap_servers, CXSTREAM_LOG_FORMAT="json")
    process = subprocess.Popen([*CLI, "publish", "touchpoints", "-"], stdin=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    assert process.stdin is not None
    for i in range(3000):
        process.stdin.write((json.dumps(_touchpoint(f"tp-{run}-{i}")) + "\n").encode())
    process.stdin.flush()
    time.sleep(2.0)  # the command is now waiting for more input, with lines in flight
    process.send_signal(signal.SIGINT)
    time.sleep(1.0)  # let the signal land before stdin closes
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr.decode()
    match = re.search(r"sent (\d+),", stderr.decode())
    assert match, stderr.decode()
    sent = int(match.group(1))
    assert sent == 3000
    ours = [m for m in read_since(settings.bootstrap_servers, start, expected=sent) if m.key.decode().startswith(f"tp-{run}-")]
    assert len(ours) == sent


def test_lines_that_once_killed_the_command_are_numbered_rejections_and_the_rest_is_delivered(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    good = [_touchpoint(f"tp-{run}-{i}") for i in range(4)]
    half_emoji = json.dumps({**_touchpoint(f"tp-{run}-h"), "service": "great service \ud83d"})
    lines = [json.dumps(good[0]).encode(), half_emoji.encode(),
             b'{"touchpoint_id": "n", "wait_seconds": ' + b"9" * 5000 + b"}",
             json.dumps(good[1]).encode(), b"[" * 100_000, json.dumps(good[2]).encode(),
             b"2026-12-02T23:59:60Z".join([b'{"touchpoint_id": "' + f"tp-{run}-leap".encode() + b'", "occurred_at": "',
                                          b'", "agency": "VA", "service": "s", "channel": "phone"}']),
             json.dumps(good[3]).encode()]
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    start = end_offsets(settings.bootstrap_servers, TOPIC_TOUCHPOINTS)

    result = _run(settings, "publish", "touchpoints", str(path))

    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "line 2: rejected: service: lone_surrogate" in stderr
    assert "line 3: rejected: a number is too long" in stderr
    assert "line 5: rejected: JSON nested too deeply" in stderr
    assert re.search(r"sent 5, rejected 3 of 8 lines", stderr), stderr
    keys = {m.key.decode() for m in read_since(settings.bootstrap_servers, start, expected=5)}
    assert keys == {t["touchpoint_id"] for t in good} | {f"tp-{run}-leap"}
