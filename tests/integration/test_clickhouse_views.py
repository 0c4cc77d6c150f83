"""The public views on 18.16 and on chdb: one row per fact before any merge, exact rolling sums.

Store tables have merges stopped, so every replayed batch stays as duplicate rows on disk and the
views alone must hide them. Expected values are computed here in plain Python from the records
inserted, with cxstream.scores for the Wilson interval.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import DeadLetter, DomainScore, EnrichedFeedback, Touchpoint
from cxstream.scores import AnswerCounts, wilson_interval
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from cxstream.vocabulary import DOMAINS
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, open_backend

MIN_RESPONSES = 12
SPANS = {"5m": 5, "15m": 15, "1h": 60, "24h": 1440}
SCORE_COLUMNS = (
    "responses, count_1, count_2, count_3, count_4, count_5, mean, pct_positive, "
    "pct_positive_low, pct_positive_high, suppressed"
)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    """A migrated database of this module's own whose store tables never merge."""
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_views") as opened:
        migrate(opened.client, opened.database, bi_min_responses=MIN_RESPONSES)
        for table in tables.COLUMNS:
            opened.stop_merges(table)
        yield opened


def _store_count(backend: Backend, table: str) -> int:
    [(count,)] = backend.rows(f"SELECT count() FROM {{db}}.{table}")
    return int(count)


# --- facts ------------------------------------------------------------------------------------


def _touchpoints(rng: random.Random) -> list[Touchpoint]:
    base = 1_795_615_387_250  # 2026-11-25T14:03:07.250Z
    return [
        Touchpoint(
            touchpoint_id=f"tp-{i}",
            occurred_at=base + rng.randrange(-90 * 86_400_000, 86_400_000),
            agency=rng.choice(["VA", "IRS"]),
            service=rng.choice(["claims", "refunds"]),
            channel=rng.choice(["phone", "website", "in_person"]),
            outcome=rng.choice([None, "completed", "abandoned"]),
            wait_seconds=rng.choice([None, 0, 95]),
            handle_seconds=rng.choice([None, 410]),
            survey_offered=rng.choice([None, True, False]),
        )
        for i in range(200)
    ]


