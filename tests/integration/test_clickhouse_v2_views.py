"""The current A-11 form in ClickHouse, on 18.16 and on chdb: feedback columns as the government's
response file has them, trust and driver scores with one row per fact, exact rolling sums.

As in test_clickhouse_views.py, merges are stopped so the views alone must hide replayed copies;
expected values are computed here in plain Python from the records inserted.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import A11V2, DriverScore, EnrichedFeedback, TrustScore
from cxstream.scores import DriverCounts, TrustCounts, wilson_interval
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from cxstream.vocabulary import DRIVERS, FAVOURABLE_TRUST, TRUST_VALUES
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, open_backend

MIN_RESPONSES = 8
SPANS = {"15m": 15, "1h": 60, "24h": 1440}
TRUST_COLUMNS = ("responses, favourable, pct_favourable, count_0, count_1, count_2, count_3, count_4, count_5, "
                 "pct_favourable_low, pct_favourable_high, suppressed")
DRIVER_COLUMNS = "offered, went_well, did_not_go_well, pct_went_well, pct_did_not_go_well"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_v2_views") as opened:
        migrate(opened.client, opened.database, bi_min_responses=MIN_RESPONSES)
        for table in tables.COLUMNS:
            opened.stop_merges(table)
        yield opened


def _rows(backend: Backend, columns: str, rest: str) -> list[dict[str, Any]]:
    names = [c.strip() for c in columns.split(",")]
    return [dict(zip(names, row, strict=True)) for row in backend.rows(f"SELECT {columns} {rest}")]


def test_feedback_view_has_the_current_form_as_the_response_file_has_it(backend: Backend) -> None:
    at = int(datetime(2026, 11, 3, 12, tzinfo=UTC).timestamp() * 1000)
    v2 = A11V2(0, "thumbs", ("effectiveness",), ("ease", "employee"), ("effectiveness", "ease", "employee", "other"),
               "post_service_journey")
    both = EnrichedFeedback("fb-both", "tp-1", at, "VA", "claims", "phone", True, {"trust": 5, "ease": 2}, None,
                            A11V2(4, "five_point", (), (), ("effectiveness", "ease")))
    rows = [tables.feedback_row(EnrichedFeedback("fb-v2", None, at, "VA", "claims", "phone", False, {}, "x", v2), 1),
            tables.feedback_row(both, 2),
            tables.feedback_row(EnrichedFeedback("fb-v1", None, at, "VA", "claims", "phone", False, {"trust": 3},
                                                 None), 3)]
    tables.insert(backend.client, backend.database, tables.FEEDBACK, rows)
    tables.insert(backend.client, backend.database, tables.FEEDBACK, rows)  # replayed

    flags = ", ".join(f"positive_{d}, negative_{d}" for d in DRIVERS)
    got = {r["feedback_id"]: r for r in _rows(
        backend, f"feedback_id, trust, question_1, trust_scale, transaction_point, {flags}",
        "FROM {db}.feedback WHERE feedback_id LIKE 'fb-%'")}
    assert set(got) == {"fb-v2", "fb-both", "fb-v1"}
    one = got["fb-v2"]
    assert (one["trust"], one["question_1"], one["trust_scale"], one["transaction_point"]) == (
        None, 0, "thumbs", "post_service_journey")
    assert [(one[f"positive_{d}"], one[f"negative_{d}"]) for d in DRIVERS] == [
        (1, 0), (0, 1), (None, None), (None, None), (None, None), (0, 1), (0, 0)]
    # Both forms in one feedback: the v1 trust domain and the v2 trust question side by side.
    assert (got["fb-both"]["trust"], got["fb-both"]["question_1"], got["fb-both"]["trust_scale"]) == (
        5, 4, "five_point")
    v1 = got["fb-v1"]
    assert v1["trust"] == 3 and all(v1[c] is None for c in v1 if c not in ("feedback_id", "trust"))


def _trust(rng: random.Random, scale: str) -> TrustCounts:
    counts = [0] * 6
    for value in TRUST_VALUES[scale]:
        counts[value] = rng.randint(0, 6)
    return TrustCounts(tuple(counts))  # type: ignore[arg-type]


def _trust_score(window_s: int, agency: str, channel: str, scale: str, counts: TrustCounts, version: int,
                 window_seconds: int = 60) -> TrustScore:
    c = counts.counts
    return TrustScore(window_s * 1000, window_seconds, agency, "claims", channel, scale, counts.responses,
                      counts.favourable(scale), c[0], c[1], c[2], c[3], c[4], c[5], counts.pct_favourable(scale),
                      version)


def _driver_score(window_s: int, agency: str, channel: str, driver: str, counts: DriverCounts,
                  version: int) -> DriverScore:
    return DriverScore(window_s * 1000, 60, agency, "claims", channel, driver, counts.offered, counts.went_well,
                       counts.did_not_go_well, counts.pct_went_well, counts.pct_did_not_go_well, version)


def _assert_trust(row: dict[str, Any], scale: str, counts: TrustCounts) -> None:
    n, favourable = counts.responses, counts.favourable(scale)
    assert [row[f"count_{v}"] for v in range(6)] == list(counts.counts)
    assert (row["responses"], row["favourable"]) == (n, favourable)
    assert row["pct_favourable"] == pytest.approx(counts.pct_favourable(scale))
    low, high = wilson_interval(favourable, n)
    assert (row["pct_favourable_low"], row["pct_favourable_high"]) == (pytest.approx(low), pytest.approx(high))
    assert bool(row["suppressed"]) == (n < MIN_RESPONSES)
    assert favourable == sum(counts.counts[v] for v in FAVOURABLE_TRUST[scale])


def _assert_driver(row: dict[str, Any], counts: DriverCounts) -> None:
    assert (row["offered"], row["went_well"], row["did_not_go_well"]) == counts.as_tuple()
    assert row["pct_went_well"] == pytest.approx(counts.pct_went_well)
    assert row["pct_did_not_go_well"] == pytest.approx(counts.pct_did_not_go_well)


def test_window_views_keep_the_highest_version_of_each_cell(backend: Backend) -> None:
    rng = random.Random(7)
    start = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    trust: dict[tuple[int, str, str], TrustCounts] = {}
    drivers: dict[tuple[int, str, str], DriverCounts] = {}
    trust_rows, driver_rows = [], []
    for minute in range(10):
        window = start + 60 * minute
        for scale in ("thumbs", "five_point"):
            for version in sorted(rng.sample(range(1, 500), 3)):
                counts = _trust(rng, scale)
                trust_rows.append(tables.trust_score_row(_trust_score(window, "VA", "phone", scale, counts, version)))
            trust[(window, "phone", scale)] = counts
        for driver in ("ease", "humanity"):
            for version in sorted(rng.sample(range(1, 500), 2)):
                offered = rng.randint(0, 9)
                counts = DriverCounts(offered, rng.randint(0, offered), rng.randint(0, offered))
                driver_rows.append(tables.driver_score_row(_driver_score(window, "VA", "phone", driver, counts,
                                                                           version)))
            drivers[(window, "phone", driver)] = counts
    rng.shuffle(trust_rows)
    for batch in (trust_rows, trust_rows[: len(trust_rows) // 2]):  # a partial replay, too
        tables.insert(backend.client, backend.database, tables.TRUST_SCORES, batch)
    tables.insert(backend.client, backend.database, tables.DRIVER_SCORES, driver_rows)
    tables.insert(backend.client, backend.database, tables.DRIVER_SCORES, driver_rows)

    between = ("WHERE window_start >= toDateTime('2026-11-01 00:00:00', 'UTC') "
               "AND window_start < toDateTime('2026-11-02 00:00:00', 'UTC')")
    rows = _rows(backend, f"window_start, channel, trust_scale, {TRUST_COLUMNS}", "FROM {db}.trust_scores " + between)
    assert len(rows) == len(trust)
    for row in rows:
        _assert_trust(row, row["trust_scale"], trust[(int(row["window_start"].timestamp()), row["channel"],
                                                      row["trust_scale"])])
    rows = _rows(backend, f"window_start, channel, driver, {DRIVER_COLUMNS}", "FROM {db}.driver_scores " + between)
    assert len(rows) == len(drivers)
    for row in rows:
        _assert_driver(row, drivers[(int(row["window_start"].timestamp()), row["channel"], row["driver"])])


def test_rolling_views_sum_the_latest_counts_of_the_windows_in_their_span(backend: Backend) -> None:
    rng = random.Random(8)
    [(minute,)] = backend.rows("SELECT toUnixTimestamp(toStartOfMinute(now()))")
    offsets = [0, 1, 13, 14, 15, 16, 58, 59, 60, 61, 1438, 1439, 1440, 1441, -1]
    trust: dict[tuple[int, str, str, str], TrustCounts] = {}
    drivers: dict[tuple[int, str, str, str], DriverCounts] = {}
    trust_batch, driver_batch = [], []
    for back in offsets:
        window = int(minute) - 60 * back
        for agency in ("DOS", "SBA"):
            for channel in ("phone", "website"):
                for scale in ("thumbs", "five_point"):
                    old, new = _trust(rng, scale), _trust(rng, scale)
                    trust_batch += [tables.trust_score_row(_trust_score(window, agency, channel, scale, c, v))
                                    for c, v in ((old, 3), (new, 7))]
                    trust[(window, agency, channel, scale)] = new
                offered = rng.randint(1, 9)
                new_d = DriverCounts(offered, rng.randint(0, offered), rng.randint(0, offered))
                driver_batch += [tables.driver_score_row(_driver_score(window, agency, channel, "ease", c, v))
                                 for c, v in ((DriverCounts(1, 1, 0), 2), (new_d, 5))]
                drivers[(window, agency, channel, "ease")] = new_d
    # A 5-minute row is not a 1-minute window: rolling views ignore it.
    trust_batch.append(tables.trust_score_row(_trust_score(int(minute), "DOS", "phone", "thumbs",
                                                           TrustCounts((40, 0, 0, 0, 0, 0)), 1, window_seconds=300)))
    tables.insert(backend.client, backend.database, tables.TRUST_SCORES, trust_batch)
    tables.insert(backend.client, backend.database, tables.DRIVER_SCORES, driver_batch)

    for span, minutes in SPANS.items():
        for all_channels in (False, True):
            suffix = "_all_channels" if all_channels else ""
            rows = _rows(backend, f"span_start, span_end, agency, channel, trust_scale, {TRUST_COLUMNS}",
                         f"FROM {{db}}.trust_scores_{span}{suffix} WHERE agency IN ('DOS', 'SBA')")
            [(span_start, span_end)] = {(r["span_start"], r["span_end"]) for r in rows}
            lo, hi = int(span_start.timestamp()), int(span_end.timestamp())
            assert hi - lo == 60 * minutes
            expected: dict[tuple[str, str, str], TrustCounts] = defaultdict(TrustCounts)
            for (window, agency, channel, scale), counts in trust.items():
                if lo <= window < hi:
                    cell = (agency, "all" if all_channels else channel, scale)
                    expected[cell] = expected[cell] + counts
            assert {(r["agency"], r["channel"], r["trust_scale"]) for r in rows} == set(expected)
            for row in rows:
                _assert_trust(row, row["trust_scale"], expected[(row["agency"], row["channel"], row["trust_scale"])])

            rows = _rows(backend, f"span_start, span_end, agency, channel, driver, {DRIVER_COLUMNS}",
                         f"FROM {{db}}.driver_scores_{span}{suffix} WHERE agency IN ('DOS', 'SBA')")
            # This view's own span: a minute can turn between the trust query and this one.
            [(span_start, span_end)] = {(r["span_start"], r["span_end"]) for r in rows}
            lo, hi = int(span_start.timestamp()), int(span_end.timestamp())
            expected_d: dict[tuple[str, str, str], DriverCounts] = defaultdict(DriverCounts)
            for (window, agency, channel, driver), dcounts in drivers.items():
                if lo <= window < hi:
                    cell = (agency, "all" if all_channels else channel, driver)
                    expected_d[cell] = expected_d[cell] + dcounts
            assert {(r["agency"], r["channel"], r["driver"]) for r in rows} == set(expected_d)
            for row in rows:
                _assert_driver(row, expected_d[(row["agency"], row["channel"], row["driver"])])
