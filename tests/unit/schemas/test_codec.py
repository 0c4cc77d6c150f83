"""The codec: every record type round-trips; arbitrary bytes give a value or a typed error."""

from __future__ import annotations

import os
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxstream.schemas.codec import MAX_MESSAGE_BYTES, Codec
from cxstream.schemas.errors import DecodeError, SchemaError
from cxstream.schemas.records import RECORD_TYPES, Alert, ContractRecord, Feedback, Touchpoint

from .strategies import alerts, dead_letters, domain_scores, enriched, feedbacks, touchpoints

CODEC = Codec()
any_record = st.one_of(touchpoints, feedbacks, domain_scores, alerts, dead_letters, enriched)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(any_record)
def test_every_record_type_round_trips(record: Any) -> None:
    encoded = CODEC.encode(record.avro_name, record.to_avro())
    assert encoded[:2] == b"\xc3\x01"
    name, datum = CODEC.decode(encoded)
    assert name == record.avro_name
    assert RECORD_TYPES[name](**datum) == record


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(any_record)
def test_typed_records_round_trip_through_encode_record_and_decode_record(record: ContractRecord) -> None:
    decoded = CODEC.decode_record(CODEC.encode_record(record), type(record))
    assert type(decoded) is type(record)
    assert decoded == record


def test_decode_record_refuses_another_record_type() -> None:
    encoded = CODEC.encode_record(Touchpoint("tp-1", 946_684_800_000, "VA", "claims", "phone"))
    with pytest.raises(DecodeError) as caught:
        CODEC.decode_record(encoded, Feedback)
    assert caught.value.reason == "wrong_record_type"


def test_encoding_an_unknown_record_type_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        CODEC.encode("Complaint", {"text": "slow"})
    with pytest.raises(SchemaError):  # Confluent framing without an id for the current schema
        Codec(confluent_ids={1: b"\x00" * 8}, write_confluent=True).encode_record(
            Touchpoint("tp-1", 946_684_800_000, "VA", "claims", "phone"))


def test_decode_can_insist_on_a_record_type() -> None:
    encoded = CODEC.encode("Alert", Alert("VA", "s", "trust", "firing", 40.0, 50, 60.0, 30, 1, 2).to_avro())
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(encoded, expected="Feedback")
    assert caught.value.reason == "wrong_record_type"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_single_object"),
        (b'{"feedback_id": "fb-1"}', "not_single_object"),  # JSON where Avro is expected
        (b"\xc3\x01\x00\x01", "truncated"),
        (b"\xc3\x01" + b"\xff" * 8 + b"\x02", "unknown_schema"),
        (b"\x00\x00\x00\x00\x07body", "not_single_object"),  # Confluent framing is off by default
        (b"\xc3\x01" + b"\x00" * (MAX_MESSAGE_BYTES + 1), "too_large"),
    ],
)
def test_undecodable_bytes_have_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(data)
    assert caught.value.reason == reason


def test_a_tombstone_or_other_non_bytes_value_is_a_decode_error() -> None:
    for value in (None, "C3 01", 7):
        with pytest.raises(DecodeError) as caught:
            CODEC.decode(value)  # type: ignore[arg-type]
        assert caught.value.reason == "not_bytes"


def test_trailing_bytes_after_a_valid_body_are_malformed() -> None:
    encoded = CODEC.encode("Feedback", Feedback("fb-1", 946_684_800_000, {"trust": 4}).to_avro())
    with pytest.raises(DecodeError) as caught:
        CODEC.decode(encoded + b"\x00")
    assert caught.value.reason == "malformed"


CONFLUENT = Codec(confluent_ids={n: CODEC.registry.current(name).fingerprint
                                  for n, name in enumerate(sorted(RECORD_TYPES), start=1)})


def _decode_or_typed_error(data: bytes, codec: Codec = CODEC) -> None:
    try:
        codec.decode(data)
    except DecodeError as error:
        assert error.reason in {"not_single_object", "truncated", "unknown_schema", "malformed", "too_large"}


@settings(max_examples=400, deadline=200)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    _decode_or_typed_error(data)


@settings(max_examples=200, deadline=200)
@given(st.integers(0, 8), st.binary(max_size=200))
def test_random_bodies_behind_a_confluent_header_never_crash_the_decoder(schema_id: int, body: bytes) -> None:
    _decode_or_typed_error(b"\x00" + struct.pack(">I", schema_id) + body, CONFLUENT)


@settings(max_examples=300, deadline=200)
@given(st.sampled_from(["Touchpoint", "Feedback", "DomainScore", "Alert", "DeadLetter"]), st.binary(max_size=200))
def test_random_bodies_behind_a_known_header_never_crash_the_decoder(name: str, body: bytes) -> None:
    header = b"\xc3\x01" + CODEC.registry.current(name).fingerprint
    _decode_or_typed_error(header + body)


@settings(max_examples=300, deadline=200, suppress_health_check=[HealthCheck.too_slow])
@given(any_record, st.data())
def test_truncated_and_bit_flipped_messages_never_crash_the_decoder(record: Any, data: st.DataObject) -> None:
    encoded = CODEC.encode_record(record)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    _decode_or_typed_error(encoded[:cut])
    position = data.draw(st.integers(0, len(encoded) - 1))
    flipped = bytearray(encoded)
    flipped[position] ^= 1 << data.draw(st.integers(0, 7))
    _decode_or_typed_error(bytes(flipped))


def test_huge_length_prefixes_fail_fast_without_allocating() -> None:
    header = b"\xc3\x01" + CODEC.registry.current("Feedback").fingerprint
    huge_string = b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"  # zig-zag long near 2**62
    for body in (huge_string, b"\x02a" + b"\x02" + huge_string, os.urandom(64)):
        _decode_or_typed_error(header + body)


def test_confluent_framing_round_trips_when_enabled() -> None:
    fingerprint = CODEC.registry.current("Touchpoint").fingerprint
    codec = Codec(confluent_ids={42: fingerprint}, write_confluent=True)
    record = Touchpoint("tp-1", 946_684_800_000, "VA", "claims", "phone")
    encoded = codec.encode("Touchpoint", record.to_avro())
    assert encoded[:5] == b"\x00" + struct.pack(">I", 42)
    assert Touchpoint(**codec.decode(encoded)[1]) == record
    with pytest.raises(DecodeError) as caught:
        codec.decode(b"\x00" + struct.pack(">I", 7) + b"\x00")
    assert caught.value.reason == "unknown_schema"
