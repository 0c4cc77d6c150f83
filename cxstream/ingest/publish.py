"""``cxstream publish``: JSON lines -> validated records -> Avro -> Kafka, losing nothing accepted.

An invalid line is reported with its number and reason and does not stop the rest. Every accepted
record is flushed to the broker (acks=all) before the command returns, also on Ctrl-C.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from kafka import KafkaProducer

from cxstream.ingest.json_records import NotARecord, parse_record
from cxstream.logs import get_logger

log = get_logger(__name__)


class Rejection(Exception):
    """A line that cannot be published: ``reason`` is a short code, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RecordKind(Protocol):
    """How one kind of input line becomes a Kafka message."""

    topic: str

    def to_message(self, obj: dict[str, Any]) -> tuple[bytes, bytes]:
        """(key, value) for a JSON object; raises Rejection when the object breaks the contract."""
        ...


@dataclass
class PublishSummary:
    """What happened to the lines of one run."""

    lines: int = 0
    sent: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed and not self.interrupted

    def render(self) -> str:
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        parts = [f"sent {self.sent}", f"rejected {sum(self.rejected.values())}"]
        if self.failed:
            parts.append(f"FAILED to deliver {self.failed}")
        text = ", ".join(parts) + f" of {self.lines} lines in {self.seconds:.1f}s ({rate:,.0f}/s)"
        if self.rejected:
            text += "; rejected by reason: " + ", ".join(f"{r} {n}" for r, n in self.rejected.most_common())
        if self.interrupted:
            text += "; interrupted: lines after the interruption were not read"
        return text


class _Delivery:
    """Counts broker acknowledgements from the producer's I/O thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acked = 0
        self.failed = 0
        self.first_error: str | None = None

    def on_success(self, _metadata: Any) -> None:
        with self._lock:
            self.acked += 1

    def on_error(self, exc: BaseException) -> None:
        with self._lock:
            self.failed += 1
            if self.first_error is None:
                self.first_error = repr(exc)


def publish_lines(
    lines: Iterable[bytes],
    kind: RecordKind,
    producer: KafkaProducer,
    report_rejection: Callable[[int, Rejection], None],
    progress: Callable[[PublishSummary], None] | None = None,
    flush_timeout: float = 120.0,
) -> PublishSummary:
    """Publish JSON lines of one kind; every accepted line is acknowledged before this returns."""
    summary = PublishSummary()
    delivery = _Delivery()
    started = time.monotonic()
    last_progress = started
    try:
        for number, line in enumerate(lines, start=1):
            summary.lines = number
            if not line.strip():
                continue
            try:
                key, value = kind.to_message(_parse_record(line))
            except Rejection as rejection:
                summary.rejected[rejection.reason] += 1
                report_rejection(number, rejection)
                continue
            future = producer.send(kind.topic, key=key, value=value)
            future.add_callback(delivery.on_success)
            future.add_errback(delivery.on_error)
            summary.sent += 1
            if progress is not None and time.monotonic() - last_progress >= 0.5:
                last_progress = time.monotonic()
                summary.seconds = last_progress - started
                progress(summary)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        # Whatever happened above, deliver what was accepted before returning.
        if _flush_through_interrupts(producer, flush_timeout):
            summary.interrupted = True
        summary.seconds = time.monotonic() - started
    unconfirmed = summary.sent - delivery.acked - delivery.failed
    summary.failed = delivery.failed + max(unconfirmed, 0)
    if summary.failed:
        log.error("publish.delivery_failed", failed=summary.failed, first_error=delivery.first_error)
    return summary


def _flush_through_interrupts(producer: KafkaProducer, timeout: float) -> bool:
    """Flush the producer, carrying on through Ctrl-C (bounded by ``timeout``); True if interrupted."""
    deadline = time.monotonic() + timeout
    interrupted = False
    while True:
        try:
            producer.flush(timeout=max(deadline - time.monotonic(), 0.0))
            return interrupted
        except KeyboardInterrupt:
            interrupted = True
            log.warning("publish.flushing_after_interrupt", seconds_left=round(deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return interrupted


def _parse_record(line: bytes) -> dict[str, Any]:
    try:
        return parse_record(line)
    except NotARecord as bad:
        error = bad.error
        raise Rejection(error.rule, error.message if error.field == "$" else str(error)) from None


def open_input(path: str) -> IO[bytes]:
    """The input file, or standard input for ``-``, as bytes: each line is decoded on its own."""
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")
