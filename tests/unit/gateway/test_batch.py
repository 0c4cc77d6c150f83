"""Request bodies -> accepted and rejected records, with the contract's validation."""

from __future__ import annotations

import json

import pytest

from cxstream.ingest.kinds import input_kinds
from cxstream.gateway.batch import is_batch, sort_records
from cxstream.gateway.errors import Refusal
from cxstream.schemas.codec import Codec

KINDS = input_kinds(Codec())
TOUCHPOINT = {"touchpoint_id": "tp-1", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA", "service": "s",
              "channel": "phone"}


def _ndjson(*lines: object) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


@pytest.mark.parametrize(("content_type", "batch"), [("application/json", False), ("application/x-ndjson", True),
                                                      ("application/ndjson", True)])
def test_content_types(content_type: str, batch: bool) -> None:
    assert is_batch(content_type) is batch


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_other_content_types_are_415(content_type: str) -> None:
    with pytest.raises(Refusal) as refused:
        is_batch(content_type)
    assert refused.value.status == 415


def test_each_line_is_a_record_and_blank_lines_do_not_count() -> None:
    body = _ndjson(TOUCHPOINT, b"", b"  ", {**TOUCHPOINT, "touchpoint_id": "tp-2"}, b"\xff\xfe", b"[]", b"{")

    result = sort_records(body, True, KINDS["touchpoints"], 10, "touchpoint_id")

    assert [p for p, _ in result.accepted] == [1, 2]
    assert [(r.record, r.errors[0].rule) for r in result.rejected] == [(3, "not_utf8"), (4, "not_an_object"),
                                                                      (5, "not_json")]


def test_every_broken_rule_of_a_record_is_reported_with_its_id() -> None:
    body = json.dumps({**TOUCHPOINT, "channel": "x", "wait_seconds": -1, "extra": 1}).encode()

    result = sort_records(body, False, KINDS["touchpoints"], 10, "touchpoint_id")

    [rejected] = result.rejected
    assert rejected.id == "tp-1"
    assert {(e.field, e.rule) for e in rejected.errors} >= {("channel", "unknown_channel"),
                                                           ("wait_seconds", "out_of_range")}


def test_a_json_body_is_one_record_even_with_newlines_inside() -> None:
    body = json.dumps(TOUCHPOINT, indent=2).encode()

    result = sort_records(body, False, KINDS["touchpoints"], 1, "touchpoint_id")

    assert len(result.accepted) == 1 and not result.rejected


def test_more_records_than_the_limit_is_413_before_any_validation() -> None:
    body = _ndjson(*([b"garbage"] * 4))

    with pytest.raises(Refusal) as refused:
        sort_records(body, True, KINDS["touchpoints"], 3, "touchpoint_id")
    assert refused.value.status == 413 and refused.value.code == "too_many_records"


def test_deeply_nested_json_is_a_rejected_record_not_a_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000

    result = sort_records(body, False, KINDS["feedback"], 1, "feedback_id")

    assert result.rejected[0].errors[0].rule == "not_json"


def test_feedback_comments_are_redacted_when_validated() -> None:
    body = json.dumps({"feedback_id": "f", "touchpoint_id": "t", "submitted_at": "2026-11-25T14:03:07Z",
                       "answers": {"trust": 5}, "comment": "mail me: a.b@example.com"}).encode()

    [(_, record)] = sort_records(body, False, KINDS["feedback"], 1, "feedback_id").accepted

    assert record.comment == "mail me: [EMAIL]"
