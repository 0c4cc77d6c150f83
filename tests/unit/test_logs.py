"""Logs: one JSON object per line with an ``event``, and no personal data whoever logged it."""

from __future__ import annotations

import io
import json
from pathlib import Path
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cxstream.logs import _MAYBE_PERSONAL, WITHHELD, configure, get_logger
from cxstream.redaction import redact

EMAIL, PHONE, SSN = "jane.doe@example.com", "(202) 555-0147", "123-45-6789"
COMMENT = f"call me at {PHONE} or write to {EMAIL}, my SSN is {SSN}"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """JSON logs into a buffer; the session's logging and exception hooks are put back after."""
    out = io.StringIO()
    hooks = (sys.excepthook, threading.excepthook)
    configure("debug", "json", stream=out)
    try:
        yield out
    finally:
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)
        configure("warning", "console")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    return [json.loads(line) for line in text.splitlines()]  # every line must be JSON


def _assert_no_pii(stream: io.StringIO) -> None:
    text = stream.getvalue()
    for secret in (EMAIL, PHONE, SSN, "555-0147", "jane.doe"):
        assert secret not in text


def test_free_text_fields_are_withheld_and_bytes_become_their_length(stream: io.StringIO) -> None:
    get_logger("cxstream.test").info("feedback.joined", feedback_id="fb-1", comment=COMMENT,
                                     raw=COMMENT.encode(), key=b"tp-1", nested={"payload": {"comment": COMMENT}})
    [line] = _lines(stream)
    assert line["event"] == "feedback.joined" and line["feedback_id"] == "fb-1"
    assert line["comment"] == WITHHELD and line["raw"] == WITHHELD
    assert line["key"] == "<4 bytes>"
    assert line["nested"] == {"payload": WITHHELD}
    _assert_no_pii(stream)


def test_personal_data_in_any_text_is_redacted(stream: io.StringIO) -> None:
    get_logger("cxstream.test").warning("sink.clickhouse_unavailable", error=f"Cannot parse '{COMMENT}'",
                                        parts=[COMMENT])
    [line] = _lines(stream)
    assert "[EMAIL]" in line["error"] and "[PHONE]" in line["error"] and "[SSN]" in line["error"]
    _assert_no_pii(stream)


def test_library_lines_and_exceptions_are_json_with_an_event(stream: io.StringIO) -> None:
    logging.getLogger("faust.transport").error("fetch failed for value %r", COMMENT)
    logging.getLogger("kafka.conn").warning("connection lost")
    try:
        raise ValueError(COMMENT)
    except ValueError:
        get_logger("cxstream.test").exception("stage.failed", stage="join")
    lines = _lines(stream)
    assert len(lines) == 3 and all(isinstance(line.get("event"), str) and line["event"] for line in lines)
    assert lines[1]["event"] == "connection lost" and lines[1]["logger"] == "kafka.conn"
    assert lines[2]["event"] == "stage.failed" and "ValueError" in lines[2]["exception"]
    _assert_no_pii(stream)


def test_an_uncaught_exception_is_one_json_line(stream: io.StringIO) -> None:
    try:
        raise RuntimeError(f"boom {EMAIL}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    [line] = _lines(stream)
    assert line["event"] == "process.uncaught_exception" and line["level"] == "critical"
    assert "RuntimeError" in line["exception"]
    _assert_no_pii(stream)


def test_fields_keep_their_order_and_ids_are_untouched(stream: io.StringIO) -> None:
    get_logger("cxstream.test").info("worker.partitions_assigned", partitions=[0, 1, 2])
    get_logger("cxstream.test").info("acks.commit_stalled", topic="t1.cx.feedback.v1", partition=3,
                                     missing_offset=1234567890123, touchpoint_id="tp-6f1c2d3e-0001")
    first, second = stream.getvalue().splitlines()
    # tests/support/worker.py finds a worker's assignment by this exact shape.
    assert first.startswith('{"partitions": [0, 1, 2], "event": "worker.partitions_assigned"')
    line = json.loads(second)
    assert (line["topic"], line["missing_offset"], line["touchpoint_id"]) == (
        "t1.cx.feedback.v1", 1234567890123, "tp-6f1c2d3e-0001")


def test_bytes_printed_by_a_library_are_cut_and_wire_loggers_stay_quiet_at_debug(stream: io.StringIO) -> None:
    logging.getLogger("faust.transport").debug("send: k=b'tp-1' v=%r", COMMENT.encode()[:30] + b"...")
    logging.getLogger("kafka.protocol.parser").debug("Send: %r", bytearray(COMMENT.encode()))
    logging.getLogger("aiokafka.conn").debug("Request 7: ProduceRequest(messages=%r)", COMMENT.encode())
    lines = _lines(stream)
    assert [line["event"] for line in lines] == ["send: k=b'<bytes>' v=b'<bytes>'"]
    assert logging.getLogger("faust").getEffectiveLevel() == logging.DEBUG  # the rest of faust still talks
    _assert_no_pii(stream)


def test_the_cheap_pre_check_never_skips_a_text_the_redaction_would_change() -> None:
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "corpus.jsonl"
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines() if line.strip()]
    changed = [t for t in texts if redact(t) != t]
    assert len(changed) >= 30  # the corpus has personal data of every kind to check against
    assert [t for t in changed if not _MAYBE_PERSONAL.search(t)] == []
