"""A producer that follows only CONTRACT.md (fastavro + the framing, no project code) is understood.

The fingerprint is computed here from the Avro specification (CRC-64-AVRO over the Parsing
Canonical Form), independently of the project's registry.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import fastavro

from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback
from cxstream.schemas.validation import check_feedback

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
EMPTY = 0xC15D213AA4D7A795  # the spec's CRC-64-AVRO initial value


def _table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    return table


def _crc64_avro(data: bytes) -> int:
    table, fp = _table(), EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def _canonical(schema: Any, namespace: str | None = None) -> str:
    """Parsing Canonical Form, as the Avro specification defines it (for the types we use)."""
    if isinstance(schema, str):
        if schema in {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}:
            return json.dumps(schema)
        return json.dumps(schema if "." in schema or not namespace else f"{namespace}.{schema}")
    if isinstance(schema, list):
        return "[" + ",".join(_canonical(s, namespace) for s in schema) + "]"
    kind = schema["type"]
    if kind in {"record", "enum", "fixed"}:
        name = schema["name"]
        space = schema.get("namespace", namespace)
        full = name if "." in name or not space else f"{space}.{name}"
        if kind == "record":
            fields = ",".join(
                '{"name":' + json.dumps(f["name"]) + ',"type":' + _canonical(f["type"], space) + "}"
                for f in schema["fields"]
            )
            return '{"name":' + json.dumps(full) + ',"type":"record","fields":[' + fields + "]}"
        if kind == "enum":
            symbols = json.dumps(schema["symbols"], separators=(",", ":"))
            return '{"name":' + json.dumps(full) + ',"type":"enum","symbols":' + symbols + "}"
    if kind == "map":
        return '{"type":"map","values":' + _canonical(schema["values"], namespace) + "}"
    if kind == "array":
        return '{"type":"array","items":' + _canonical(schema["items"], namespace) + "}"
    return _canonical(kind, namespace)


def test_a_message_built_from_the_contract_alone_is_decoded_and_valid() -> None:
    schema = json.loads((SCHEMAS / "feedback.avsc").read_text())
    fingerprint = struct.pack("<Q", _crc64_avro(_canonical(schema).encode()))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), {
        "feedback_id": "fb-9001", "touchpoint_id": "tp-0001", "submitted_at": 1_795_615_781_000,
        "answers": {"satisfaction": 4, "trust": 3, "ease": 5}, "comment": "Quick and clear.",
        "agency": None, "service": None, "channel": None,
    })
    message = b"\xc3\x01" + fingerprint + body.getvalue()

    name, datum = Codec().decode(message)
    assert name == "Feedback"
    record = check_feedback(datum, now_ms=1_795_615_800_000)
    assert record == Feedback("fb-9001", 1_795_615_781_000, {"satisfaction": 4, "trust": 3, "ease": 5},
                              "tp-0001", "Quick and clear.")


def test_the_independent_fingerprint_matches_the_spec_example_and_the_registry() -> None:
    assert _crc64_avro(b'"int"') == 0x7275D51A3F395C8F  # the specification's fingerprint of "int"
    for name in ("touchpoint", "feedback", "domain_score", "alert", "dead_letter", "enriched_feedback"):
        schema = json.loads((SCHEMAS / f"{name}.avsc").read_text())
        mine = struct.pack("<Q", _crc64_avro(_canonical(schema).encode()))
        assert Codec().registry.by_fingerprint(mine) is not None, name
