"""The contract's rules: each broken rule is reported with its field and code."""

from __future__ import annotations

from typing import Any

import pytest

from cxstream.schemas.errors import ValidationError
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.schemas.validation import (
    check_feedback,
    check_touchpoint,
    feedback_from_json,
    parse_rfc3339,
    touchpoint_from_json,
)

NOW = 1_795_615_800_000  # 2026-11-25T14:10:00Z
TOUCHPOINT = {"touchpoint_id": "tp-0001", "occurred_at": "2026-11-25T14:03:07.250Z", "agency": "VA",
              "service": "disability-claims", "channel": "phone", "outcome": "completed",
              "wait_seconds": 95, "handle_seconds": 410}
FEEDBACK = {"feedback_id": "fb-9001", "touchpoint_id": "tp-0001", "submitted_at": "2026-11-25T14:09:41Z",
            "answers": {"satisfaction": 4, "trust": 3, "ease": 5}, "comment": "Quick and clear."}
DIRECT = {"feedback_id": "fb-9002", "submitted_at": "2026-11-25T14:09:41Z", "answers": {"trust": 2},
          "agency": "USDA", "service": "farm-loans", "channel": "website"}


def _rules(call: Any, obj: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        call(obj, NOW)
    return {(e.field, e.rule) for e in caught.value.errors}


def test_the_contract_examples_are_valid() -> None:
    assert touchpoint_from_json(TOUCHPOINT, NOW) == Touchpoint(
        "tp-0001", 1_795_615_387_250, "VA", "disability-claims", "phone", "completed", 95, 410)
    assert feedback_from_json(FEEDBACK, NOW) == Feedback(
        "fb-9001", 1_795_615_781_000, {"satisfaction": 4, "trust": 3, "ease": 5}, "tp-0001", "Quick and clear.")
    assert feedback_from_json(DIRECT, NOW).channel == "website"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"touchpoint_id": None}, {("touchpoint_id", "required")}),
        ({"touchpoint_id": ""}, {("touchpoint_id", "empty")}),
        ({"touchpoint_id": "x" * 65}, {("touchpoint_id", "too_long")}),
        ({"touchpoint_id": 17}, {("touchpoint_id", "not_a_string")}),
        ({"agency": "  "}, {("agency", "empty")}),
        ({"service": "s" * 129}, {("service", "too_long")}),
        ({"channel": "carrier_pigeon"}, {("channel", "unknown_channel")}),
        ({"channel": "unknown"}, {("channel", "unknown_channel")}),
        ({"channel": ["phone"]}, {("channel", "unknown_channel")}),
        ({"outcome": {"code": 1}}, {("outcome", "unknown_outcome")}),
        ({"outcome": "lost"}, {("outcome", "unknown_outcome")}),
        ({"wait_seconds": -1}, {("wait_seconds", "out_of_range")}),
        ({"handle_seconds": 1.5}, {("handle_seconds", "not_an_integer")}),
        ({"handle_seconds": True}, {("handle_seconds", "not_an_integer")}),
        ({"survey_offered": "yes"}, {("survey_offered", "not_a_boolean")}),
        ({"occurred_at": "2026-11-25 14:03:07"}, {("occurred_at", "not_rfc3339")}),
        ({"occurred_at": "2026-13-01T00:00:00Z"}, {("occurred_at", "not_rfc3339")}),
        ({"occurred_at": "2026-11-25T14:03:07Z\n"}, {("occurred_at", "not_rfc3339")}),
        ({"occurred_at": "2026-11-25T14:03:07.\u0662\u0665Z"}, {("occurred_at", "not_rfc3339")}),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, {("occurred_at", "out_of_range")}),
        ({"occurred_at": 1_795_615_387_250}, {("occurred_at", "not_rfc3339")}),
        ({"occurred_at": "1970-01-01T00:00:00Z"}, {("occurred_at", "out_of_range")}),
        ({"occurred_at": "2100-01-01T00:00:00Z"}, {("occurred_at", "out_of_range")}),
        ({"colour": "blue"}, {("colour", "unknown_field")}),
        ({"agency": None, "channel": "x"}, {("agency", "required"), ("channel", "unknown_channel")}),
    ],
)
def test_touchpoint_rules(change: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert _rules(touchpoint_from_json, {**TOUCHPOINT, **change}) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"feedback_id": None}, {("feedback_id", "required")}),
        ({"feedback_id": "f" * 65}, {("feedback_id", "too_long")}),
        ({"answers": None}, {("answers", "required")}),
        ({"answers": {}}, {("answers", "wrong_count")}),
        ({"answers": [4]}, {("answers", "not_an_object")}),
        ({"answers": {"trust": 0}}, {("answers.trust", "out_of_range")}),
        ({"answers": {"trust": 6}}, {("answers.trust", "out_of_range")}),
        ({"answers": {"trust": "4"}}, {("answers.trust", "not_an_integer")}),
        ({"answers": {"trust": 4.0}}, {("answers.trust", "not_an_integer")}),
        ({"answers": {"trust": True}}, {("answers.trust", "not_an_integer")}),
        ({"answers": {"happiness": 4}}, {("answers.happiness", "unknown_domain")}),
        ({"comment": "c" * 2001}, {("comment", "too_long")}),
        ({"comment": 5}, {("comment", "not_a_string")}),
        ({"submitted_at": "yesterday"}, {("submitted_at", "not_rfc3339")}),
        ({"touchpoint_id": None}, {("agency", "direct_survey_needs_attribution"),
                                   ("service", "direct_survey_needs_attribution"),
                                   ("channel", "direct_survey_needs_attribution")}),
    ],
)
def test_feedback_rules(change: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert _rules(feedback_from_json, {**FEEDBACK, **change}) == expected


@pytest.mark.parametrize("call", [touchpoint_from_json, feedback_from_json])
@pytest.mark.parametrize("obj", [[], "tp-0001", 7, None])
def test_input_that_is_not_an_object_is_one_error_for_the_whole(call: Any, obj: Any) -> None:
    assert _rules(call, obj) == {("$", "not_an_object")}


def test_a_comment_of_exactly_2000_characters_is_accepted() -> None:
    assert feedback_from_json({**FEEDBACK, "comment": "c" * 2000}, NOW).comment == "c" * 2000


def test_the_redaction_hook_runs_before_the_length_rule() -> None:
    long_email = "x" * 1990 + " a@b.example.org"
    redacted = feedback_from_json({**FEEDBACK, "comment": long_email}, NOW,
                                  redact=lambda text: text.replace("a@b.example.org", "[email]"))
    assert redacted.comment is not None and redacted.comment.endswith("[email]")


def test_errors_name_the_field_and_the_rule_in_their_message() -> None:
    with pytest.raises(ValidationError) as caught:
        feedback_from_json({**FEEDBACK, "answers": {"trust": 9}}, NOW)
    assert "answers.trust: out_of_range" in str(caught.value)


def test_decoded_records_are_checked_by_the_same_rules() -> None:
    datum = {"feedback_id": "fb-1", "touchpoint_id": "tp-1", "submitted_at": 0, "answers": {"trust": 6},
             "comment": None, "agency": None, "service": None, "channel": None}
    assert _rules(check_feedback, datum) == {("submitted_at", "out_of_range"), ("answers.trust", "out_of_range")}


def test_an_unknown_channel_symbol_from_avro_is_accepted_as_unknown() -> None:
    datum = {"touchpoint_id": "tp-1", "occurred_at": NOW, "agency": "VA", "service": "s", "channel": "unknown",
             "outcome": None, "wait_seconds": None, "handle_seconds": None, "survey_offered": None}
    assert check_touchpoint(datum, NOW).channel == "unknown"


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2026-11-25T14:03:07Z", 1_795_615_387_000),
        ("2026-11-25T14:03:07.250Z", 1_795_615_387_250),
        ("2026-11-25T14:03:07.2509999Z", 1_795_615_387_250),
        ("2026-11-25t09:03:07.25-05:00", 1_795_615_387_250),
        ("2026-11-25 14:03:07+00:00", 1_795_615_387_000),
        # A leap second is the first instant of the next minute (epoch time has no leap seconds).
        ("2026-12-02T23:59:60Z", 1_796_256_000_000),
        ("2026-12-02T23:59:60.5Z", 1_796_256_000_500),
        ("2026-12-02T15:59:60-08:00", 1_796_256_000_000),
    ],
)
def test_rfc3339_times_become_utc_milliseconds(text: str, millis: int) -> None:
    assert parse_rfc3339(text) == millis


