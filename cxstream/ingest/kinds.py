"""The two input kinds of the JSON form (touchpoints, feedback): validated, keyed, encoded.

Shared by ``cxstream publish`` and, later, the HTTP gateway, so both accept exactly the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cxstream.ingest.publish import Rejection
from cxstream.redaction import redact
from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import ValidationError
from cxstream.schemas.records import Feedback, Touchpoint, touchpoint_key
from cxstream.schemas.validation import feedback_from_json, touchpoint_from_json
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS


@dataclass
class JsonKind:
    """One input kind: its topic, its validator and its key."""

    name: str
    topic: str
    codec: Codec
    parse: Callable[[dict[str, Any], int], Touchpoint | Feedback]
    key: Callable[[Any], bytes]

    def to_message(self, obj: dict[str, Any]) -> tuple[bytes, bytes]:
        """(key, Avro value) of a JSON object; Rejection naming every broken rule otherwise."""
        try:
            record = self.parse(obj, int(time.time() * 1000))
        except ValidationError as invalid:
            raise Rejection(invalid.errors[0].rule, str(invalid)) from None
        return self.encode(record)

    def encode(self, record: Touchpoint | Feedback) -> tuple[bytes, bytes]:
        """(key, Avro value) of a validated record (the gateway validates first, then authorizes)."""
        return self.key(record), self.codec.encode(record.avro_name, record.to_avro())


def input_kinds(codec: Codec, topic: Callable[[str], str] = str) -> dict[str, JsonKind]:
    """The kinds ``cxstream publish`` accepts, by their command-line name; ``topic`` names topics."""
    return {
        "touchpoints": JsonKind("touchpoints", topic(TOPIC_TOUCHPOINTS), codec, touchpoint_from_json,
                                touchpoint_key),
        "feedback": JsonKind("feedback", topic(TOPIC_FEEDBACK), codec,
                             lambda obj, now_ms: feedback_from_json(obj, now_ms, redact=redact),
                             lambda f: f.kafka_key),
    }
