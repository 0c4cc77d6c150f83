"""Schema evolution: writers and readers of neighbouring versions understand each other; every change
is checked. ``feedback-next.avsc`` is a hypothetical next Feedback version (the current one plus an
optional ``language``); history/feedback/v1 is the 2019-2023 form only, v2 adds ``a11_v2``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError
from cxstream.schemas.records import A11V2, Feedback
from cxstream.schemas.registry import SCHEMA_FILES, SchemaRegistry, default_registry, history_files, load_definition

V2 = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "schemas" / "feedback-next.avsc").read_text())
V1_DATUM = Feedback("fb-1", 1_795_615_781_000, {"trust": 4, "ease": 5}, "tp-1", "ok").to_avro()
A11_V2_DATUM = Feedback("fb-2", 1_795_615_781_000, {}, "tp-2", a11_v2=A11V2(
    1, "thumbs", ("ease",), (), ("effectiveness", "ease", "efficiency"))).to_avro()


def _registry_reading_with(current_feedback: dict[str, Any]) -> SchemaRegistry:
    """A registry whose code knows both Feedback versions and reads into ``current_feedback``."""
    registry = default_registry()
    registry.register(V2)
    registry.register(current_feedback, current=True)
    return registry


def test_v1_code_reads_a_v2_message_and_ignores_the_new_field() -> None:
    v2_writer = Codec(_registry_reading_with(V2))
    encoded = v2_writer.encode("Feedback", {**V1_DATUM, "language": "es"})
    v1_reader = Codec(_registry_reading_with(load_definition("feedback.avsc")))
    name, datum = v1_reader.decode(encoded)
    assert name == "Feedback"
    assert "language" not in datum
    assert Feedback(**datum) == Feedback(**V1_DATUM)


def test_v2_code_reads_a_v1_message_with_the_new_field_defaulted() -> None:
    encoded = Codec().encode("Feedback", V1_DATUM)
    name, datum = Codec(_registry_reading_with(V2)).decode(encoded)
    assert datum == {**V1_DATUM, "language": None}


def test_an_unknown_channel_from_a_newer_writer_reads_as_unknown() -> None:
    newer = load_definition("touchpoint.avsc")
    newer["fields"][4]["type"]["symbols"] = [*newer["fields"][4]["type"]["symbols"], "video_call"]
    writer = Codec(_registry_reading_with(load_definition("feedback.avsc")))
    writer.registry.register(newer, current=True)
    encoded = writer.encode("Touchpoint", {
        "touchpoint_id": "tp-1", "occurred_at": 1, "agency": "VA", "service": "s", "channel": "video_call",
        "outcome": None, "wait_seconds": None, "handle_seconds": None, "survey_offered": None})
    reader = Codec(_registry_reading_with(load_definition("feedback.avsc")))
    reader.registry.register(newer)
    assert reader.decode(encoded)[1]["channel"] == "unknown"


def _compatible(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer))
    )
    return bool(result.compatibility is SchemaCompatibilityType.compatible)


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_current_schema_is_compatible_both_ways_with_every_released_version(name: str) -> None:
    current = load_definition(SCHEMA_FILES[name])
    released = history_files(name)
    assert released, f"schemas/history has no released version of {name}: snapshot it"
    for path in released:
        old = load_definition(path)
        assert _compatible(current, old), f"current {name} cannot read data written with {path}"
        assert _compatible(old, current), f"{path} readers cannot read data written with the current {name}"


def test_the_compatibility_check_can_fail() -> None:
    broken = load_definition("feedback.avsc")
    broken["fields"].append({"name": "language", "type": "string"})  # required, no default
    assert not _compatible(broken, load_definition("feedback.avsc"))
    assert _compatible(V2, load_definition("feedback.avsc"))


def test_adding_a_channel_is_compatible_only_because_the_enum_has_a_default() -> None:
    current = load_definition("touchpoint.avsc")
    newer = load_definition("touchpoint.avsc")
    channel = newer["fields"][4]["type"]
    channel["symbols"].insert(len(channel["symbols"]) - 1, "video_call")
    assert _compatible(current, newer)
    without_default = load_definition("touchpoint.avsc")
    del without_default["fields"][4]["type"]["default"]
    assert not _compatible(without_default, newer)


def _registry_of_the_previous_release() -> SchemaRegistry:
    """What a worker built before a11_v2 existed knows: Feedback v1 only."""
    registry = SchemaRegistry()
    registry.register(load_definition("history/feedback/v1.avsc"), current=True)
    return registry


def test_a_worker_of_the_previous_release_dead_letters_a11_v2_feedback_instead_of_crashing() -> None:
    """It does not know the new writer schema: a DecodeError (a dead letter), never anything else."""
    encoded = Codec().encode("Feedback", A11_V2_DATUM)
    with pytest.raises(DecodeError) as caught:
        Codec(_registry_of_the_previous_release()).decode(encoded)
    assert caught.value.reason == "unknown_schema"


def test_feedback_written_by_the_previous_release_reads_with_no_a11_v2_answers() -> None:
    old = Codec(_registry_of_the_previous_release()).encode("Feedback", {
        k: v for k, v in V1_DATUM.items() if k != "a11_v2"})
    name, datum = Codec().decode(old)
    assert name == "Feedback" and Feedback(**datum) == Feedback(**V1_DATUM)
    assert Feedback(**datum).a11_v2 is None


def test_a11_v2_answers_survive_the_round_trip() -> None:
    codec = Codec()
    assert Feedback(**codec.decode(codec.encode("Feedback", A11_V2_DATUM))[1]) == Feedback(**A11_V2_DATUM)
