"""The OpenAPI 3.0 document the gateway serves at ``/v1/openapi.json``, built from the contract's constants."""

from __future__ import annotations

from typing import Any

from cxstream import __version__
from cxstream.gateway.batch import JSON_TYPE, NDJSON_TYPES
from cxstream.schemas.validation import MAX_COMMENT_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_SECONDS
from cxstream.vocabulary import (
    CHANNELS,
    DEFAULT_TRANSACTION_POINT,
    DOMAINS,
    DRIVERS,
    MAX_ANSWER,
    MIN_ANSWER,
    OUTCOMES,
    REQUIRED_DRIVERS,
    TRANSACTION_POINTS,
    TRUST_SCALES,
)


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S",
            "description": description}


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_TIME = {"type": "string", "format": "date-time",
         "description": "RFC 3339 with a UTC offset; from 2000-01-01 to one day ahead of the gateway's clock"}
_SECONDS = {"type": "integer", "minimum": 0, "maximum": MAX_SECONDS}

TOUCHPOINT: dict[str, Any] = {
    "type": "object",
    "description": "A customer was served.",
    "required": ["touchpoint_id", "occurred_at", "agency", "service", "channel"],
    "additionalProperties": False,
    "properties": {
        "touchpoint_id": _text(MAX_ID_LENGTH, "Unique per touchpoint; a retry with the same id counts once"),
        "occurred_at": _TIME,
        "agency": _text(MAX_NAME_LENGTH, "Must be the API key's agency"),
        "service": _text(MAX_NAME_LENGTH, "The service provided"),
        "channel": {"type": "string", "enum": list(CHANNELS), "description": "One of the API key's channels"},
        "outcome": _optional({"type": "string", "enum": list(OUTCOMES)}),
        "wait_seconds": _optional(_SECONDS),
        "handle_seconds": _optional(_SECONDS),
        "survey_offered": _optional({"type": "boolean"}),
    },
}

