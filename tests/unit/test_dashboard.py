"""The live page's data and feed without a browser: rows grouped per service, trends bucketed, the
current A-11 form's trust per scale and drivers beside the domains, one read shared by every open
page, a failed read reported, names kept apart in ``/snapshot.json``, and a page that needs no
outside assets. The page's JavaScript runs in Chromium in
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
from cxstream.dashboard.queries import SCALE_LABELS, TREND_BUCKETS, V2_TRUST_ALERT, Score, Snapshot, build_snapshot
from cxstream.streams import alert_stage
from cxstream.vocabulary import DOMAINS, DRIVERS, TRUST_SCALES

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


def _trust(agency: str, service: str, channel: str, scale: str, n: int, pct: float) -> tuple[object, ...]:
    return (agency, service, channel, scale, n, pct, pct - 10, pct + 10, n < 10)


def _driver(agency: str, service: str, driver: str, offered: int, went_well: int, did_not: int) -> tuple[object, ...]:
    return (agency, service, driver, offered, went_well, did_not, 100.0 * went_well / offered if offered else 0.0,
            100.0 * did_not / offered if offered else 0.0, offered < 10)


def test_the_current_form_is_grouped_per_service_each_trust_scale_apart_and_drivers_in_the_contracts_order() -> None:
    scores = [_score("VA", "claims", "all", "trust", 40, 30.0), _score("VA", "claims", "phone", "trust", 40, 30.0),
              _score("State", "passports", "all", "ease", 20, 80.0)]
    trust = [  # five_point before thumbs, channels out of order: the snapshot orders them
        _trust("VA", "claims", "website", "five_point", 20, 40.0), _trust("VA", "claims", "all", "five_point", 20, 40.0),
        _trust("VA", "claims", "all", "thumbs", 50, 80.0), _trust("VA", "claims", "phone", "thumbs", 50, 80.0),
        _trust("SSA", "retirement", "all", "thumbs", 8, 75.0), _trust("SSA", "retirement", "in_person", "thumbs", 8, 75.0),
        _trust("VA", "claims", "all", "sliding", 9, 1.0),  # no such scale: not shown
    ]
    drivers = [_driver("VA", "claims", d, 30, 12, 6) for d in reversed(DRIVERS) if d != "humanity"]
    drivers += [_driver("VA", "claims", "humanity", 0, 0, 0),  # offered to nobody: not a 0%
                _driver("SSA", "retirement", "ease", 8, 2, 4), _driver("SSA", "retirement", "effectiveness", 8, 6, 0)]
    trend = [("VA", "claims", "v2_trust_thumbs", 11, 30, 40), ("VA", "claims", "v2_trust_five_point", 10, 1, 4),
             ("VA", "claims", "trust", 11, 2, 4)]
    alerts = [("VA", "claims", "v2_trust_five_point", 35.0, 20, 60.0, FIRST_MS, FIRST_MS + 60_000),
              ("VA", "claims", "v2_trust_thumbs", 55.0, 50, 60.0, FIRST_MS, FIRST_MS + 60_000),
              ("VA", "claims", "trust", 30.0, 40, 60.0, FIRST_MS, FIRST_MS + 60_000),
              ("DOS", "visas", "v2_trust_thumbs", 20.0, 30, 60.0, FIRST_MS, FIRST_MS + 60_000)]

    snap = build_snapshot(scores, trend, alerts, FIRST_MS, 60.0, trust=trust, drivers=drivers)
    blocks = {(b.agency, b.service): b for b in snap.services}

    assert {k: b.forms for k, b in blocks.items()} == {
        ("VA", "claims"): ["v1", "v2"], ("State", "passports"): ["v1"], ("SSA", "retirement"): ["v2"],
        ("DOS", "visas"): ["v2"]}
    va = blocks[("VA", "claims")]
    # Each scale on its own: its own responses, %, interval and channels, never a mix of both.
    assert list(va.trust) == ["thumbs", "five_point"]
    assert va.trust["thumbs"].all == Score(50, 80.0, 70.0, 90.0, False)
    assert va.trust["five_point"].all == Score(20, 40.0, 30.0, 50.0, False)
    assert {s: list(r.channels) for s, r in va.trust.items()} == {"thumbs": ["phone"], "five_point": ["website"]}
    assert va.trust_channels == ["phone", "website"] and va.channels == ["phone"]
    assert va.trust["thumbs"].trend == [None] * 11 + [75.0] and va.trust["thumbs"].trend_responses[11] == 40
    assert va.trust["five_point"].trend == [None] * 10 + [25.0, None]
    assert va.domains["trust"].trend == [None] * 11 + [50.0], "the 2019-2023 trust domain keeps its own trend"
    assert va.domains["trust"].all == Score(40, 30.0, 20.0, 40.0, False)
    # Drivers in the contract's order, percentages over offered; one nobody was offered is absent.
    assert list(va.drivers) == [d for d in DRIVERS if d != "humanity"]
    assert (va.drivers["ease"].offered, va.drivers["ease"].pct_went_well, va.drivers["ease"].pct_did_not_go_well) == (
        30, 40.0, 20.0)
    # A service with only the current form: its figures, and no v1 domain with any figure.
    ssa = blocks[("SSA", "retirement")]
    assert ssa.channels == [] and all(r.all is None and not r.channels for r in ssa.domains.values())
    assert list(ssa.trust) == ["thumbs"] and ssa.trust["thumbs"].all == Score(8, 75.0, 65.0, 85.0, True)
    assert list(ssa.drivers) == ["effectiveness", "ease"] and ssa.drivers["ease"].suppressed
    state = blocks[("State", "passports")]
    assert (state.trust, state.drivers, state.trust_channels) == ({}, {}, [])
    # Alerts: trust per scale with a readable label, after the domains; an alerting scale with no
    # figures in the last 15 minutes still has its (empty) row.
    assert [(a.agency, a.domain, a.label, a.scale) for a in snap.alerts] == [
        ("DOS", "v2_trust_thumbs", "trust (thumbs)", "thumbs"),
        ("VA", "trust", "trust", None),
        ("VA", "v2_trust_thumbs", "trust (thumbs)", "thumbs"),
        ("VA", "v2_trust_five_point", "trust (five-point)", "five_point")]
    assert va.alerts == 3 and blocks[("DOS", "visas")].alerts == 1
    assert list(blocks[("DOS", "visas")].trust) == ["thumbs"] and blocks[("DOS", "visas")].trust["thumbs"].all is None
    assert [(b.agency, b.service) for b in snap.services][:2] == [("DOS", "visas"), ("VA", "claims")]

    data = json.loads(json.dumps(snap.to_json()))
    va_json = next(b for b in data["services"] if b["agency"] == "VA")
    assert va_json["trust"]["five_point"]["all"]["pct"] == 40.0 and "humanity" not in va_json["drivers"]
    assert data["alerts"][0]["label"] == "trust (thumbs)" and data["alerts"][0]["scale"] == "thumbs"


def test_only_domain_figures_keep_a_service_as_it_was() -> None:
    """A service with only the 2019-2023 form: the snapshot the page drew before the current form."""
    snap = build_snapshot([_score("VA", "claims", "all", "ease", 30, 70.0)], [("VA", "claims", "ease", 0, 1, 2)],
                          [("VA", "claims", "ease", 50.0, 30, 60.0, FIRST_MS, FIRST_MS)], FIRST_MS, 60.0)
    [va] = snap.services
    assert (va.forms, va.trust, va.drivers, va.alerts) == (["v1"], {}, {}, 1)
    assert [(a.domain, a.label, a.scale) for a in snap.alerts] == [("ease", "ease", None)]


def test_trust_alert_names_are_the_alert_stages() -> None:
    """The page reads alerts the worker raises: the same names, and a label for every scale."""
    assert V2_TRUST_ALERT == alert_stage.V2_TRUST_ALERT
    assert tuple(SCALE_LABELS) == TRUST_SCALES


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
    assert 'const DRIVERS = ["effectiveness","ease","efficiency"' in html
    assert 'const SCALES = [["thumbs","thumbs"],["five_point","five-point"]];' in html
    assert "new EventSource(\"events\")" in html
