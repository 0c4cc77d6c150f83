"""The live page's data and feed without a browser: rows grouped per service, trends bucketed, one
read shared by every open page, a failed read reported, names kept apart in ``/snapshot.json``, and
a page that needs no outside assets. The page's JavaScript runs in Chromium in
``tests/integration/test_dashboard_browser.py``."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cxstream.config import Settings
from cxstream.dashboard.server import Feed, _describe, build_app
from cxstream.dashboard.page import render_page
from cxstream.dashboard.queries import TREND_BUCKETS, Snapshot, build_snapshot
from cxstream.vocabulary import DOMAINS

FIRST_MS = 1_795_597_200_000


def _score(agency: str, service: str, channel: str, domain: str, n: int, pct: float) -> tuple[object, ...]:
    return (agency, service, channel, domain, n, pct, pct - 10, pct + 10, n < 10)


def test_rows_are_grouped_per_service_with_all_channels_each_channel_and_the_trend() -> None:
    scores = [
        _score("VA", "claims", "all", "trust", 40, 30.0),
        _score("VA", "claims", "phone", "trust", 30, 10.0),
        _score("VA", "claims", "website", "trust", 10, 90.0),
        _score("State", "passports", "all", "ease", 5, 80.0),
        _score("State", "passports", "in_person", "ease", 5, 80.0),
    ]
    trend = [("VA", "claims", "trust", 0, 3, 4), ("VA", "claims", "trust", 11, 1, 4),
             ("VA", "claims", "trust", 12, 1, 1)]  # bucket 12 is past the hour: ignored
    alerts = [("VA", "claims", "trust", 25.0, 40, 60.0, FIRST_MS + 5, FIRST_MS + 60_000)]

    snap = build_snapshot(scores, trend, alerts, FIRST_MS, threshold=60.0)

    assert [(b.agency, b.service, b.alerts) for b in snap.services] == [("VA", "claims", 1), ("State", "passports", 0)]
    va = snap.services[0]
    assert va.channels == ["phone", "website"]
    trust = va.domains["trust"]
    assert trust.all is not None and (trust.all.responses, trust.all.pct) == (40, 30.0)
    assert {c: s.pct for c, s in trust.channels.items()} == {"phone": 10.0, "website": 90.0}
    assert trust.trend == [75.0] + [None] * 10 + [25.0]
    assert trust.trend_responses[0] == 4 and len(trust.trend) == TREND_BUCKETS
    assert set(va.domains) == set(DOMAINS) and va.domains["ease"].all is None
    assert snap.trend_starts_ms[1] - snap.trend_starts_ms[0] == 300_000
    assert snap.services[1].domains["ease"].all.suppressed  # type: ignore[union-attr]
    assert json.loads(json.dumps(snap.to_json()))["alerts"][0]["since_ms"] == FIRST_MS + 5


def _separator_names(_settings: Settings) -> Snapshot:
    """Agency ``P|Q`` / service ``R`` at 100% and agency ``P`` / service ``Q|R`` at 0%, alerting."""
    scores = [_score("P|Q", "R", "all", "trust", 40, 100.0), _score("P", "Q|R", "all", "trust", 40, 0.0)]
    alerts = [("P", "Q|R", "trust", 0.0, 40, 60.0, FIRST_MS, FIRST_MS + 60_000)]
    return build_snapshot(scores, [], alerts, FIRST_MS, threshold=60.0)


def test_snapshot_json_keeps_names_apart_even_when_they_hold_a_separator() -> None:
    """``/snapshot.json`` carries agency, service and domain as separate fields, never a joined key, so a
    script (or the page) can tell ``P|Q``/``R`` from ``P``/``Q|R`` and knows whose alert is whose."""

    async def served() -> Any:
        async with TestClient(TestServer(build_app(Settings(), push_seconds=0.05, reader=_separator_names))) as client:
            response = await client.get("/snapshot.json")
            assert response.status == 200
            return await response.json()

    snap = asyncio.run(served())
    services = {(b["agency"], b["service"]): b for b in snap["services"]}
    assert set(services) == {("P|Q", "R"), ("P", "Q|R")}
    assert services[("P", "Q|R")]["alerts"] == 1 and services[("P|Q", "R")]["alerts"] == 0
    assert services[("P", "Q|R")]["domains"]["trust"]["all"]["pct"] == 0.0
    assert services[("P|Q", "R")]["domains"]["trust"]["all"]["pct"] == 100.0
    assert [(a["agency"], a["service"], a["domain"]) for a in snap["alerts"]] == [("P", "Q|R", "trust")]


def _snapshot(n: int) -> Snapshot:
    return build_snapshot([_score("VA", "claims", "all", "trust", n, 50.0)], [], [], FIRST_MS, 60.0)


def test_one_read_serves_every_listener_and_reads_stop_when_nobody_listens() -> None:
    reads: list[int] = []

    def reader(_settings: Settings) -> Snapshot:
        reads.append(1)
        return _snapshot(len(reads))

    async def scenario() -> None:
        feed = Feed(Settings(), push_seconds=0.05, reader=reader)
        task = asyncio.create_task(feed.run())
        await asyncio.sleep(0.2)
        assert reads == [], "no page open: no queries"
        feed.subscribe()
        feed.subscribe()
        first_a, first_b = await asyncio.gather(feed.listen(0), feed.listen(0))
        assert first_a is not None and first_b is not None
        (seq_a, a), (seq_b, b) = first_a, first_b
        assert seq_a == seq_b and a is b
        update = await feed.listen(seq_a)
        assert update is not None
        later_seq, later = update
        assert later_seq > seq_a and later["services"][0]["domains"]["trust"]["all"]["responses"] > 1
        feed.unsubscribe()
        feed.unsubscribe()
        await asyncio.sleep(0.1)
        settled = len(reads)
        await asyncio.sleep(0.3)
        assert len(reads) == settled, "reads must stop when the last page closes"
        task.cancel()

    asyncio.run(scenario())


def test_a_failed_read_is_pushed_as_an_error_the_page_can_show() -> None:
    def reader(_settings: Settings) -> Snapshot:
        raise ConnectionRefusedError(111, "Connection refused")

    async def scenario() -> dict[str, object]:
        feed = Feed(Settings(), push_seconds=0.05, reader=reader)
        task = asyncio.create_task(feed.run())
        feed.subscribe()
        update = await feed.listen(0)
        task.cancel()
        assert update is not None
        return update[1]

    assert asyncio.run(scenario()) == {"error": "ConnectionRefusedError: [Errno 111] Connection refused"}


def test_a_shutdown_ends_every_open_feed_at_once() -> None:
    async def scenario() -> list[object]:
        feed = Feed(Settings(), push_seconds=60, reader=lambda _s: _snapshot(1))
        task = asyncio.create_task(feed.run())
        feed.subscribe()
        first = await feed.listen(0)
        assert first is not None
        waiting = asyncio.gather(feed.listen(first[0]), feed.listen(first[0]))  # next read is a minute away
        await asyncio.sleep(0.05)
        await feed.close()
        ended = await asyncio.wait_for(waiting, 2)
        task.cancel()
        return list(ended)

    assert asyncio.run(scenario()) == [None, None]


@pytest.mark.parametrize(("error", "text"), [(RuntimeError(""), "RuntimeError: no detail"),
                                             (OSError("a\nb"), "OSError: a")])
def test_errors_are_one_line(error: Exception, text: str) -> None:
    assert _describe(error) == text


def test_the_page_loads_nothing_from_elsewhere_and_knows_its_threshold_and_domains() -> None:
    html = render_page(55.0, 3.0, DOMAINS)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must work without the internet"
    assert "@@" not in html
    assert "below the 55% alert" in html and "const PUSH_SECONDS = 3;" in html
    assert 'const DOMAINS = ["satisfaction","trust"' in html
    assert "new EventSource(\"events\")" in html
