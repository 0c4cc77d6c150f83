"""Comment themes in ClickHouse, on 18.16 and on chdb: cx.feedback carries each stored comment's
sentiment, label and drivers; cx.comment_themes counts, per minute and cell, the comments that
mention each driver, and the rolling views sum them. Replayed inserts change nothing.

Expected counts are computed here in plain Python from the inserted comments and what
cxstream.insights says of each (the analyzer itself is measured on its own corpus).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cxstream.config import Settings
from cxstream.insights import analyze
from cxstream.schemas.records import EnrichedFeedback
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, open_backend

COMMENTS = [
    "Waited on hold for three hours and nobody called back.",
    "The agent was kind and fixed my claim in ten minutes.",
    "Website kept crashing when I tried to upload the form.",
    "I still have no idea what the status of my refund is.",
    "Fine.",
    "Staff were rude and the line never moved.",
    None,
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_themes") as opened:
        migrate(opened.client, opened.database)
        opened.stop_merges(tables.FEEDBACK)
        yield opened


def _feedback(i: int, at_ms: int, agency: str, channel: str, comment: str | None) -> EnrichedFeedback:
    return EnrichedFeedback(f"fb-{agency}-{i}", None, at_ms, agency, "claims", channel, False, {"trust": 3}, comment)


def test_each_stored_comment_carries_its_sentiment_label_and_drivers(backend: Backend) -> None:
    at = int(datetime(2026, 11, 2, 9, tzinfo=UTC).timestamp() * 1000)
    rows = [tables.feedback_row(_feedback(i, at, "IN", "phone", c), version=i) for i, c in enumerate(COMMENTS)]
    tables.insert(backend.client, backend.database, tables.FEEDBACK, rows)
    got = {r[0]: r[1:] for r in backend.rows(
        "SELECT feedback_id, comment_sentiment, comment_label, comment_drivers FROM {db}.feedback "
        "WHERE agency = 'IN'")}
    for i, comment in enumerate(COMMENTS):
        sentiment, label, drivers = got[f"fb-IN-{i}"]
        insight = analyze(comment)
        if insight is None:
            assert (sentiment, label, list(drivers)) == (None, None, [])
        else:
            assert sentiment == pytest.approx(insight.sentiment, abs=1e-6)  # Float32
            assert (label, tuple(drivers)) == (insight.label, insight.drivers)
    assert any(got[f"fb-IN-{i}"][1] == "negative" for i in range(len(COMMENTS)))


def test_themes_per_minute_and_rolling_count_each_comment_once(backend: Backend) -> None:
    rng = random.Random(18)
    [(minute,)] = backend.rows("SELECT toUnixTimestamp(toStartOfMinute(now()))")
    minute = int(minute)
    feedback = []
    for i in range(300):
        back = rng.choice([0, 1, 14, 15, 59, 60, 1439, 1440, 2000])
        at_ms = (minute - 60 * back) * 1000 + rng.randrange(60_000)
        feedback.append(_feedback(i, at_ms, rng.choice(["TA", "TB"]), rng.choice(["phone", "website"]),
                                  rng.choice(COMMENTS)))
    rows = [tables.feedback_row(fb, version=i) for i, fb in enumerate(feedback)]
    tables.insert(backend.client, backend.database, tables.FEEDBACK, rows)
    tables.insert(backend.client, backend.database, tables.FEEDBACK, rows[:150])  # a replayed batch

    expected: Counter[tuple[int, str, str, str, str]] = Counter()
    for fb in feedback:
        insight = analyze(fb.comment)
        for driver in insight.drivers if insight else ():
            window = fb.submitted_at // 60_000 * 60
            expected[(window, fb.agency, fb.channel, driver, "mentions")] += 1
            if insight and insight.label in ("negative", "positive"):
                expected[(window, fb.agency, fb.channel, driver, insight.label)] += 1
    got: Counter[tuple[int, str, str, str, str]] = Counter()
    for window, agency, channel, driver, mentions, negative, positive in backend.rows(
            "SELECT toUnixTimestamp(window_start), agency, channel, driver, mentions, negative_mentions, "
            "positive_mentions FROM {db}.comment_themes WHERE agency IN ('TA', 'TB')"):
        for kind, n in (("mentions", mentions), ("negative", negative), ("positive", positive)):
            if n:
                got[(int(window), agency, channel, driver, kind)] = int(n)
    assert got == expected and expected

    for span, minutes in {"15m": 15, "1h": 60, "24h": 1440}.items():
        for all_channels in (False, True):
            view = f"comment_themes_{span}" + ("_all_channels" if all_channels else "")
            rows_out = backend.rows(f"SELECT span_start, span_end, agency, channel, driver, mentions, "
                                    f"negative_mentions, positive_mentions FROM {{db}}.{view} "
                                    "WHERE agency IN ('TA', 'TB')")
            [(span_start, span_end)] = {(r[0], r[1]) for r in rows_out}
            lo, hi = int(span_start.timestamp()), int(span_end.timestamp())
            assert hi - lo == 60 * minutes
            want: Counter[tuple[str, str, str, str]] = Counter()
            for (window, agency, channel, driver, kind), n in expected.items():
                if lo <= window < hi:
                    want[(agency, "all" if all_channels else channel, driver, kind)] += n
            have: Counter[tuple[str, str, str, str]] = Counter()
            for _, _, agency, channel, driver, mentions, negative, positive in rows_out:
                for kind, n in (("mentions", mentions), ("negative", negative), ("positive", positive)):
                    if n:
                        have[(agency, channel, driver, kind)] = int(n)
            assert have == want, view
