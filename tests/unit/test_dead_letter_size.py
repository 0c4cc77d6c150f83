"""A dead letter always fits in one Kafka message, however large the input it carries."""

from __future__ import annotations

from cxstream.deadletters import MAX_KEY_BYTES, MAX_RAW_BYTES, dead_letter_message
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DeadLetter

KAFKA_DEFAULT_MAX_MESSAGE = 1_048_576


def test_an_input_at_the_kafka_limit_still_gets_a_dead_letter_that_fits() -> None:
    codec = Codec()
    raw, key = b"\xc3\x01" + b"x" * (KAFKA_DEFAULT_MAX_MESSAGE - 2), b"k" * 100_000
    out_key, value = dead_letter_message(codec, source_topic="cx.feedback.v1", partition=2, offset=41, key=key,
                                         raw=raw, reason="too_large", detail="d" * 5000, now_ms=1)
    assert len(value) + len(out_key or b"") < KAFKA_DEFAULT_MAX_MESSAGE - 10_000
    letter = codec.decode_record(value, DeadLetter)
    assert letter.raw == raw[:MAX_RAW_BYTES] and letter.key == key[:MAX_KEY_BYTES]
    assert "raw cut" in letter.detail and "key cut" in letter.detail and "cx.feedback.v1/2/41" in letter.detail


def test_a_small_input_is_kept_unchanged() -> None:
    codec = Codec()
    _, value = dead_letter_message(codec, source_topic="t", partition=0, offset=1, key=b"k", raw=b"\xff\x00raw",
                                   reason="malformed", detail="why", now_ms=1)
    letter = codec.decode_record(value, DeadLetter)
    assert (letter.raw, letter.key, letter.detail) == (b"\xff\x00raw", b"k", "why")
