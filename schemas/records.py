"""Typed records of the contract. Times are UTC epoch milliseconds, as on the wire.

Field names are the contract's (and the Avro schemas'), so a decoded datum becomes a record with
``Touchpoint(**datum)`` and a record becomes a datum with :meth:`to_avro`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final


class ContractRecord:
    """Base of every record type: its Avro record name, and conversion to an Avro datum."""

    avro_name: ClassVar[str]
    __slots__ = ()

    def to_avro(self) -> dict[str, Any]:
        """The record as an Avro datum (a plain dict; values are shared, not copied, for speed)."""
        return {name: getattr(self, name) for name in _field_names(type(self))}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Touchpoint(ContractRecord):
    """A customer was served."""

    avro_name: ClassVar[str] = "Touchpoint"
    touchpoint_id: str
    occurred_at: int
    agency: str
    service: str
    channel: str
    outcome: str | None = None
    wait_seconds: int | None = None
    handle_seconds: int | None = None
    survey_offered: bool | None = None


@dataclass(frozen=True, slots=True)
class A11V2(ContractRecord):
    """Answers on the current A-11 form (FY2024 on): the trust question and the driver checklists.

    Lists are tuples, in the order given; a driver not in ``offered`` was not asked."""

    avro_name: ClassVar[str] = "A11V2Answers"
    trust: int
    trust_scale: str
    went_well: tuple[str, ...] = ()
    did_not_go_well: tuple[str, ...] = ()
    offered: tuple[str, ...] = ()
    transaction_point: str = "post_interaction"

    def to_avro(self) -> dict[str, Any]:
        return {"trust": self.trust, "trust_scale": self.trust_scale, "went_well": list(self.went_well),
                "did_not_go_well": list(self.did_not_go_well), "offered": list(self.offered),
                "transaction_point": self.transaction_point}

    @classmethod
    def of(cls, value: A11V2 | dict[str, Any] | None) -> A11V2 | None:
        """The answers from a decoded datum (a dict), as they are, or None."""
        if value is None or isinstance(value, A11V2):
            return value
        return cls(value["trust"], value["trust_scale"], tuple(value.get("went_well") or ()),
                   tuple(value.get("did_not_go_well") or ()), tuple(value.get("offered") or ()),
                   value.get("transaction_point") or "post_interaction")


class _CarriesA11V2:
    """Records with an ``a11_v2`` field: built from a decoded datum it is a dict, made typed here;
    written, it becomes a datum again."""

    __slots__ = ()
    a11_v2: Any

    def __post_init__(self) -> None:
        value = self.a11_v2
        if isinstance(value, dict):
            object.__setattr__(self, "a11_v2", A11V2.of(value))

    def to_avro(self) -> dict[str, Any]:
        datum = {name: getattr(self, name) for name in _field_names(type(self))}
        if datum["a11_v2"] is not None:
            datum["a11_v2"] = datum["a11_v2"].to_avro()
        return datum


@dataclass(frozen=True, slots=True)
class Feedback(_CarriesA11V2, ContractRecord):
    """A survey answer: domain -> answer 1..5 (the 2019-2023 form), A-11 v2 answers, or both."""

    avro_name: ClassVar[str] = "Feedback"
    feedback_id: str
    submitted_at: int
    answers: dict[str, int]
    touchpoint_id: str | None = None
    comment: str | None = None
    agency: str | None = None
    service: str | None = None
    channel: str | None = None
    a11_v2: A11V2 | None = None

    @property
    def kafka_key(self) -> bytes:
        """The contract's key: touchpoint_id, or feedback_id when there is none."""
        return (self.touchpoint_id or self.feedback_id).encode()


@dataclass(frozen=True, slots=True)
class DomainScore(ContractRecord):
    """The latest state of one window's score for one domain."""

    avro_name: ClassVar[str] = "DomainScore"
    window_start: int
    window_seconds: int
    agency: str
    service: str
    channel: str
    domain: str
    responses: int
    count_1: int
    count_2: int
    count_3: int
    count_4: int
    count_5: int
    mean: float
    pct_positive: float
    version: int


@dataclass(frozen=True, slots=True)
class TrustScore(ContractRecord):
    """The latest state of one window's trust question (current A-11 form) on one scale."""

    avro_name: ClassVar[str] = "TrustScore"
    window_start: int
    window_seconds: int
    agency: str
    service: str
    channel: str
    trust_scale: str
    responses: int
    favourable: int
    count_0: int
    count_1: int
    count_2: int
    count_3: int
    count_4: int
    count_5: int
    pct_favourable: float
    version: int


@dataclass(frozen=True, slots=True)
class DriverScore(ContractRecord):
    """The latest state of one window's counts for one driver (current A-11 form)."""

    avro_name: ClassVar[str] = "DriverScore"
    window_start: int
    window_seconds: int
    agency: str
    service: str
    channel: str
    driver: str
    offered: int
    went_well: int
    did_not_go_well: int
    pct_went_well: float
    pct_did_not_go_well: float
    version: int


@dataclass(frozen=True, slots=True)
class Alert(ContractRecord):
    """A rolling score crossed its threshold (firing) or recovered (resolved)."""

    avro_name: ClassVar[str] = "Alert"
    agency: str
    service: str
    domain: str
    state: str
    pct_positive: float
    responses: int
    threshold: float
    min_responses: int
    window_end: int
    raised_at: int


@dataclass(frozen=True, slots=True)
class DeadLetter(ContractRecord):
    """Input that could not be used, with why, and its original bytes."""

    avro_name: ClassVar[str] = "DeadLetter"
    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    reason: str
    detail: str
    received_at: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class EnrichedFeedback(_CarriesA11V2, ContractRecord):
    """A feedback with the cell it is scored in: what the join emits and the sink stores."""

    avro_name: ClassVar[str] = "EnrichedFeedback"
    feedback_id: str
    touchpoint_id: str | None
    submitted_at: int
    agency: str
    service: str
    channel: str
    matched: bool
    answers: dict[str, int]
    comment: str | None
    a11_v2: A11V2 | None = None


def touchpoint_key(touchpoint: Touchpoint) -> bytes:
    """The contract's key of a touchpoint."""
    return touchpoint.touchpoint_id.encode()


#: Every record type by its Avro record name (the ``name`` of its .avsc).
RECORD_TYPES: Final[dict[str, type[ContractRecord]]] = {
    cls.avro_name: cls
    for cls in (Touchpoint, Feedback, DomainScore, Alert, DeadLetter, EnrichedFeedback, TrustScore, DriverScore)
}