@pytest.mark.parametrize("text", ["2026-12-02T23:58:60Z", "2026-12-02T23:59:61Z"])
def test_a_second_60_outside_an_hour_s_last_minute_is_not_rfc3339(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


# --- the current A-11 form: a11_v2 (docs/CONTRACT.md) ---------------------------------------------
V2 = {"trust": 1, "trust_scale": "thumbs", "went_well": ["effectiveness", "ease"], "did_not_go_well": [],
      "offered": ["effectiveness", "ease", "efficiency", "transparency", "employee", "other"],
      "transaction_point": "post_interaction"}


def test_a11_v2_alone_with_empty_or_missing_v1_answers_is_a_feedback() -> None:
    for answers in ({"answers": {}}, {}):
        obj = {k: v for k, v in FEEDBACK.items() if k != "answers"} | answers | {"a11_v2": V2}
        record = feedback_from_json(obj, NOW)
        assert record.answers == {} and record.a11_v2 is not None
        assert (record.a11_v2.trust, record.a11_v2.trust_scale, record.a11_v2.went_well) == (
            1, "thumbs", ("effectiveness", "ease"))


def test_both_forms_in_one_feedback_keep_both() -> None:
    record = feedback_from_json({**FEEDBACK, "a11_v2": {**V2, "trust": 4, "trust_scale": "five_point"}}, NOW)
    assert record.answers == FEEDBACK["answers"] and record.a11_v2 is not None and record.a11_v2.trust == 4


def test_neither_form_is_refused_naming_what_to_give() -> None:
    with pytest.raises(ValidationError) as caught:
        feedback_from_json({**FEEDBACK, "answers": {}}, NOW)
    assert [(e.field, e.rule) for e in caught.value.errors] == [("answers", "wrong_count")]
    with pytest.raises(ValidationError) as caught:
        feedback_from_json({k: v for k, v in FEEDBACK.items() if k != "answers"}, NOW)
    assert "a11_v2" in str(caught.value)


def test_transaction_point_defaults_to_post_interaction() -> None:
    v2 = {k: v for k, v in V2.items() if k != "transaction_point"}
    record = feedback_from_json({**FEEDBACK, "a11_v2": v2}, NOW)
    assert record.a11_v2 is not None and record.a11_v2.transaction_point == "post_interaction"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"trust": 2}, {("a11_v2.trust", "out_of_range")}),
        ({"trust": -1}, {("a11_v2.trust", "out_of_range")}),
        ({"trust": 0, "trust_scale": "five_point"}, {("a11_v2.trust", "out_of_range")}),
        ({"trust": 6, "trust_scale": "five_point"}, {("a11_v2.trust", "out_of_range")}),
        ({"trust": True}, {("a11_v2.trust", "not_an_integer")}),
        ({"trust": "1"}, {("a11_v2.trust", "not_an_integer")}),
        ({"trust": None}, {("a11_v2.trust", "required")}),
        ({"trust_scale": "stars"}, {("a11_v2.trust_scale", "unknown_trust_scale")}),
        ({"trust_scale": None}, {("a11_v2.trust_scale", "required")}),
        ({"offered": None}, {("a11_v2.offered", "required")}),
        ({"offered": ["ease", "efficiency"], "went_well": ["ease"]},
         {("a11_v2.offered", "missing_required_driver")}),
        ({"offered": ["effectiveness", "ease", "kindness"]}, {("a11_v2.offered", "unknown_driver")}),
        ({"offered": ["effectiveness", "ease", "ease"]}, {("a11_v2.offered", "duplicate_driver")}),
        ({"offered": "effectiveness,ease"}, {("a11_v2.offered", "not_a_list")}),
        ({"went_well": ["humanity"]}, {("a11_v2.went_well", "not_offered")}),
        ({"did_not_go_well": ["humanity", "efficiency"]}, {("a11_v2.did_not_go_well", "not_offered")}),
        ({"went_well": ["ease", "ease"]}, {("a11_v2.went_well", "duplicate_driver")}),
        ({"went_well": [7]}, {("a11_v2.went_well", "unknown_driver")}),
        ({"transaction_point": "checkout"}, {("a11_v2.transaction_point", "unknown_transaction_point")}),
        ({"mood": "good"}, {("a11_v2.mood", "unknown_field")}),
    ],
)
def test_a11_v2_rules(change: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert _rules(feedback_from_json, {**FEEDBACK, "a11_v2": {**V2, **change}}) == expected


def test_every_broken_a11_v2_rule_is_named_at_once() -> None:
    broken = {"trust": 3, "trust_scale": "thumbs", "offered": ["ease"], "went_well": ["humanity"],
              "transaction_point": "x"}
    assert _rules(feedback_from_json, {**FEEDBACK, "a11_v2": broken}) == {
        ("a11_v2.trust", "out_of_range"), ("a11_v2.offered", "missing_required_driver"),
        ("a11_v2.went_well", "not_offered"), ("a11_v2.transaction_point", "unknown_transaction_point")}


def test_a11_v2_that_is_not_an_object_is_named() -> None:
    assert _rules(feedback_from_json, {**FEEDBACK, "a11_v2": [1]}) == {("a11_v2", "not_an_object")}


def test_decoded_a11_v2_is_checked_by_the_same_rules() -> None:
    datum = {"feedback_id": "fb-1", "touchpoint_id": "tp-1", "submitted_at": NOW, "answers": {},
             "comment": None, "agency": None, "service": None, "channel": None,
             "a11_v2": {**V2, "trust": 5, "offered": ["ease"], "went_well": ["ease"]}}
    assert _rules(check_feedback, datum) == {("a11_v2.trust", "out_of_range"),
                                             ("a11_v2.offered", "missing_required_driver")}
