"""Records become insert rows in the store tables' column order, without a server."""

from __future__ import annotations

import pytest

from cxstream.schemas.records import DeadLetter, DomainScore, EnrichedFeedback, Touchpoint
from cxstream.sinks import tables
from cxstream.vocabulary import DOMAINS


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def execute(self, query: str, params: object = None) -> list[object]:
        self.calls.append((query, params))
        return []


def _row(table: str, row: tuple[object, ...]) -> dict[str, object]:
    assert len(row) == len(tables.COLUMNS[table])
    return dict(zip(tables.COLUMNS[table], row, strict=True))


@pytest.mark.parametrize(("offered", "stored"), [(None, None), (True, 1), (False, 0)])
def test_touchpoint_row_keeps_exact_milliseconds_and_the_version(offered: bool | None, stored: int | None) -> None:
    tp = Touchpoint("tp-1", 1_795_615_387_250, "VA", "claims", "phone", "completed", 95, None, offered)

    row = _row(tables.TOUCHPOINTS, tables.touchpoint_row(tp, version=42))

    assert row == {
        "touchpoint_id": "tp-1", "occurred_at": 1_795_615_387, "occurred_at_ms": 1_795_615_387_250,
        "agency": "VA", "service": "claims", "channel": "phone", "outcome": "completed",
        "wait_seconds": 95, "handle_seconds": None, "survey_offered": stored, "_version": 42,
    }


def test_feedback_row_has_one_column_per_domain_null_where_unanswered() -> None:
    fb = EnrichedFeedback("fb-1", None, 1_795_615_781_999, "VA", "claims", "unknown", False,
                          {"trust": 3, "satisfaction": 4, "helpfulness": 1}, "ok")

    row = _row(tables.FEEDBACK, tables.feedback_row(fb, version=7))

    assert {d: row[d] for d in DOMAINS} == {
        "satisfaction": 4, "trust": 3, "quality": None, "ease": None, "efficiency": None, "equity": None,
        "helpfulness": 1,
    }
    assert (row["submitted_at"], row["submitted_at_ms"]) == (1_795_615_781, 1_795_615_781_999)
    assert (row["matched"], row["touchpoint_id"], row["comment"], row["_version"]) == (0, None, "ok", 7)


def test_feedback_row_refuses_an_unknown_domain_rather_than_dropping_it() -> None:
    fb = EnrichedFeedback("fb-1", None, 0, "VA", "claims", "phone", True, {"courtesy": 5}, None)
    with pytest.raises(ValueError, match="courtesy"):
        tables.feedback_row(fb, version=1)


def test_score_row_stores_the_window_start_in_seconds_and_the_score_version() -> None:
    score = DomainScore(1_795_615_380_000, 60, "VA", "claims", "phone", "trust", 3, 0, 0, 1, 1, 1, 4.0,
                        66.66666666666667, 9)

    row = _row(tables.SCORES, tables.score_row(score))

    assert (row["window_start"], row["version"], row["responses"], row["count_5"]) == (1_795_615_380, 9, 3, 1)
    assert (row["mean"], row["pct_positive"]) == (4.0, 66.66666666666667)


def test_dead_letter_row_keeps_key_and_raw_bytes_unchanged() -> None:
    dl = DeadLetter("cx.feedback.v1", 2, 77, b"\xff", "invalid", "answers.trust: 9 > 5", 1_795_615_387_250,
                    b"\xc3\x01raw")

    row = _row(tables.DEAD_LETTERS, tables.dead_letter_row(dl))

    assert (row["partition"], row["offset"], row["key"], row["raw"]) == (2, 77, b"\xff", b"\xc3\x01raw")
    assert (row["received_at"], row["received_at_ms"]) == (1_795_615_387, 1_795_615_387_250)


def test_insert_sends_one_parameterised_insert_and_nothing_for_no_rows() -> None:
    client = RecordingClient()
    assert tables.insert(client, "cx", tables.DEAD_LETTERS, []) == 0
    assert client.calls == []

    rows = [("t", 0, 1, "r", "d", 0, 0, None, b"")]
    assert tables.insert(client, "cx", tables.DEAD_LETTERS, rows) == 1

    [(query, params)] = client.calls
    assert query == (
        "INSERT INTO cx.dead_letters_store (`source_topic`, `partition`, `offset`, `reason`, `detail`, "
        "`received_at`, `received_at_ms`, `key`, `raw`) VALUES"
    )
    assert params == rows
