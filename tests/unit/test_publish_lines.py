"""`cxstream publish`'s loop on hostile lines: every bad line a numbered rejection, every good one sent.

The producer is a recording fake (the loop's only I/O); the real broker round trip is in
tests/integration/test_publish.py.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cxstream.ingest.kinds import input_kinds
from cxstream.ingest.publish import Rejection, publish_lines
from cxstream.schemas.codec import Codec

KINDS = input_kinds(Codec())


class _Sent:
    def add_callback(self, callback: Any) -> None:
        callback(None)

    def add_errback(self, _errback: Any) -> None:
        pass


class RecordingProducer:
    """Accepts every send at once, like a broker that never fails."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    def send(self, topic: str, key: bytes, value: bytes) -> _Sent:
        self.sent.append((topic, key, value))
        return _Sent()

    def flush(self, timeout: float | None = None) -> None:
        pass


def _feedback_line(i: int, comment: str = "fine") -> bytes:
    return json.dumps({"feedback_id": f"fb-{i}", "touchpoint_id": f"tp-{i}", "submitted_at": "2026-11-25T14:09:41Z",
                       "answers": {"satisfaction": 4}, "comment": comment}).encode()


#: The classes of input that once killed the command with a traceback, and their neighbours.
HOSTILE = st.one_of(
    st.just(b'{"feedback_id": "x", "submitted_at": "2026-11-25T14:09:41Z", "answers": {"ease": 4}, '
            b'"comment": "great service \\ud83d"}'),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF).map(
        lambda c: ('{"feedback_id": "x\\u%04x", "answers": {"ease": 4}}' % ord(c)).encode()),
    st.integers(4_301, 6_000).map(lambda n: b'{"feedback_id": "x", "answers": {"ease": ' + b"9" * n + b"}}"),
    st.integers(2_000, 120_000).map(lambda n: b"[" * n),
    st.integers(2_000, 60_000).map(lambda n: b'{"a":' * n),
    st.binary(min_size=1, max_size=80).filter(lambda b: b.strip() and b"\n" not in b),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), HOSTILE), min_size=1, max_size=12))
def test_hostile_lines_are_rejected_by_number_and_the_rest_is_sent(plan: list[tuple[bool, bytes]]) -> None:
    lines: list[bytes] = []
    good: set[int] = set()
    for i, (valid, hostile) in enumerate(plan):
        if valid:
            good.add(len(lines) + 1)
            lines.append(_feedback_line(i))
        else:
            lines.append(hostile)
    rejected: dict[int, Rejection] = {}
    producer = RecordingProducer()

    summary = publish_lines(lines, KINDS["feedback"], producer,  # type: ignore[arg-type]
                            lambda number, rejection: rejected.__setitem__(number, rejection))

    assert summary.sent == len(good) == len(producer.sent)
    assert set(rejected) == set(range(1, len(lines) + 1)) - good
    for rejection in rejected.values():
        rejection.detail.encode("utf-8")  # printable on any terminal: no raw surrogate


def test_a_half_emoji_is_rejected_as_a_lone_surrogate_naming_the_comment() -> None:
    line = _feedback_line(1).replace(b'"fine"', b'"great service \\ud83d"')
    rejected: list[tuple[int, Rejection]] = []
    producer = RecordingProducer()

    summary = publish_lines([line, _feedback_line(2)], KINDS["feedback"], producer,  # type: ignore[arg-type]
                            lambda number, rejection: rejected.append((number, rejection)))

    assert summary.sent == 1 and len(producer.sent) == 1
    [(number, rejection)] = rejected
    assert (number, rejection.reason) == (1, "lone_surrogate")
    assert rejection.detail.startswith("comment: lone_surrogate")
