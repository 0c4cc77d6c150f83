"""The OpenAPI document agrees with the contract's validator: whatever the validator accepts, the schema does."""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from cxstream.gateway import openapi
from cxstream.schemas.records import Feedback, Touchpoint
from tests.unit.schemas.strategies import feedbacks, touchpoints


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` and local refs as plain JSON Schema."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


SCHEMAS = _json_schema(openapi.document()["components"]["schemas"])


def _valid(name: str, obj: dict[str, Any]) -> bool:
    return jsonschema.Draft7Validator(SCHEMAS[name]).is_valid(obj)


def _rfc3339(millis: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@settings(max_examples=200, deadline=None)
@given(touchpoints.filter(lambda t: t.occurred_at < 1_900_000_000_000))
def test_every_valid_touchpoint_fits_the_documented_schema(touchpoint: Touchpoint) -> None:
    obj = {k: v for k, v in touchpoint.to_avro().items() if v is not None}
    obj["occurred_at"] = _rfc3339(touchpoint.occurred_at)

    assert _valid("Touchpoint", obj), obj


@settings(max_examples=200, deadline=None)
@given(feedbacks, st.booleans())
def test_every_valid_feedback_fits_the_documented_schema(feedback: Feedback, with_nulls: bool) -> None:
    obj = {k: v for k, v in feedback.to_avro().items() if with_nulls or v is not None}
    obj["submitted_at"] = _rfc3339(feedback.submitted_at)

    assert _valid("Feedback", obj), obj


def test_the_schema_refuses_what_the_contract_refuses() -> None:
    touchpoint = {"touchpoint_id": "t", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA", "service": "s",
                  "channel": "phone"}

    assert _valid("Touchpoint", touchpoint)
    for broken in ({"channel": "carrier_pigeon"}, {"wait_seconds": -1}, {"touchpoint_id": ""},
                   {"touchpoint_id": "x" * 65}, {"colour": "blue"}, {"survey_offered": "yes"}):
        assert not _valid("Touchpoint", {**touchpoint, **broken}), broken
    assert not _valid("Feedback", {"feedback_id": "f", "submitted_at": "2026-11-25T14:03:07Z",
                                   "answers": {"happiness": 3}})


def test_every_ingest_status_is_documented_with_a_json_body() -> None:
    doc = openapi.document()
    for path in ("/v1/touchpoints", "/v1/feedback"):
        responses = doc["paths"][path]["post"]["responses"]
        assert set(responses) == {"200", "401", "403", "408", "413", "415", "422", "429", "503"}
        assert all("application/json" in r["content"] for r in responses.values())
        assert "Retry-After" in responses["429"]["headers"] and "Retry-After" in responses["503"]["headers"]
