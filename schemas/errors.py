"""Errors of the contracts layer: undecodable bytes and records that break the contract's rules.

Both are data about one message (it becomes a dead letter), never a reason to stop a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxstream.errors import CxstreamError


class SchemaError(CxstreamError):
    """A schema the code cannot use: invalid Avro, an unknown record type, no Confluent id for it.

    A programming or deployment error, unlike :class:`DecodeError`, which is about one message.
    """


class DecodeError(CxstreamError):
    """Bytes that are not a message we can read; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule: the field (dotted path), the rule's code, and what was wrong."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}: {self.message}"


class ValidationError(CxstreamError):
    """A record that breaks one or more of the contract's rules; ``errors`` names each one."""

    reason = "invalid"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    @property
    def detail(self) -> str:
        return str(self)
