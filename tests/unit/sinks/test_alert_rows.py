"""Alerts from cx.alerts.v1 become alerts_store rows (no broker, no server)."""

from __future__ import annotations

from dataclasses import dataclass

from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Alert
from cxstream.sinks import tables
from cxstream.sinks.routing import SINK_TABLES, build_batch
from cxstream.vocabulary import TOPIC_ALERTS

CODEC = Codec()
NOW = 1_795_600_000_000


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes | None


def _alert(state: str = "firing", raised_at: int = NOW + 1_234) -> Alert:
    return Alert(agency="VA", service="disability-claims", domain="trust", state=state, pct_positive=12.5,
                 responses=40, threshold=60.0, min_responses=30, window_end=NOW, raised_at=raised_at)


def test_alert_row_keeps_the_transition_its_figures_and_exact_milliseconds() -> None:
    row = dict(zip(tables.COLUMNS[tables.ALERTS], tables.alert_row(_alert(), version=9), strict=True))

    assert row == {
        "agency": "VA", "service": "disability-claims", "domain": "trust", "state": "firing",
        "window_end": NOW // 1000, "window_end_ms": NOW, "raised_at": (NOW + 1_234) // 1000,
        "raised_at_ms": NOW + 1_234, "pct_positive": 12.5, "responses": 40, "threshold": 60.0,
        "min_responses": 30, "_version": 9,
    }


def test_the_sink_reads_the_alerts_topic_into_the_alerts_table() -> None:
    assert SINK_TABLES[TOPIC_ALERTS] == tables.ALERTS
    records = [Rec(f"p.{TOPIC_ALERTS}", 0, 4, NOW + 2_000, CODEC.encode_record(_alert())),
               Rec(f"p.{TOPIC_ALERTS}", 0, 5, NOW + 3_000, CODEC.encode_record(_alert("resolved")))]

    batch = build_batch(records, CODEC, "p.", now_ms=NOW)

    assert [row[3] for row in batch.rows[tables.ALERTS]] == ["firing", "resolved"]
    assert not batch.skipped


def test_the_same_transition_published_again_later_gets_a_higher_version() -> None:
    first = build_batch([Rec(TOPIC_ALERTS, 1, 999_999, NOW + 1_000, CODEC.encode_record(_alert()))], CODEC, "")
    again = build_batch([Rec(TOPIC_ALERTS, 1, 3, NOW + 60_000, CODEC.encode_record(_alert(raised_at=NOW + 59_000)))],
                        CODEC, "")
    version = tables.COLUMNS[tables.ALERTS].index("_version")
    assert again.rows[tables.ALERTS][0][version] > first.rows[tables.ALERTS][0][version]


def test_an_undecodable_alert_is_counted_not_stored() -> None:
    batch = build_batch([Rec(TOPIC_ALERTS, 0, 1, NOW, b"\xc3\x01garbage")], CODEC, "", now_ms=NOW)
    assert batch.row_count == 0 and batch.skipped == {f"undecodable:{TOPIC_ALERTS}": 1}