def test_touchpoints_view_has_one_row_per_touchpoint_with_its_latest_version(backend: Backend) -> None:
    rng = random.Random(1)
    touchpoints = _touchpoints(rng)
    batch = [tables.touchpoint_row(tp, version=100 + i) for i, tp in enumerate(touchpoints)]
    tables.insert(backend.client, backend.database, tables.TOUCHPOINTS, batch)
    tables.insert(backend.client, backend.database, tables.TOUCHPOINTS, batch)  # a replayed batch
    # A later message for tp-0 with a new outcome; and a stale replay of tp-1 with an older version.
    changed = Touchpoint(**{**touchpoints[0].to_avro(), "outcome": "escalated", "wait_seconds": 7})
    stale = Touchpoint(**{**touchpoints[1].to_avro(), "outcome": "transferred"})
    tables.insert(backend.client, backend.database, tables.TOUCHPOINTS,
                  [tables.touchpoint_row(changed, version=10_000), tables.touchpoint_row(stale, version=1)])
    expected = {tp.touchpoint_id: tp for tp in touchpoints} | {changed.touchpoint_id: changed}

    rows = backend.rows(
        "SELECT touchpoint_id, occurred_at_ms, toUnixTimestamp(occurred_at), agency, service, channel, outcome, "
        "wait_seconds, handle_seconds, survey_offered FROM {db}.touchpoints"
    )

    assert _store_count(backend, tables.TOUCHPOINTS) == 2 * len(touchpoints) + 2  # nothing merged
    assert len(rows) == len(expected)
    for tid, ms, seconds, agency, service, channel, outcome, wait, handle, offered in rows:
        tp = expected[tid]
        assert (ms, seconds) == (tp.occurred_at, tp.occurred_at // 1000)
        assert (agency, service, channel, outcome) == (tp.agency, tp.service, tp.channel, tp.outcome)
        assert (wait, handle) == (tp.wait_seconds, tp.handle_seconds)
        assert offered == (None if tp.survey_offered is None else int(tp.survey_offered))


def _feedback(rng: random.Random) -> list[EnrichedFeedback]:
    out = []
    for i in range(150):
        answered = rng.sample(DOMAINS, rng.randint(1, len(DOMAINS)))
        out.append(
            EnrichedFeedback(
                feedback_id=f"fb-{i}",
                touchpoint_id=rng.choice([None, f"tp-{i}"]),
                submitted_at=1_795_615_387_250 + rng.randrange(-40 * 86_400_000, 0),
                agency=rng.choice(["VA", "unknown"]),
                service=rng.choice(["claims", "unknown"]),
                channel=rng.choice(["phone", "unknown"]),
                matched=rng.random() < 0.7,
                answers={domain: rng.randint(1, 5) for domain in answered},
                comment=rng.choice([None, "", "Quick 'and' clear. \\ 100%"]),
            )
        )
    return out


def test_feedback_view_has_one_row_per_feedback_id_with_null_for_unanswered_domains(backend: Backend) -> None:
    rng = random.Random(2)
    feedback = _feedback(rng)
    batch = [tables.feedback_row(fb, version=i) for i, fb in enumerate(feedback)]
    for _ in range(3):  # the batch and two replays of it
        tables.insert(backend.client, backend.database, tables.FEEDBACK, batch)

    rows = backend.rows(
        f"SELECT feedback_id, touchpoint_id, submitted_at_ms, agency, service, channel, matched, "
        f"{', '.join(DOMAINS)}, comment FROM {{db}}.feedback"
    )

    assert _store_count(backend, tables.FEEDBACK) == 3 * len(feedback)
    assert len(rows) == len(feedback)
    by_id = {fb.feedback_id: fb for fb in feedback}
    for fid, tid, ms, agency, service, channel, matched, *answers, comment in rows:
        fb = by_id[fid]
        assert (tid, ms, agency, service, channel, matched) == (
            fb.touchpoint_id, fb.submitted_at, fb.agency, fb.service, fb.channel, int(fb.matched)
        )
        assert dict(zip(DOMAINS, answers, strict=True)) == {d: fb.answers.get(d) for d in DOMAINS}
        assert comment == fb.comment


def test_dead_letters_view_has_one_row_per_input_position_with_the_raw_bytes(backend: Backend) -> None:
    letters = [
        DeadLetter("cx.feedback.v1", p, o, key, "invalid", f"detail {p}/{o}", 1_795_615_387_250 + o, raw)
        for p, o, key, raw in [
            (0, 5, b"tp-1", b"\xc3\x01\xff\x00not avro"),
            (0, 6, None, b""),
            (3, 5, b"\xff\xfe", b'{"json": true}'),
        ]
    ]
    batch = [tables.dead_letter_row(dl) for dl in letters]
    tables.insert(backend.client, backend.database, tables.DEAD_LETTERS, batch)
    # A replay dead-letters the same positions again, later.
    later = [DeadLetter(**{**dl.to_avro(), "received_at": dl.received_at + 60_000}) for dl in letters]
    tables.insert(backend.client, backend.database, tables.DEAD_LETTERS, [tables.dead_letter_row(dl) for dl in later])

    rows = backend.rows(
        "SELECT source_topic, `partition`, `offset`, reason, detail, hex(key), hex(raw) FROM {db}.dead_letters "
        "ORDER BY `partition`, `offset`"
    )

    assert _store_count(backend, tables.DEAD_LETTERS) == 2 * len(letters)
    assert rows == [
        (dl.source_topic, dl.partition, dl.offset, dl.reason, dl.detail,
         None if dl.key is None else dl.key.hex().upper(), dl.raw.hex().upper())
        for dl in sorted(letters, key=lambda d: (d.partition, d.offset))
    ]


# --- scores -----------------------------------------------------------------------------------


def _score(window_start_s: int, agency: str, channel: str, domain: str, counts: AnswerCounts, version: int,
           window_seconds: int = 60) -> DomainScore:
    return DomainScore(
        window_start=window_start_s * 1000, window_seconds=window_seconds, agency=agency, service="claims",
        channel=channel, domain=domain, responses=counts.responses, count_1=counts.count_1,
        count_2=counts.count_2, count_3=counts.count_3, count_4=counts.count_4, count_5=counts.count_5,
        mean=counts.mean, pct_positive=counts.pct_positive, version=version,
    )


def _random_counts(rng: random.Random) -> AnswerCounts:
    return AnswerCounts(*(rng.randint(0, 6) for _ in range(5)))


def _assert_scores_match(row: dict[str, Any], counts: AnswerCounts) -> None:
    """A view row carries the counts, the derived scores, the Wilson interval and the suppression flag."""
    assert tuple(row[f"count_{i}"] for i in range(1, 6)) == counts.as_tuple()
    assert row["responses"] == counts.responses
    assert row["mean"] == pytest.approx(counts.mean, rel=1e-12)
    assert row["pct_positive"] == pytest.approx(counts.pct_positive, rel=1e-12)
    low, high = wilson_interval(counts.positives, counts.responses)
    assert row["pct_positive_low"] == pytest.approx(low, rel=1e-9, abs=1e-9)
    assert row["pct_positive_high"] == pytest.approx(high, rel=1e-9, abs=1e-9)
    assert row["suppressed"] == int(counts.responses < MIN_RESPONSES)


def _dict_rows(backend: Backend, query: str) -> list[dict[str, Any]]:
    names = [name.strip() for name in query.split("SELECT", 1)[1].split("FROM", 1)[0].split(",")]
    return [dict(zip(names, row, strict=True)) for row in backend.rows(query)]


def test_domain_scores_view_keeps_the_highest_version_of_each_window_cell(backend: Backend) -> None:
    rng = random.Random(3)
    latest: dict[tuple[int, str, str, str], AnswerCounts] = {}
    inserted = []
    start = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    for minute in range(20):
        for agency in ("VA", "IRS"):
            for domain in ("trust", "ease"):
                key = (start + 60 * minute, agency, "phone", domain)
                versions = sorted(rng.sample(range(1, 1000), 3))
                for version in versions:
                    counts = _random_counts(rng)
                    inserted.append(_score(*key, counts, version))
                latest[key] = AnswerCounts(*(getattr(inserted[-1], f"count_{i}") for i in range(1, 6)))
    rng.shuffle(inserted)
    rows_out = [tables.score_row(s) for s in inserted]
    tables.insert(backend.client, backend.database, tables.SCORES, rows_out[: len(rows_out) // 2])
    tables.insert(backend.client, backend.database, tables.SCORES, rows_out[len(rows_out) // 2 :])
    tables.insert(backend.client, backend.database, tables.SCORES, rows_out)  # replayed

    rows = _dict_rows(
        backend,
        f"SELECT window_start, window_seconds, agency, service, channel, domain, {SCORE_COLUMNS} "
        "FROM {db}.domain_scores WHERE window_start >= toDateTime('2026-11-01 00:00:00', 'UTC') "
        "AND window_start < toDateTime('2026-11-02 00:00:00', 'UTC')",
    )

    assert len(rows) == len(latest)
    # Unmerged copies are on disk (current ClickHouse collapses duplicates within one insert).
    assert _store_count(backend, tables.SCORES) >= 2 * len(latest)
    for row in rows:
        assert (row["window_seconds"], row["service"]) == (60, "claims")
        key = (int(row["window_start"].timestamp()), row["agency"], row["channel"], row["domain"])
        _assert_scores_match(row, latest[key])


def _server_minute(backend: Backend) -> int:
    [(now,)] = backend.rows("SELECT toUnixTimestamp(toStartOfMinute(now()))")
    return int(now)


def test_rolling_views_sum_the_latest_counts_of_the_windows_in_their_span(backend: Backend) -> None:
    rng = random.Random(4)
    minute = _server_minute(backend)
    # Windows around every span's edges (minutes back from the current one), one in the future,
    # each cell in two versions of which only the higher may count.
    offsets = [0, 1, 3, 4, 5, 6, 13, 14, 15, 16, 58, 59, 60, 61, 1438, 1439, 1440, 1441, -1]
    latest: dict[tuple[int, str, str, str], AnswerCounts] = {}
    inserted = []
    for back in offsets:
        for agency in ("DOL", "SSA"):
            for channel in ("phone", "website"):
                for domain in ("satisfaction", "equity"):
                    if rng.random() < 0.25:
                        continue
                    key = (minute - 60 * back, agency, channel, domain)
                    old, new = _random_counts(rng), _random_counts(rng)
                    inserted += [_score(*key, old, version=5), _score(*key, new, version=9)]
                    latest[key] = new
    # A 5-minute window row is not a 1-minute window: the rolling views must ignore it.
    inserted.append(_score(minute, "DOL", "phone", "satisfaction", AnswerCounts(50, 0, 0, 0, 0), 1, window_seconds=300))
    batch = [tables.score_row(s) for s in inserted]
    tables.insert(backend.client, backend.database, tables.SCORES, batch)
    tables.insert(backend.client, backend.database, tables.SCORES, batch)

    for span, minutes in SPANS.items():
        for all_channels in (False, True):
            view = f"domain_scores_{span}" + ("_all_channels" if all_channels else "")
            rows = _dict_rows(
                backend,
                f"SELECT span_start, span_end, agency, service, channel, domain, {SCORE_COLUMNS} FROM {{db}}.{view} "
                "WHERE agency IN ('DOL', 'SSA')",
            )
            # The span is the view's own (the minute may have turned since `minute` was read).
            [(span_start, span_end)] = {(r["span_start"], r["span_end"]) for r in rows}
            lo, hi = int(span_start.timestamp()), int(span_end.timestamp())
            assert hi - lo == 60 * minutes
            expected: dict[tuple[str, str, str], AnswerCounts] = defaultdict(AnswerCounts)
            for (window, agency, channel, domain), counts in latest.items():
                if lo <= window < hi:
                    cell = (agency, "all" if all_channels else channel, domain)
                    expected[cell] = expected[cell] + counts
            assert {(r["agency"], r["channel"], r["domain"]) for r in rows} == set(expected), view
            for row in rows:
                _assert_scores_match(row, expected[(row["agency"], row["channel"], row["domain"])])


def test_a_replayed_batch_changes_no_view(backend: Backend) -> None:
    views = ["touchpoints", "feedback", "dead_letters", "domain_scores"]

    def snapshot() -> dict[str, list[str]]:
        return {view: sorted(map(repr, backend.rows(f"SELECT * FROM {{db}}.{view}"))) for view in views}

    before = snapshot()
    assert all(before.values()), "the tests above leave rows in every view"
    touchpoints, feedback = _touchpoints(random.Random(1)), _feedback(random.Random(2))
    tables.insert(backend.client, backend.database, tables.TOUCHPOINTS,
                  [tables.touchpoint_row(tp, version=100 + i) for i, tp in enumerate(touchpoints)])
    tables.insert(backend.client, backend.database, tables.FEEDBACK,
                  [tables.feedback_row(fb, version=i) for i, fb in enumerate(feedback)])

    assert snapshot() == before


def test_views_are_unchanged_when_the_store_tables_finally_merge(backend: Backend) -> None:
    views = ["touchpoints", "feedback", "dead_letters", "domain_scores"]
    before = {view: sorted(map(repr, backend.rows(f"SELECT * FROM {{db}}.{view}"))) for view in views}

    for table in tables.COLUMNS:
        backend.rows(f"SYSTEM START MERGES {{db}}.{table}")
        backend.rows(f"OPTIMIZE TABLE {{db}}.{table} FINAL")

    after = {view: sorted(map(repr, backend.rows(f"SELECT * FROM {{db}}.{view}"))) for view in views}
    assert after == before
    view_of = {tables.TOUCHPOINTS: "touchpoints", tables.FEEDBACK: "feedback", tables.SCORES: "domain_scores",
               tables.DEAD_LETTERS: "dead_letters", tables.ALERTS: "alerts", tables.TRUST_SCORES: "trust_scores",
               tables.DRIVER_SCORES: "driver_scores"}
    assert set(view_of) == set(tables.COLUMNS), "a store table without its view here: add it"
    for table, view in view_of.items():
        [(count,)] = backend.rows(f"SELECT count() FROM {{db}}.{view}")
        assert _store_count(backend, table) == count, table
