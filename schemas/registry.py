"""Every known writer schema, by CRC-64-AVRO fingerprint.

Schemas are parsed and checked with the official ``avro`` library (which also computes the
Parsing Canonical Form and its fingerprint), then handed to fastavro for the hot path in a
*wire* form without logical types: timestamps stay plain longs (UTC epoch ms), which is what the
records hold, and fastavro skips building datetime objects. Logical types are not part of the
Parsing Canonical Form, so fingerprints are computed on the stripped form (see ``register``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import avro.errors
import avro.schema
import fastavro

from cxstream.schemas.errors import SchemaError

#: The record types of the contract and the .avsc file of each.
SCHEMA_FILES: dict[str, str] = {
    "Touchpoint": "touchpoint.avsc",
    "Feedback": "feedback.avsc",
    "DomainScore": "domain_score.avsc",
    "Alert": "alert.avsc",
    "DeadLetter": "dead_letter.avsc",
    "EnrichedFeedback": "enriched_feedback.avsc",
    "TrustScore": "trust_score.avsc",
    "DriverScore": "driver_score.avsc",
}
NAMESPACE = "gov.cxstream"


@dataclass(frozen=True)
class KnownSchema:
    """One version of one record type."""

    name: str  # short record name, e.g. "Feedback"
    fingerprint: bytes  # 8 bytes, little-endian CRC-64-AVRO of the canonical form
    definition: dict[str, Any]  # the .avsc JSON, logical types included
    wire: Any  # fastavro-parsed form without logical types


class SchemaRegistry:
    """Writer schemas by fingerprint, and the current (reader) schema of each record type."""

    def __init__(self) -> None:
        self._by_fingerprint: dict[bytes, KnownSchema] = {}
        self._current: dict[str, KnownSchema] = {}

    def register(self, definition: dict[str, Any], *, current: bool = False) -> KnownSchema:
        """Add a writer schema (idempotent); ``current`` makes it the reader for its type."""
        wire_definition = strip_logical_types(definition)
        try:
            avro.schema.parse(json.dumps(definition))  # the full schema must be valid, too
            # The fingerprint comes from the form without logical types: avro 1.12 keeps
            # {"type": "long"} for a logical-typed long in its canonical form, where the
            # specification (and fastavro, and Java) reduce it to "long".
            parsed = avro.schema.parse(json.dumps(wire_definition))
        except (avro.errors.AvroException, ValueError, TypeError) as exc:
            raise SchemaError(f"invalid Avro schema {definition.get('name')!r}: {exc}") from exc
        name = str(definition["name"])
        fingerprint = bytes(parsed.fingerprint("CRC-64-AVRO"))
        known = self._by_fingerprint.get(fingerprint)
        if known is None:
            # named_schemas={} per version: two versions of one type define the same names.
            wire = fastavro.parse_schema(wire_definition, named_schemas={})
            known = KnownSchema(name, fingerprint, definition, wire)
            self._by_fingerprint[fingerprint] = known
        if current:
            self._current[name] = known
        return known

    def by_fingerprint(self, fingerprint: bytes) -> KnownSchema | None:
        """The writer schema with this 8-byte fingerprint, if it is known."""
        return self._by_fingerprint.get(fingerprint)

    def current(self, name: str) -> KnownSchema:
        """The schema this code writes, and reads other versions into, for record type ``name``."""
        try:
            return self._current[name]
        except KeyError:
            raise SchemaError(f"no current schema for record type {name!r}") from None

    def versions(self, name: str) -> list[KnownSchema]:
        """Every registered version of record type ``name``."""
        return [s for s in self._by_fingerprint.values() if s.name == name]


def strip_logical_types(definition: Any) -> Any:
    """A copy of a schema without ``logicalType`` annotations (same canonical form)."""
    if isinstance(definition, dict):
        return {k: strip_logical_types(v) for k, v in definition.items() if k != "logicalType"}
    if isinstance(definition, list):
        return [strip_logical_types(item) for item in definition]
    return copy.copy(definition)


def load_definition(filename: str) -> dict[str, Any]:
    """A schema file shipped in this package (``schemas/``), as JSON."""
    text = resources.files("cxstream.schemas").joinpath(filename).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def history_files(name: str) -> list[str]:
    """Released versions of record type ``name`` kept under ``schemas/history/``."""
    folder = resources.files("cxstream.schemas").joinpath("history", SCHEMA_FILES[name].removesuffix(".avsc"))
    if not folder.is_dir():
        return []
    return sorted(
        f"history/{SCHEMA_FILES[name].removesuffix('.avsc')}/{entry.name}"
        for entry in folder.iterdir()
        if entry.name.endswith(".avsc")
    )


def default_registry() -> SchemaRegistry:
    """The current schemas plus every released version in ``schemas/history``."""
    registry = SchemaRegistry()
    for name, filename in SCHEMA_FILES.items():
        for old in history_files(name):
            registry.register(load_definition(old))
        registry.register(load_definition(filename), current=True)
    return registry
