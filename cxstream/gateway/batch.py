"""A request body -> the records it holds, each validated with the contract code (as ``cxstream publish``).

``application/json`` is one object; ``application/x-ndjson`` is one object per line (blank lines
ignored). A record that breaks the contract is rejected with every broken rule; the others go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cxstream.ingest.kinds import JsonKind
from cxstream.gateway.errors import Refusal
from cxstream.ingest.json_records import NotARecord, parse_record
from cxstream.schemas.errors import FieldError, ValidationError
from cxstream.schemas.records import Feedback, Touchpoint

JSON_TYPE = "application/json"
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson")


@dataclass(frozen=True)
class Rejected:
    """A record that was not accepted: its position (1-based line), its id if readable, why."""

    record: int
    id: str | None
    errors: list[FieldError]

    def to_json(self) -> dict[str, Any]:
        return {"record": self.record, "id": self.id,
                "errors": [{"field": e.field, "rule": e.rule, "message": e.message} for e in self.errors]}


@dataclass
class Sorted:
    """A body's records: accepted (position, record) pairs and rejections, in body order."""

    accepted: list[tuple[int, Touchpoint | Feedback]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.accepted) + len(self.rejected)


def is_batch(content_type: str) -> bool:
    """True for NDJSON, False for one JSON object; 415 for anything else."""
    if content_type == JSON_TYPE:
        return False
    if content_type in NDJSON_TYPES:
        return True
    raise Refusal(415, "unsupported_media_type",
                  f"Content-Type must be {JSON_TYPE} (one record) or {NDJSON_TYPES[0]} (one record per line), "
                  f"got {content_type or 'none'!r}")


def sort_records(body: bytes, batch: bool, kind: JsonKind, max_records: int, id_field: str) -> Sorted:
    """Split and validate; 413 when a batch has more than ``max_records`` records."""
    lines = [line for line in body.split(b"\n") if line.strip()] if batch else [body]
    if len(lines) > max_records:
        raise Refusal(413, "too_many_records",
                      f"{len(lines)} records in one request, at most {max_records}: split the batch",
                      max_records=max_records)
    now_ms = int(time.time() * 1000)
    result = Sorted()
    for position, line in enumerate(lines, start=1):
        obj, problem = _parse(line)
        if problem is not None:
            result.rejected.append(Rejected(position, None, [problem]))
            continue
        assert obj is not None
        try:
            result.accepted.append((position, kind.parse(obj, now_ms)))
        except ValidationError as invalid:
            raw_id = obj.get(id_field)
            record_id = raw_id[:64] if isinstance(raw_id, str) else None
            result.rejected.append(Rejected(position, record_id, invalid.errors))
    return result


def _parse(line: bytes) -> tuple[dict[str, Any] | None, FieldError | None]:
    try:
        return parse_record(line), None
    except NotARecord as bad:
        return None, bad.error
