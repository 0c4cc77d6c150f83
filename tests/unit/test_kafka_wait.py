"""Waiting for Kafka at start-up: an unreachable Kafka is waited for, a refusing one stops at once.

The probe and the pauses are injected: no Kafka, no sleeping.
"""

from __future__ import annotations

import io
import json
import logging
import ssl
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError as AIOKafkaConnectionError
from aiokafka.errors import SaslAuthenticationFailed
from kafka.errors import (
    InvalidReplicationFactorError,
    KafkaTimeoutError,
    NotControllerError,
    TopicAuthorizationFailedError,
)

from cxstream.config import Settings
from cxstream.errors import ConfigError, CxstreamError, StackError
from cxstream.kafka_clients import KafkaUnreachable, until_kafka_answers
from cxstream.logs import configure

SETTINGS = Settings.load({"kafka_bootstrap": "127.0.0.1:1", "kafka_sasl_username": "alice"}, environ={})


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    hooks = (sys.excepthook, threading.excepthook)
    configure("info", "json", stream=out)
    try:
        yield out
    finally:
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)
        configure("warning", "console")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _failing(errors: Sequence[BaseException]) -> Callable[[Settings], None]:
    """A probe that raises ``errors`` one after the other, then succeeds."""
    pending = list(errors)

    def probe(_settings: Settings) -> None:
        if pending:
            raise pending.pop(0)

    return probe


def test_an_unreachable_kafka_is_waited_for_one_line_per_attempt_pauses_doubling_to_the_cap(
    stream: io.StringIO
) -> None:
    pauses: list[float] = []
    down = [KafkaUnreachable("127.0.0.1:1: Connection refused")] * 12
    result = until_kafka_answers(SETTINGS, lambda: "topics", what="create the topics", event="worker.waiting_for_kafka",
                                 max_delay=30, sleep=pauses.append, probe=_failing(down))
    assert result == "topics"
    assert len(pauses) == 12 and pauses[0] == 0.5
    assert all(later > earlier for earlier, later in zip(pauses[:6], pauses[1:7], strict=True)), pauses
    assert max(pauses) <= 30 and min(pauses[8:]) >= 24, pauses  # capped (jitter takes at most a fifth off)
    lines = _lines(stream)
    waits = [line for line in lines if line["event"] == "worker.waiting_for_kafka"]
    assert len(waits) == 12
    assert waits[0] == {**waits[0], "bootstrap": "127.0.0.1:1", "waiting_for": "create the topics", "retry_in_s": 0.5,
                        "error": "127.0.0.1:1: Connection refused", "level": "warning"}
    assert [w["retry_in_s"] for w in waits] == [round(p, 1) for p in pauses]
    assert lines[-1]["event"] == "kafka.answered" and lines[-1]["attempts"] == 12


@pytest.mark.parametrize("error", [KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']"),
                                   NotControllerError(), AIOKafkaConnectionError("Connection at 127.0.0.1:1 closed"),
                                   ConnectionResetError(), TimeoutError(), ssl.SSLEOFError()],
                         ids=lambda e: type(e).__name__)
def test_errors_of_a_kafka_that_is_down_or_starting_are_waited_out(stream: io.StringIO, error: Exception) -> None:
    pauses: list[float] = []
    until_kafka_answers(SETTINGS, lambda: None, what="list the topics", event="worker.waiting_for_kafka",
                        sleep=pauses.append, probe=_failing([error]))
    assert len(pauses) == 1
    [wait, _answered] = _lines(stream)
    assert type(error).__name__ in wait["error"] and "\n" not in wait["error"]


@pytest.mark.parametrize(("error", "kind", "advice"), [
    (SaslAuthenticationFailed("Authentication failed due to invalid credentials"), ConfigError,
     "CXSTREAM_KAFKA_SASL_PASSWORD"),
    (TopicAuthorizationFailedError(), ConfigError, "ACL"),
    (ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate"), ConfigError,
     "CXSTREAM_KAFKA_SSL_CAFILE"),
    (InvalidReplicationFactorError(), StackError, "create the topics"),
], ids=["sasl", "acl", "tls", "other-refusal"])
def test_a_kafka_that_refuses_stops_at_once_saying_what_to_fix(stream: io.StringIO, error: Exception,
                                                               kind: type[CxstreamError], advice: str) -> None:
    pauses: list[float] = []
    with pytest.raises(kind) as raised:
        until_kafka_answers(SETTINGS, lambda: None, what="create the topics", event="worker.waiting_for_kafka",
                            sleep=pauses.append, probe=_failing([error]))
    assert advice in str(raised.value)
    assert pauses == [] and stream.getvalue() == ""


@pytest.mark.parametrize("error", [StackError("the input topics must be co-partitioned"),
                                   ConfigError("worker id 'cxstream' has scoring state from an earlier release")],
                         ids=["stack", "config"])
def test_the_steps_own_errors_pass_through_unchanged(stream: io.StringIO, error: CxstreamError) -> None:
    def step() -> None:
        raise error

    pauses: list[float] = []
    with pytest.raises(type(error)) as raised:
        until_kafka_answers(SETTINGS, step, what="create the topics", event="worker.waiting_for_kafka",
                            sleep=pauses.append, probe=_failing([]))
    assert raised.value is error and pauses == [] and stream.getvalue() == ""
