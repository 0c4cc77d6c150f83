"""The .avsc files agree with the vocabulary and the records, and document every field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import Any, cast

import pytest

from cxstream.schemas.records import RECORD_TYPES
from cxstream.schemas.registry import NAMESPACE, SCHEMA_FILES, load_definition
from cxstream.vocabulary import CHANNELS, OUTCOMES, UNKNOWN

TIMESTAMPS = {"occurred_at", "submitted_at", "window_start", "window_end", "raised_at", "received_at"}


def _named_types(schema: Any) -> Iterator[dict[str, Any]]:
    """Every record, enum and fixed type defined anywhere inside ``schema``."""
    if isinstance(schema, list):
        for branch in schema:
            yield from _named_types(branch)
    elif isinstance(schema, dict):
        if schema.get("type") in {"record", "enum", "fixed"}:
            yield schema
        for field in schema.get("fields", ()):
            yield from _named_types(field["type"])
        for key in ("items", "values"):
            if key in schema:
                yield from _named_types(schema[key])


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_every_field_and_named_type_is_documented(name: str) -> None:
    definition = load_definition(SCHEMA_FILES[name])
    assert definition["namespace"] == NAMESPACE
    for named in _named_types(definition):
        assert named.get("doc", "").strip(), f"{name}: type {named['name']} has no doc"
        for field in named.get("fields", ()):
            assert field.get("doc", "").strip(), f"{name}.{field['name']} has no doc"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_record_classes_have_exactly_the_schema_fields(name: str) -> None:
    # Same names, not the same order: a dataclass lists its defaulted fields last.
    definition = load_definition(SCHEMA_FILES[name])
    assert definition["name"] == name
    assert {f.name for f in fields(cast(Any, RECORD_TYPES[name]))} == {f["name"] for f in definition["fields"]}


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_times_are_utc_milliseconds(name: str) -> None:
    for field in load_definition(SCHEMA_FILES[name])["fields"]:
        if field["name"] in TIMESTAMPS:
            assert field["type"] == {"type": "long", "logicalType": "timestamp-millis"}, field["name"]


def test_the_enums_spell_the_vocabulary_with_unknown_as_their_default() -> None:
    expected = {"Channel": (*CHANNELS, UNKNOWN), "Outcome": (*OUTCOMES, UNKNOWN)}
    seen = set()
    for filename in SCHEMA_FILES.values():
        for named in _named_types(load_definition(filename)):
            if named["type"] == "enum":
                assert named.get("default") == UNKNOWN, f"{filename}: enum {named['name']} has no default"
                assert named["symbols"][-1] == UNKNOWN
                if named["name"] in expected:
                    assert tuple(named["symbols"]) == expected[named["name"]], filename
                    seen.add(named["name"])
    assert seen == set(expected)
