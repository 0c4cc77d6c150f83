"""Which consumed record becomes which store row (no broker, no server)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DomainScore, EnrichedFeedback, Touchpoint
from cxstream.sinks import tables
from cxstream.sinks.routing import build_batch
from cxstream.sinks.service import ClickHouseSink
from cxstream.sinks.writer import WriteFailed

NOW = 1_795_600_000_000
CODEC = Codec()


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes | None


def _touchpoint(tp_id: str = "tp-1") -> bytes:
    return CODEC.encode_record(Touchpoint(tp_id, NOW - 60_000, "VA", "claims", "phone"))


def _feedback(fb_id: str = "fb-1") -> bytes:
    return CODEC.encode_record(EnrichedFeedback(
        feedback_id=fb_id, touchpoint_id="tp-1", submitted_at=NOW - 30_000, agency="VA", service="claims",
        channel="phone", matched=True, answers={"trust": 4, "ease": 2}, comment=None))


def _score() -> bytes:
    return CODEC.encode_record(DomainScore(
        window_start=NOW - 60_000, window_seconds=60, agency="VA", service="claims", channel="phone", domain="trust",
        responses=1, count_1=0, count_2=0, count_3=0, count_4=1, count_5=0, mean=4.0, pct_positive=100.0, version=3))


def test_each_topic_fills_its_store_table_and_the_prefix_is_stripped() -> None:
    records = [
        Rec("p.cx.touchpoints.v1", 0, 7, NOW, _touchpoint()),
        Rec("p.cx.feedback.enriched.v1", 1, 3, NOW, _feedback()),
        Rec("p.cx.scores.v1", 2, 9, NOW, _score()),
    ]
    batch = build_batch(records, CODEC, "p.", now_ms=NOW)
    assert {t: len(r) for t, r in batch.rows.items()} == {tables.TOUCHPOINTS: 1, tables.FEEDBACK: 1, tables.SCORES: 1}
    feedback_row = dict(zip(tables.COLUMNS[tables.FEEDBACK], batch.rows[tables.FEEDBACK][0], strict=True))
    assert (feedback_row["feedback_id"], feedback_row["trust"], feedback_row["ease"], feedback_row["quality"]) == (
        "fb-1", 4, 2, None)
    assert batch.records == 3 and not batch.skipped


def test_invalid_touchpoints_and_tombstones_are_skipped_and_counted_not_stored() -> None:
    records = [
        Rec("cx.touchpoints.v1", 0, 1, NOW, b"not avro"),
        Rec("cx.touchpoints.v1", 0, 2, NOW, None),
        Rec("cx.touchpoints.v1", 0, 3, NOW, _touchpoint("tp-ok")),
        Rec("cx.feedback.enriched.v1", 0, 4, NOW, b"\xc3\x01garbage"),
    ]
    batch = build_batch(records, CODEC, "", now_ms=NOW)
    assert batch.row_count == 1
    assert batch.skipped == {"invalid_touchpoint": 1, "tombstone": 1, "undecodable:cx.feedback.enriched.v1": 1}


def test_a_later_record_of_the_same_fact_gets_a_higher_version() -> None:
    early = build_batch([Rec("cx.touchpoints.v1", 0, 999_999, NOW, _touchpoint())], CODEC, "", now_ms=NOW)
    late = build_batch([Rec("cx.touchpoints.v1", 3, 5, NOW + 1, _touchpoint())], CODEC, "", now_ms=NOW)
    version = tables.COLUMNS[tables.TOUCHPOINTS].index("_version")
    assert late.rows[tables.TOUCHPOINTS][0][version] > early.rows[tables.TOUCHPOINTS][0][version]


class _FlakyWriter:
    """Refuses the first ``failures`` attempts the way an unreachable server does."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    def migrate(self) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise WriteFailed("connection refused")


def test_the_sink_retries_with_growing_pauses_until_clickhouse_answers() -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    writer = _FlakyWriter(failures=6)
    sink = ClickHouseSink(Settings.load({"sink_retry_max_seconds": 4}, environ={}), writer=writer,  # type: ignore[arg-type]
                          sleep=sleep)
    asyncio.run(sink._until_written(writer.migrate, "migrate", consumer=None))
    assert writer.attempts == 7 and sink.metrics.failed_writes == 6
    assert pauses[0] == pytest.approx(0.5)
    assert all(b >= a * 0.8 for a, b in zip(pauses, pauses[1:], strict=False)), pauses
    assert max(pauses) <= 4.0


def test_an_unexpected_error_is_not_retried() -> None:
    class Broken:
        def migrate(self) -> None:
            raise ValueError("a bug")

    sink = ClickHouseSink(Settings.load({}, environ={}), writer=Broken())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        asyncio.run(sink._until_written(sink.writer.migrate, "migrate", consumer=None))
