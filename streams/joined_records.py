"""What the join tells the score stage next to each record of the internal joined topic.

Kafka headers, so the record value stays the EnrichedFeedback that the storage feed publishes:

- ``cx-source``: the identity of the input copy a record stems from, ``topic:partition:offset``
  of the message a channel sent (dedupe lets the copy received first win, see streams/dedupe.py);
- ``cx-claim``: the record is a claim, with an empty value: a copy was received and is held back
  in the join, waiting for its touchpoint;
- ``cx-late``: the copy arrived too late for the live windows: store it, do not score it (the
  join has dead-lettered it, with the input's own position and bytes);
- ``cx-key``: on the re-key topic, the key the channel sent (absent when it sent none).

Records written by an earlier release carry no headers: their identity is their joined offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

SOURCE: Final = "cx-source"
CLAIM: Final = "cx-claim"
LATE: Final = "cx-late"
ORIGIN_KEY: Final = "cx-key"
_PRESENT: Final = b"1"

Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an input copy was sent: the position and key a dead letter must name."""

    topic: str
    partition: int
    offset: int
    key: bytes | None

    @property
    def source(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def header(headers: Headers, name: str) -> bytes | None:
    """The value of header ``name`` (Faust hands over a list of pairs or a mapping), or None."""
    if not headers:
        return None
    if isinstance(headers, Mapping):
        return headers.get(name)
    for key, value in headers:
        if key == name:
            return value
    return None


def origin_of(message: Any) -> Origin:
    """The input copy a consumed message stands for: itself, or, on the re-key topic, the
    message it was forwarded from."""
    source = header(message.headers, SOURCE)
    if source is None:
        return Origin(message.topic, message.partition, message.offset, message.key)
    topic, partition, offset = source.decode().rsplit(":", 2)
    return Origin(topic, int(partition), int(offset), header(message.headers, ORIGIN_KEY))


def rekey_headers(origin: Origin) -> dict[str, bytes]:
    """Headers of a message forwarded to its home partition: where it came from."""
    headers = {SOURCE: origin.source.encode()}
    if origin.key is not None:
        headers[ORIGIN_KEY] = origin.key
    return headers


def release_headers(source: str, late: bool) -> dict[str, bytes]:
    """Headers of a joined feedback."""
    headers = {SOURCE: source.encode()} if source else {}
    if late:
        headers[LATE] = _PRESENT
    return headers


def claim_headers(source: str) -> dict[str, bytes]:
    """Headers of a claim: this copy was received and is held back."""
    return {SOURCE: source.encode(), CLAIM: _PRESENT}


def is_claim(headers: Headers) -> bool:
    return header(headers, CLAIM) is not None


def is_late(headers: Headers) -> bool:
    return header(headers, LATE) is not None


def source_or(headers: Headers, fallback: str) -> str:
    """The record's source identity, or ``fallback`` for a record of an earlier release."""
    source = header(headers, SOURCE)
    return fallback if source is None else source.decode()
