"""The compiled Avro readers (schemas/compiled_reader.py) give exactly what fastavro gives.

Every registered writer schema (current and historical versions) is compiled; random data of
that schema, encoded by fastavro, must read back identically; and the codec with compiled
readers must give the same result as the codec with fastavro alone (the datum, or a DecodeError
with the same reason) for truncated, bit-flipped and hand-made non-canonical bodies.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxstream.schemas.codec import Codec
from cxstream.schemas.compiled_reader import NotCanonical, compile_reader
from cxstream.schemas.errors import DecodeError
from cxstream.schemas.registry import KnownSchema, default_registry

REGISTRY = default_registry()
VERSIONS: list[KnownSchema] = sorted(REGISTRY._by_fingerprint.values(), key=lambda s: (s.name, s.fingerprint))
COMPILED = Codec()
FASTAVRO = Codec(compiled=False)


def datum_of(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Random data of a fastavro-parsed schema."""
    if isinstance(schema, list):
        return st.one_of(*(datum_of(branch, named) for branch in schema))
    if isinstance(schema, str):
        if schema in named:
            return datum_of(named[schema], named)
        schema = {"type": schema}
    kind = schema["type"]
    simple: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(), "boolean": st.booleans(), "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1), "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False), "bytes": st.binary(max_size=40), "string": st.text(max_size=40),
    }
    if kind in simple:
        return simple[kind]
    if "name" in schema:
        named[schema["name"]] = schema
    if kind == "enum":
        return st.sampled_from(schema["symbols"])
    if kind == "fixed":
        return st.binary(min_size=schema["size"], max_size=schema["size"])
    if kind == "array":
        return st.lists(datum_of(schema["items"], named), max_size=6)
    if kind == "map":
        return st.dictionaries(st.text(max_size=12), datum_of(schema["values"], named), max_size=6)
    if kind == "record":
        # fields are built in order, so a named type is known before a later field refers to it
        fields = {}
        for field in schema["fields"]:
            fields[field["name"]] = datum_of(field["type"], named)
        return st.fixed_dictionaries(fields)
    raise AssertionError(f"no strategy for {kind}")


def body_of(version: KnownSchema, datum: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, version.wire, datum)
    return out.getvalue()


def outcome(codec: Codec, data: bytes) -> Any:
    """What a codec makes of ``data``: the decoded pair, or the DecodeError's reason."""
    try:
        return codec.decode(data)
    except DecodeError as error:
        return ("error", error.reason)


def same(a: Any, b: Any) -> bool:
    """Equal, with float NaNs (from flipped bits) equal to each other."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.name}-{v.fingerprint.hex()[:6]}")
def test_every_known_schema_compiles(version: KnownSchema) -> None:
    assert callable(compile_reader(version.wire))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.name}-{v.fingerprint.hex()[:6]}")
def test_compiled_reader_reads_what_fastavro_reads(version: KnownSchema, data: st.DataObject) -> None:
    datum = data.draw(datum_of(version.wire, {}))
    body = body_of(version, datum)
    expected = schemaless_reader(io.BytesIO(body), version.wire, None)
    got, end = compile_reader(version.wire)(body, 0)
    assert end == len(body)
    assert same(got, expected)


def framed(version: KnownSchema, datum: Any) -> bytes:
    return b"\xc3\x01" + version.fingerprint + body_of(version, datum)


CURRENT = [v for v in VERSIONS if REGISTRY.current(v.name).fingerprint == v.fingerprint]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.parametrize("version", CURRENT, ids=lambda v: v.name)
def test_the_codec_decodes_truncated_and_corrupted_bodies_as_fastavro_does(version: KnownSchema,
                                                                             data: st.DataObject) -> None:
    message = framed(version, data.draw(datum_of(version.wire, {})))
    variants = [message] + [message[:cut] for cut in range(10, len(message))]
    for _ in range(8):
        flipped = bytearray(message)
        position = data.draw(st.integers(10, len(message) - 1))
        flipped[position] ^= 1 << data.draw(st.integers(0, 7))
        variants.append(bytes(flipped))
        at = data.draw(st.integers(10, len(message)))
        variants.append(message[:at] + data.draw(st.binary(min_size=1, max_size=3)) + message[at:])
    for variant in variants:
        assert same(outcome(COMPILED, variant), outcome(FASTAVRO, variant)), variant.hex()


def header(name: str) -> bytes:
    return b"\xc3\x01" + REGISTRY.current(name).fingerprint


@pytest.mark.parametrize("body, why", [
    # Touchpoint: id "a", occurred_at 0, agency "b", service "c", channel 0, then four unions.
    (b"\x02a\x00\x02b\x02c\x00\x00\x00\x00\x02\x02", "survey_offered's boolean byte is 2, not 0 or 1"),
    (b"\x02a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x02b\x02c\x00\x00\x00\x00\x00", "an 11-byte varint"),
    (b"\x02a\x00\x02b\x02c\x7f\x00\x00\x00\x00", "an enum index out of range"),
    (b"\x02a\x00\x02b\x02c\x00\x08\x00\x00\x00", "a union branch out of range"),
    (b"\x02a\x00\x02b\x02c", "a body that ends early"),
    (b"\x02\xff\x00\x02b\x02c\x00\x00\x00\x00\x00", "a string that is not UTF-8"),
])
def test_non_canonical_bodies_are_left_to_fastavro(body: bytes, why: str) -> None:
    with pytest.raises(NotCanonical if "ends" not in why and "UTF-8" not in why else (IndexError, UnicodeDecodeError)):
        compile_reader(REGISTRY.current("Touchpoint").wire)(body, 0)
    assert same(outcome(COMPILED, header("Touchpoint") + body), outcome(FASTAVRO, header("Touchpoint") + body)), why


def test_a_negative_block_count_is_left_to_fastavro_which_reads_it() -> None:
    # EnrichedFeedback's answers map written as one block of -1 entries with its byte size (Avro allows it).
    codec_datum = {"feedback_id": "f", "touchpoint_id": None, "submitted_at": 0, "agency": "a", "service": "s",
                   "channel": "computer", "matched": True, "answers": {"ease": 4}, "comment": None, "a11_v2": None}
    version = REGISTRY.current("EnrichedFeedback")
    plain = body_of(version, codec_datum)
    entry = b"\x08ease\x08"  # key "ease", value 4
    blocked = plain.replace(b"\x02" + entry + b"\x00", b"\x01" + bytes([len(entry) * 2]) + entry + b"\x00")
    assert blocked != plain
    with pytest.raises(NotCanonical):
        compile_reader(version.wire)(blocked, 0)
    message = b"\xc3\x01" + version.fingerprint + blocked
    assert COMPILED.decode(message) == FASTAVRO.decode(message) == ("EnrichedFeedback", codec_datum)


def test_a_huge_block_count_stops_at_once() -> None:
    version = REGISTRY.current("EnrichedFeedback")
    body = b"\x02f\x00\x00\x02a\x02s\x00\x01" + b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"  # answers: ~2**62 entries
    with pytest.raises(NotCanonical):
        compile_reader(version.wire)(body, 0)
    assert outcome(COMPILED, b"\xc3\x01" + version.fingerprint + body)[0] == "error"
