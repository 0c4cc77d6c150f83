"""Validation on arbitrary JSON: a record or a ValidationError naming known rules, nothing else.

Whatever a producer sends, ``cxstream publish`` and the worker must be able to turn it into a
rejection with reasons; and what validation accepts must survive the Avro round trip unchanged.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import ValidationError
from cxstream.schemas.validation import (
    check_feedback,
    check_touchpoint,
    feedback_from_json,
    touchpoint_from_json,
    touchpoint_is_valid,
)
from cxstream.vocabulary import CHANNELS, DOMAINS, DRIVERS, OUTCOMES, TRANSACTION_POINTS, TRUST_SCALES, TRUST_VALUES

NOW = 1_795_615_800_000
CODEC = Codec()
#: Every rule code docs/SCHEMAS.md documents; a new code must be documented there too.
RULES = {
    "required", "empty", "not_a_string", "too_long", "unknown_channel", "unknown_outcome",
    "not_an_integer", "out_of_range", "not_a_boolean", "not_rfc3339", "not_a_timestamp",
    "not_an_object", "wrong_count", "unknown_domain", "direct_survey_needs_attribution", "unknown_field",
    # a11_v2
    "unknown_trust_scale", "missing_required_driver", "unknown_driver", "duplicate_driver", "not_a_list",
    "not_offered", "unknown_transaction_point",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
names = st.text(min_size=1, max_size=128).filter(str.strip)
ids = st.text(min_size=1, max_size=64).filter(str.strip)
times = st.sampled_from(["2026-11-25T14:03:07.250Z", "2026-11-25T09:03:07-05:00", "2026-11-25T14:09:41.5+00:00"])
DROP = object()


def _broken(valid: st.SearchStrategy[dict[str, Any]], fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object with up to three fields replaced by any JSON value, dropped, or added."""
    changes = st.dictionaries(st.sampled_from((*fields, "surplus")), json_values | st.just(DROP), max_size=3)

    def apply(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        obj, change = pair
        for name, value in change.items():
            if value is DROP:
                obj.pop(name, None)
            else:
                obj[name] = value
        return obj

    return st.tuples(valid, changes).map(apply)


touchpoint_objects = _broken(st.fixed_dictionaries({
    "touchpoint_id": ids, "occurred_at": times, "agency": names, "service": names,
    "channel": st.sampled_from(CHANNELS),
}, optional={
    "outcome": st.sampled_from(OUTCOMES), "wait_seconds": st.integers(0, 2**31 - 1),
    "handle_seconds": st.integers(0, 2**31 - 1), "survey_offered": st.booleans(),
}), ("touchpoint_id", "occurred_at", "agency", "service", "channel", "outcome", "wait_seconds",
     "handle_seconds", "survey_offered"))

@st.composite
def a11_v2_objects(draw: st.DrawFn) -> dict[str, Any]:
    """Valid current-form answers, then up to two fields replaced by any JSON value."""
    scale = draw(st.sampled_from(TRUST_SCALES))
    offered = draw(st.lists(st.sampled_from(DRIVERS), unique=True).map(
        lambda drivers: ["effectiveness", "ease", *(d for d in drivers if d not in ("effectiveness", "ease"))]))
    obj: dict[str, Any] = {
        "trust": draw(st.sampled_from(TRUST_VALUES[scale])), "trust_scale": scale, "offered": offered,
        "went_well": draw(st.lists(st.sampled_from(offered), unique=True)),
        "did_not_go_well": draw(st.lists(st.sampled_from(offered), unique=True)),
        "transaction_point": draw(st.sampled_from(TRANSACTION_POINTS)),
    }
    for name, value in draw(st.dictionaries(st.sampled_from((*obj, "surplus")), json_values, max_size=2)).items():
        obj[name] = value
    return obj


feedback_objects = _broken(st.fixed_dictionaries({
    "feedback_id": ids, "submitted_at": times,
    "answers": st.dictionaries(st.sampled_from(DOMAINS), st.integers(1, 5), min_size=1),
    "agency": names, "service": names, "channel": st.sampled_from(CHANNELS),
}, optional={"touchpoint_id": ids, "comment": st.text(max_size=2000), "a11_v2": a11_v2_objects()}),
    ("feedback_id", "touchpoint_id", "submitted_at", "answers", "comment", "agency", "service", "channel", "a11_v2"))


@settings(max_examples=400, deadline=None)
@given(touchpoint_objects)
def test_any_touchpoint_json_is_a_record_or_named_rules_and_accepted_ones_survive_avro(obj: dict[str, Any]) -> None:
    try:
        record = touchpoint_from_json(obj, NOW)
    except ValidationError as invalid:
        assert invalid.errors
        assert {e.rule for e in invalid.errors} <= RULES
        assert all(e.field for e in invalid.errors)
        return
    decoded = CODEC.decode(CODEC.encode_record(record))[1]
    assert check_touchpoint(decoded, NOW) == record


@settings(max_examples=400, deadline=None)
@given(feedback_objects)
def test_any_feedback_json_is_a_record_or_named_rules_and_accepted_ones_survive_avro(obj: dict[str, Any]) -> None:
    try:
        record = feedback_from_json(obj, NOW)
    except ValidationError as invalid:
        assert invalid.errors
        assert {e.rule for e in invalid.errors} <= RULES
        assert all(e.field for e in invalid.errors)
        return
    decoded = CODEC.decode(CODEC.encode_record(record))[1]
    assert check_feedback(decoded, NOW) == record


touchpoint_datums = _broken(st.fixed_dictionaries({
    "touchpoint_id": ids, "occurred_at": st.integers(946_684_800_000, NOW + 86_400_000), "agency": names,
    "service": names, "channel": st.sampled_from((*CHANNELS, "unknown")),
}, optional={
    "outcome": st.sampled_from((*OUTCOMES, "unknown")), "wait_seconds": st.integers(0, 2**31 - 1),
    "handle_seconds": st.integers(0, 2**31 - 1), "survey_offered": st.booleans(),
}), ("touchpoint_id", "occurred_at", "agency", "service", "channel", "outcome", "wait_seconds",
     "handle_seconds", "survey_offered"))


@settings(max_examples=1500, deadline=None)
@given(touchpoint_datums | st.dictionaries(st.sampled_from(("touchpoint_id", "occurred_at", "agency", "service",
                                                             "channel")), json_values))
def test_the_touchpoint_glance_accepts_exactly_what_the_rules_accept(datum: dict[str, Any]) -> None:
    try:
        check_touchpoint(datum, NOW)
    except ValidationError:
        assert not touchpoint_is_valid(datum, NOW)
        return
    # Accepted by the rules: the glance accepts it too (it may decline only values of a subclass
    # of str, int or bool, which Avro never decodes).
    assert touchpoint_is_valid(datum, NOW) or any(type(v) not in (str, int, bool, type(None)) for v in datum.values())


def test_the_touchpoint_glance_declines_each_broken_rule() -> None:
    good = {"touchpoint_id": "tp-1", "occurred_at": NOW, "agency": "VA", "service": "Benefits", "channel": "computer",
            "outcome": "completed", "wait_seconds": 3, "handle_seconds": 4, "survey_offered": True}
    assert touchpoint_is_valid(good, NOW)
    for field, value in [("touchpoint_id", " "), ("touchpoint_id", "x" * 65), ("agency", ""), ("agency", "a" * 129),
                         ("service", None), ("channel", "carrier_pigeon"), ("outcome", "maybe"), ("occurred_at", True),
                         ("occurred_at", 946_684_799_999), ("occurred_at", NOW + 86_400_001),
                         ("wait_seconds", -1), ("wait_seconds", 2**31), ("handle_seconds", False),
                         ("survey_offered", 1), ("occurred_at", None)]:
        assert not touchpoint_is_valid({**good, field: value}, NOW), (field, value)
