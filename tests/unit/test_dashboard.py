"""The live page's data and feed without a browser: rows grouped per service, trends bucketed, the
current A-11 form's trust per scale and drivers beside the domains, what comments say (top negative
themes, latest negative comments, cut and redacted again: no personal data of the PII corpus reaches
``/snapshot.json`` even if it were stored unredacted), one read shared by every open page, a failed
read reported, names kept apart in ``/snapshot.json``, and a page that needs no outside assets. The
page's JavaScript runs in Chromium in ``tests/integration/test_dashboard_browser.py``."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cxstream.config import Settings
from cxstream.dashboard.server import Feed, _describe, build_app
from cxstream.dashboard.page import render_page
from cxstream.dashboard.queries import (
    ELLIPSIS,
    SCALE_LABELS,
    THEME_LABELS,
    THEMES_SHOWN,
    TREND_BUCKETS,
    V2_TRUST_ALERT,
    VERBATIM_CHARS,
    VERBATIMS_SHOWN,
    Score,
    Snapshot,
    build_snapshot,
    read_snapshot,
    verbatim_text,
)
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


# --- what comments say ----------------------------------------------------------------------------


def _theme(agency: str, service: str, driver: str, mentions: int, negative: int, positive: int = 0) -> tuple[object, ...]:
    """A row of comment_themes_1h_all_channels as the dashboard reads it."""
    return (agency, service, driver, mentions, negative, positive)


def _comment(agency: str, service: str, channel: str, at_ms: int, text: str | None,
             drivers: tuple[str, ...] = ("efficiency",)) -> tuple[object, ...]:
    """A negative comment's row as the dashboard reads it: agency, service, channel, time, text, drivers."""
    return (agency, service, channel, at_ms, text, list(drivers))


def test_comments_show_each_services_top_negative_themes_and_newest_comments_cut_and_redacted() -> None:
    scores = [_score("VA", "claims", "all", "satisfaction", 40, 30.0), _score("State", "passports", "all", "ease", 20, 80.0)]
    alerts = [("VA", "claims", "satisfaction", 30.0, 40, 60.0, FIRST_MS, FIRST_MS + 60_000)]
    themes = [  # in no particular order, as a view returns them
        _theme("VA", "claims", "employee", 10, 3, 5),
        _theme("VA", "claims", "ease", 9, 7, 1),
        _theme("VA", "claims", "humanity", 4, 3, 0),  # as many negative as employee, fewer mentions: 4th, dropped
        _theme("VA", "claims", "efficiency", 15, 12, 2),
        _theme("VA", "claims", "transparency", 6, 0, 6),  # praised only: not a complaint
        _theme("State", "passports", "transparency", 3, 2, 1),
        _theme("State", "passports", "effectiveness", 3, 2, 0),  # a full tie: the contract's order
        _theme("DOS", "visas", "ease", 5, 5, 0),  # no figures, no alert: no card of its own
    ]
    long = "The portal logged me out " + "again and again " * 30 + "so I gave up."
    verbatims = [
        _comment("VA", "claims", "phone", FIRST_MS + 1_000, "Oldest: waited on hold."),
        _comment("VA", "claims", "website", FIRST_MS + 4_000, long, ("ease",)),
        _comment("VA", "claims", "phone", FIRST_MS + 3_000,
                 "Call me on 555-123-4567 or jane.roe@example.com, three hours on hold!"),  # stored unredacted
        _comment("VA", "claims", "phone", FIRST_MS + 2_000, "Second oldest: nobody called back."),
        _comment("VA", "claims", "phone", FIRST_MS + 5_000, None),  # nothing to show
        _comment("State", "passports", "in_person", FIRST_MS, "Line   never\nmoved.", ()),
        _comment("DOS", "visas", "phone", FIRST_MS, "not shown"),
    ]

    snap = build_snapshot(scores, [], alerts, FIRST_MS, 60.0, themes=themes, verbatims=verbatims)
    blocks = {(b.agency, b.service): b for b in snap.services}

    assert set(blocks) == {("VA", "claims"), ("State", "passports")}, "comments alone make no card"
    va, state = blocks[("VA", "claims")], blocks[("State", "passports")]
    assert THEMES_SHOWN == 3 and VERBATIMS_SHOWN == 3
    assert [(t.driver, t.negative_mentions, t.mentions, t.positive_mentions) for t in va.themes] == [
        ("efficiency", 12, 15, 2), ("ease", 7, 9, 1), ("employee", 3, 10, 5)]
    assert [t.label for t in va.themes] == [THEME_LABELS["efficiency"], THEME_LABELS["ease"], THEME_LABELS["employee"]]
    assert set(THEME_LABELS) == set(DRIVERS)
    assert [t.driver for t in state.themes] == ["effectiveness", "transparency"]

    # Newest first, three at most; the oldest is left out.
    assert [v.submitted_at_ms for v in va.verbatims] == [FIRST_MS + 4_000, FIRST_MS + 3_000, FIRST_MS + 2_000]
    cut = va.verbatims[0]
    assert (cut.channel, cut.drivers, cut.truncated) == ("website", ["ease"], True)
    shown = cut.text.removesuffix(ELLIPSIS)
    assert cut.text.endswith(ELLIPSIS) and len(cut.text) <= VERBATIM_CHARS and len(shown) > VERBATIM_CHARS * 2 // 3
    assert long.startswith(shown) and long[len(shown)] == " ", "cut at a whole word"
    # A comment a store holds unredacted is shown redacted.
    assert va.verbatims[1].text == "Call me on [PHONE] or [EMAIL], three hours on hold!"
    assert not va.verbatims[1].truncated
    assert [(v.text, v.channel, v.drivers) for v in state.verbatims] == [("Line never moved.", "in_person", [])]

    # The alert lists its service's themes.
    [alert] = snap.alerts
    assert alert.themes == va.themes
    data = json.loads(json.dumps(snap.to_json()))
    assert data["alerts"][0]["themes"][0] == {"driver": "efficiency", "label": THEME_LABELS["efficiency"],
                                              "mentions": 15, "negative_mentions": 12, "positive_mentions": 2}
    va_json = next(b for b in data["services"] if b["agency"] == "VA")
    assert va_json["verbatims"][1] == {"submitted_at_ms": FIRST_MS + 3_000, "channel": "phone", "truncated": False,
                                       "text": "Call me on [PHONE] or [EMAIL], three hours on hold!",
                                       "drivers": ["efficiency"]}
    assert "555-123" not in json.dumps(data) and "jane.roe" not in json.dumps(data)