_DRIVER_LIST = {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": list(DRIVERS)}}

A11_V2: dict[str, Any] = {
    "type": "object",
    "description": ("Answers on the current A-11 form (FY2024 on). trust: thumbs 1 (up) or 0 (down), five_point "
                    f"1..5. offered must include {' and '.join(REQUIRED_DRIVERS)}; went_well and did_not_go_well "
                    "are subsets of offered."),
    "required": ["trust", "trust_scale", "offered"],
    "additionalProperties": False,
    "properties": {
        "trust": {"type": "integer", "minimum": 0, "maximum": 5},
        "trust_scale": {"type": "string", "enum": list(TRUST_SCALES)},
        "went_well": _DRIVER_LIST,
        "did_not_go_well": _DRIVER_LIST,
        "offered": {**_DRIVER_LIST, "minItems": len(REQUIRED_DRIVERS)},
        "transaction_point": {"type": "string", "enum": list(TRANSACTION_POINTS), "default": DEFAULT_TRANSACTION_POINT},
    },
}

FEEDBACK: dict[str, Any] = {
    "type": "object",
    "description": ("A survey answer: v1 answers (1..7 domains), a11_v2 (the current form), or both. agency, "
                    "service and channel are required when touchpoint_id is absent."),
    "required": ["feedback_id", "submitted_at"],
    "additionalProperties": False,
    "properties": {
        "feedback_id": _text(MAX_ID_LENGTH, "Unique per answer; a retry with the same id counts once"),
        "touchpoint_id": _optional(_text(MAX_ID_LENGTH, "The touchpoint answered about")),
        "submitted_at": _TIME,
        "answers": {
            "type": "object", "additionalProperties": False,
            "description": "Domain to answer 1..5; may be empty (or left out) when a11_v2 is given",
            "properties": {d: {"type": "integer", "minimum": MIN_ANSWER, "maximum": MAX_ANSWER} for d in DOMAINS},
        },
        "a11_v2": _optional(A11_V2),
        "comment": _optional({"type": "string", "description":
                              f"Free text; personal data is redacted; at most {MAX_COMMENT_LENGTH} characters after"}),
        "agency": _optional(_text(MAX_NAME_LENGTH, "If given, must be the API key's agency")),
        "service": _optional(_text(MAX_NAME_LENGTH, "The service provided")),
        "channel": _optional({"type": "string", "enum": list(CHANNELS),
                              "description": "If given, one of the API key's channels"}),
    },
}

_FIELD_ERROR = {
    "type": "object", "required": ["field", "rule", "message"],
    "properties": {"field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}},
}
_REJECTED = {
    "type": "object", "required": ["record", "id", "errors"],
    "properties": {"record": {"type": "integer", "minimum": 1, "description": "1-based line in the body"},
                   "id": {"type": "string", "nullable": True},
                   "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}}},
}
_ACCEPTED = {
    "type": "object", "required": ["accepted", "rejected"],
    "properties": {"accepted": {"type": "integer", "minimum": 0,
                                "description": "Records acknowledged by Kafka (acks=all)"},
                   "rejected": {"type": "array", "items": {"$ref": "#/components/schemas/Rejected"}}},
}
_ERROR = {
    "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if retry_after:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                               "description": "Seconds to wait before retrying"}}
    return response


def _ingest(kind: str, schema: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": f"post_{kind}",
            "summary": f"Publish {kind}: one JSON object, or NDJSON (one object per line)",
            "security": [{"apiKey": []}],
            "requestBody": {"required": True, "content": {
                JSON_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                NDJSON_TYPES[0]: {"schema": {"type": "array", "minItems": 1,
                                             "items": {"$ref": f"#/components/schemas/{schema}"}},
                                  "description": "Each line one JSON object"},
            }},
            "responses": {
                "200": {"description": "Every accepted record is in Kafka; `rejected` lists the others",
                        "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                "401": _error("Missing, unknown or revoked API key"),
                "403": _error("A record's agency or channel is not the key's; nothing was written"),
                "408": _error("The body did not arrive within the body timeout of the headers; nothing was "
                              "written and the connection is closed. Send the body at once, or smaller batches"),
                "413": _error("Body or record count over the limit; nothing was written"),
                "415": _error("Content-Type is neither application/json nor application/x-ndjson"),
                "422": {"description": "No record was valid; nothing was written. Every record's errors are listed",
                        "content": {JSON_TYPE: {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"},
                                                                     {"$ref": "#/components/schemas/Accepted"}]}}}},
                "429": _error("The key's rate limit (`error`: `rate_limited`), or too many requests in flight "
                              "with the key or from the client's address (`too_many_in_flight`, the connection "
                              "is closed); nothing was written", retry_after=True),
                "503": _error("Kafka did not acknowledge; retry the whole request with the same ids",
                              retry_after=True),
            },
        }
    }


def document() -> dict[str, Any]:
    """The gateway's OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "cxstream ingest gateway", "version": __version__,
                 "description": "Touchpoints and A-11 feedback into cxstream. A 200 means every accepted "
                                "record was acknowledged by Kafka; any other status means nothing of the "
                                "request was written, except a 503 whose `written` is \"unknown\"."},
        "paths": {
            "/v1/touchpoints": _ingest("touchpoints", "Touchpoint"),
            "/v1/feedback": _ingest("feedback", "Feedback"),
            "/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                         "responses": {"200": {"description": "OpenAPI 3.0 document",
                                                               "content": {JSON_TYPE: {"schema": {"type": "object"}}}}}}},
            "/healthz": {"get": {"operationId": "health", "summary": "The gateway process answers",
                                 "responses": {"200": {"description": "Up",
                                                       "content": {JSON_TYPE: {"schema": {"type": "object"}}}}}}},
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "Authorization: Bearer cxk_<id>_<secret> "
                                                          "(from `cxstream keys add`)"}},
            "schemas": {"Touchpoint": TOUCHPOINT, "Feedback": FEEDBACK, "FieldError": _FIELD_ERROR,
                        "Rejected": _REJECTED, "Accepted": _ACCEPTED, "Error": _ERROR},
        },
    }