@pytest.mark.parametrize(("secret", "kind"), [("4111 1111 1111 1111", "CARD"), ("4500 N Oak Avenue Apt 3", "ADDRESS"),
                                              ("(555) 123-4567", "PHONE"), ("123 45 6789", "SSN")])
def test_a_comment_is_redacted_before_it_is_cut_so_no_piece_of_personal_data_is_left(secret: str, kind: str) -> None:
    """The cut falls inside the personal data (three quarters in): cut first, the piece left would no
    longer look like a card, an address, a phone or an SSN, and would be shown."""
    start = VERBATIM_CHARS - len(ELLIPSIS) - len(secret) * 3 // 4
    prefix = ("on hold again " * 30)[:start - 1].rstrip() + " "
    comment = prefix + secret + " and nobody called back." * 5
    assert comment.index(secret) < VERBATIM_CHARS - len(ELLIPSIS) < comment.index(secret) + len(secret)

    text, truncated = verbatim_text(comment)

    assert truncated and f"[{kind}]" in text
    assert secret[: len(secret) // 2].strip() not in text, text


def test_a_short_comment_is_shown_whole_and_redacting_twice_changes_nothing() -> None:
    assert verbatim_text("Fine.") == ("Fine.", False)
    once, _ = verbatim_text("Email me at jane.roe@example.com please")
    assert once == "Email me at [EMAIL] please" and verbatim_text(once) == (once, False)


#: The PII corpus of the redaction tests: each positive the redaction catches. Its known misses
#: (a number spelt out in words, "john dot doe at ...") no redaction recognises, so no page can hide them.
PII_CORPUS = [json.loads(line) for line in
              (Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "corpus.jsonl").read_text().splitlines()]
PII_CASES = [case for case in PII_CORPUS if case["kinds"] and not case.get("known_miss")]
PII_AGENCY = "PII"


class FakeClickHouse:
    """The dashboard's client with fixed answers: each query ``read_snapshot`` sends is answered with
    the rows of the first marker it contains (an unknown query fails the test). Records the queries."""

    def __init__(self, answers: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        self.answers = answers
        self.queries: list[str] = []
        self.disconnected = 0

    def execute(self, query: str, params: Any = None, *, settings: Any = None) -> list[tuple[Any, ...]]:
        self.queries.append(query)
        for marker, rows in self.answers:
            if marker in query:
                return rows
        raise AssertionError(f"the dashboard sent a query the fake does not know: {query}")

    def disconnect(self) -> None:
        self.disconnected += 1


def pii_clickhouse() -> FakeClickHouse:
    """ClickHouse as it would answer if every positive of the PII corpus were stored unredacted as a
    negative comment, each of its own service (with a score, so it has a card); the first service
    alerting, every one with a theme."""
    now_ms = int(time.time() * 1000)
    services = [(PII_AGENCY, f"case-{i:02d}") for i in range(len(PII_CASES))]
    return FakeClickHouse([
        ("feedback_store FINAL", [(*s, "phone", now_ms - 60_000, case["text"], ["efficiency"])
                                  for s, case in zip(services, PII_CASES, strict=True)]),
        ("comment_themes_1h_all_channels", [(*s, "efficiency", 1, 1, 0) for s in services]),
        ("open_alerts", [(*services[0], "satisfaction", 20.0, 30, 60.0, now_ms - 60_000, now_ms)]),
        ("driver_scores_15m_all_channels", []),
        ("trust_scores_15m_all_channels", []),
        ("domain_scores_15m_all_channels", [_score(*s, "all", "satisfaction", 30, 20.0) for s in services]),
        ("toUnixTimestamp(now())", [(now_ms // 1000,)]),
        (".domain_scores WHERE", []),  # the trend
    ])


def pii_reader(clients: list[FakeClickHouse] | None = None) -> Any:
    """``read_snapshot`` itself, on ``pii_clickhouse``: the reader a server gets in the PII tests."""

    def reader(settings: Settings) -> Snapshot:
        client = pii_clickhouse()
        if clients is not None:
            clients.append(client)
        return read_snapshot(settings, connect=lambda _settings: client)

    return reader


def test_no_personal_data_of_the_pii_corpus_reaches_snapshot_json_or_the_event_stream() -> None:
    """Defence in depth: were the corpus's comments stored unredacted, what the server sends (the
    JSON for scripts and the pushes the page draws) holds none of their personal data, and still
    shows each comment (redacted). The read costs two queries more than without comments: eight."""
    assert len(PII_CASES) == 41
    clients: list[FakeClickHouse] = []

    async def served() -> tuple[str, str]:
        app = build_app(Settings(), push_seconds=0.05, reader=pii_reader(clients))
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/snapshot.json")
            assert response.status == 200
            body = await response.text()
            events = await client.get("/events")
            line = (await events.content.readline()).decode()
            events.close()
            return body, line

    body, pushed = asyncio.run(served())
    assert pushed.startswith("data: {")
    snap = json.loads(body)
    shown = {b["service"]: [v["text"] for v in b["verbatims"]] for b in snap["services"]}
    assert len(shown) == len(PII_CASES) and all(len(texts) == 1 for texts in shown.values()), "each comment shown"
    for i, case in enumerate(PII_CASES):
        [text] = shown[f"case-{i:02d}"]
        for kind in case["kinds"]:
            assert f"[{kind}]" in text, (case["text"], text)
        for secret in case["secrets"]:
            assert secret not in body and secret not in pushed, (secret, text)
            assert json.dumps(secret)[1:-1] not in body and json.dumps(secret)[1:-1] not in pushed
    assert snap["alerts"][0]["themes"][0]["driver"] == "efficiency"

    fake = clients[0]
    assert any(case["secrets"][0] in str(fake.answers[0][1]) for case in PII_CASES), "the store held them unredacted"
    assert len(fake.queries) == 8 and fake.disconnected == 1, fake.queries
    [comments] = [q for q in fake.queries if "feedback_store" in q]
    assert f"LIMIT {VERBATIMS_SHOWN} BY agency, service" in comments and "comment_label = 'negative'" in comments
