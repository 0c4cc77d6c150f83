"""The live page in a real browser (headless Chromium over DevTools) against a real worker, Kafka and
ClickHouse, fed by `cxstream generate`'s traffic of both survey forms (``mixed``): numbers appear and
are ClickHouse's (the domains, the current form's trust per scale and drivers, and each service's
comment themes and latest complaints, which the generator writes), they change when
more traffic arrives (so a page that stops updating fails), and an induced incident's alert shows.
Leaves a screenshot; ``DASHBOARD_SCREENSHOT=docs/img/dashboard.png`` refreshes the README's.

The page's own JavaScript is also run on fixed snapshots served in process (no Kafka, no ClickHouse,
only Chromium, which ``ensure_chromium`` installs, hence the integration mark): names that hold the
characters an old key joined them with must never share figures, and the current A-11 form's trust
(each scale on its own), drivers and trust alerts show exactly the snapshot's numbers. The current
form is also read from ClickHouse 18.16's own views, on rows a test writes into a database of its
own (no worker), so the page's queries run on the real server.

What comments say is checked the same three ways: on a fixed snapshot (each service's top negative
themes with their counts, its latest negative comments newest first and escaped, an alert's line
listing its themes), on the PII corpus stored unredacted and read through the page's own reader
(none of its personal data may reach the page), and on 18.16 (themes and comments equal what
``comment_themes_1h_all_channels`` and ``cx.feedback`` hold for rows written with the sink's own
``feedback_row``, which computes each comment's insights).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cxstream.ingest.kinds import input_kinds
from cxstream.config import Settings
from cxstream.dashboard.server import build_app
from cxstream.dashboard.queries import (
    SCALE_LABELS,
    THEME_LABELS,
    THEMES_SHOWN,
    V2_TRUST_ALERT,
    VERBATIMS_SHOWN,
    Snapshot,
    build_snapshot,
    verbatim_text,
)
from cxstream.insights import analyze
from cxstream.ingest.generate import CATALOG, Incident, TrafficGenerator, daily_rhythm
from cxstream.kafka_clients import reliable_producer
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Alert, DomainScore, DriverScore, EnrichedFeedback, TrustScore
from cxstream.scores import AnswerCounts, DriverCounts, TrustCounts
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from cxstream.stack import StackStatus
from cxstream.vocabulary import DOMAINS, DRIVERS, TRUST_SCALES
from tests.support.chromium import Page, chromium_page, serve_app
from tests.support.clickhouse import local_client, unique_database
from tests.support.worker import WorkerRun, running_worker, wait_for
from tests.unit.test_dashboard import PII_CASES, pii_reader

pytestmark = pytest.mark.integration

INCIDENT_SERVICE = ("VA", "disability-claims")
#: Every channel of the service: its all-channels score falls far below the threshold.
INCIDENTS = tuple(Incident(*INCIDENT_SERVICE, channel) for channel in CATALOG["VA"]["disability-claims"])

# JavaScript read from the page.
PAGE_TOTAL = ("[...document.querySelectorAll('[data-cell][data-channel=\"all\"][data-n]')]"
              ".reduce((t, e) => t + Number(e.dataset.n), 0)")
PAGE_SEQ = "Number(document.getElementById('status').dataset.seq)"


def _publish(run: WorkerRun, seed: int, minutes: float, rate: float, feedback_share: float,
             incidents: tuple[Incident, ...] = (), form: str = "mixed") -> int:
    """Generated traffic of the last ``minutes``, all at once: about ``rate`` touchpoints a second at
    any hour (the generator's daily rhythm is divided out, so a night run has as many events).
    ``mixed``: feedback on the 2019-2023 form, the current one, or both."""
    now = int(time.time() * 1000)
    generator = TrafficGenerator(seed, rate=rate / daily_rhythm(now), start_ms=now - int(minutes * 60_000),
                                 feedback_share=feedback_share, incidents=incidents, form=form)
    kinds = input_kinds(Codec(), run.settings.topic)
    producer = reliable_producer(run.settings, client_id="test-dashboard")
    sent = 0
    try:
        for event in generator.events_until(now):
            key, value = kinds[event.kind].to_message(event.body)
            producer.send(kinds[event.kind].topic, key=key, value=value)
            sent += 1
        producer.flush(60)
    finally:
        producer.close(10)
    return sent


def _db_total(run: WorkerRun) -> int:
    return int(run.query("SELECT sum(responses) FROM {db}.domain_scores_15m_all_channels")[0][0] or 0)


def _db_alerts(run: WorkerRun) -> list[tuple[str, str, str]]:
    return sorted((a, s, d) for a, s, d in run.query("SELECT agency, service, domain FROM {db}.open_alerts"))


def _page_alerts(page: Page) -> list[tuple[str, str, str]]:
    """The (agency, service, domain) of every open alert the page lists, from its own attributes."""
    return sorted((a["agency"], a["service"], a["domain"]) for a in page.datasets("[data-alert]"))


def _page_current_form(page: Page) -> dict[tuple[str, ...], str]:
    """Every current-form figure the page shows, keyed by its hooks: each trust scale and channel's
    % favourable with its responses, each offered driver's % went well, % didn't and offered."""
    shown: dict[tuple[str, ...], str] = {}
    for data, text in page.evaluate("[...document.querySelectorAll('[data-trust][data-figure=\"pct\"], "
                                    "[data-driver]')].map(e => [{...e.dataset}, e.textContent])"):
        if "trust" in data and "n" in data:  # a channel a scale has no answers on shows a dash, no data-n
            shown[("trust", data["agency"], data["service"], data["scale"], data["channel"])] = f"{text} ({data['n']})"
        elif "driver" in data and text not in ("\u2013", "not offered"):
            shown[("driver", data["agency"], data["service"], data["driver"], data["figure"])] = text
    return shown


def _db_current_form(run: WorkerRun, page: Page) -> dict[tuple[str, ...], str]:
    """The same figures from ClickHouse's 15-minute views, percentages written as the page writes them."""
    trust = run.query("SELECT agency, service, trust_scale, channel, pct_favourable, responses "
                      "FROM {db}.trust_scores_15m_all_channels WHERE responses > 0 UNION ALL "
                      "SELECT agency, service, trust_scale, channel, pct_favourable, responses "
                      "FROM {db}.trust_scores_15m WHERE responses > 0")
    drivers = run.query("SELECT agency, service, driver, pct_went_well, pct_did_not_go_well, offered "
                        "FROM {db}.driver_scores_15m_all_channels WHERE offered > 0")
    values = [float(r[4]) for r in trust] + [float(v) for r in drivers for v in r[3:5]]
    fixed = iter(page.evaluate(f"{json.dumps(values)}.map(v => v.toFixed(1))"))
    expected: dict[tuple[str, ...], str] = {}
    for agency, service, scale, channel, _pct, n in trust:
        expected[("trust", agency, service, scale, channel)] = f"{next(fixed)} ({n})"
    for agency, service, driver, _well, _not_well, offered in drivers:
        expected[("driver", agency, service, driver, "went_well")] = next(fixed)
        expected[("driver", agency, service, driver, "did_not_go_well")] = next(fixed)
        expected[("driver", agency, service, driver, "offered")] = str(offered)
    return expected


def _current_form_matches(run: WorkerRun, page: Page) -> dict[tuple[str, ...], str]:
    """Wait until the page shows exactly ClickHouse's current-form figures; return them."""
    figures: dict[tuple[str, ...], str] = {}

    def same() -> bool:
        nonlocal figures
        figures = _db_current_form(run, page)
        return _page_current_form(page) == figures

    wait_for(same, timeout=30, what="the page to show exactly ClickHouse's current-form figures")
    return figures


def _cell(page: Page, agency: str, service: str, domain: str, channel: str) -> list[str]:
    """What the page shows in one score cell (a list: exactly one cell may claim those names)."""
    return page.texts("[data-cell]", {"agency": agency, "service": service, "domain": domain, "channel": channel})


#: How long ClickHouse's total must stay the same to count as settled: well over a score's way from
#: the worker's last tick (the test's emit interval, 200 ms) through the merge to the sink's insert
#: (at least one per ``sink_flush_ms``, 1 s).
QUIET_SECONDS = 2.0


def _settled_total(run: WorkerRun) -> int:
    """The 15-minute responses once the worker has consumed everything and the sink stopped moving."""
    wait_for(run.drained, timeout=90, what="the worker to consume the traffic")
    total, since = _db_total(run), time.monotonic()
    while time.monotonic() - since < QUIET_SECONDS:
        time.sleep(0.25)
        if (now := _db_total(run)) != total:
            total, since = now, time.monotonic()
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _dashboard(run: WorkerRun, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """`cxstream dashboard` on the run's database, pushing every second. Yields a function that
    waits until the page answers and returns its address, so the test works while it starts."""
    port = _free_port()
    log = open(tmp_path / "dashboard.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "dashboard", "--port", str(port),
                                "--push-seconds", "1"], env=run.env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the dashboard exited with {process.returncode}; see {tmp_path / 'dashboard.log'}")
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    def ready() -> str:
        wait_for(answers, timeout=30, what="the dashboard to answer")
        return url

    try:
        yield ready
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_live_page_shows_clickhouse_scores_updates_them_and_shows_the_incident_alert(
    stack: StackStatus, settings: Settings, tmp_path: Path
) -> None:
    with running_worker(settings, tmp_path, join_wait_seconds=5, alert_min_responses=20) as run, \
            _dashboard(run, tmp_path) as dashboard, chromium_page() as page:
        # Eight minutes of traffic, light: the worker's time goes with the number of events, and the
        # checks need only a few hundred responses, of which the incident's service gets a third
        # (about 90: some 40 on the 2019-2023 form, 55 on the current one, 35 of them by thumbs; over
        # the alert's 20 for the domains and thumbs trust). A picture for the README gets fuller traffic.
        if os.environ.get("DASHBOARD_SCREENSHOT"):
            _publish(run, seed=7, minutes=8, rate=6.0, feedback_share=0.5, incidents=INCIDENTS)
        else:
            _publish(run, seed=7, minutes=8, rate=0.6, feedback_share=0.9, incidents=INCIDENTS)
        page.goto(dashboard())

        first = _settled_total(run)
        assert first > 0
        page.wait_for(f"{PAGE_TOTAL} === {first}", timeout=30, what=f"ClickHouse's {first} responses")
        figures = _current_form_matches(run, page)
        assert {k[3] for k in figures if k[0] == "trust"} == set(TRUST_SCALES), "mixed traffic has both scales"
        assert any(k[0] == "driver" for k in figures)
        # What the generated customers wrote, through the worker's sink (which reads each comment):
        # each service's themes and latest complaints exactly as the views hold them.
        carded = {(d["agency"], d["service"]) for d in page.datasets("section.svc")}
        said: tuple[dict[tuple[str, str], list[tuple[str, ...]]], ...] = ()

        def comments_match() -> bool:
            nonlocal said
            said = _view_comments(run.query, carded)
            return (_per_service(_page_themes(page), carded), _per_service(_page_verbatims(page), carded)) == said

        wait_for(comments_match, timeout=30, what="the page to show exactly ClickHouse's themes and negative comments")
        assert said[0][INCIDENT_SERVICE] and said[1][INCIDENT_SERVICE], "the incident's customers complain"
        cells = _cell(page, *INCIDENT_SERVICE, "satisfaction", "all")
        assert len(cells) == 1, f"exactly one cell must show the incident's satisfaction score, found {cells}"
        assert float(cells[0]) < 60.0, f"the incident's satisfaction score should be low, the page shows {cells[0]}"

        def incident_alerts() -> bool:
            names = [d for a, s, d in _db_alerts(run) if (a, s) == INCIDENT_SERVICE]
            return any(d in DOMAINS for d in names) and any(d.startswith(V2_TRUST_ALERT) for d in names)

        wait_for(incident_alerts, timeout=60,
                 what="the incident's alerts in open_alerts: a domain's and the current form's trust")
        # Alerts keep coming while the last scores merge: compare until both sides agree.
        wait_for(lambda: _page_alerts(page) == _db_alerts(run), timeout=30,
                 what="the page to list exactly ClickHouse's open alerts")
        listed = page.evaluate("document.getElementById('alert-list').textContent")
        trust_alerts = [d for a, s, d in _page_alerts(page) if (a, s) == INCIDENT_SERVICE and d.startswith(V2_TRUST_ALERT)]
        assert trust_alerts and all(f"trust ({SCALE_LABELS[d.removeprefix(V2_TRUST_ALERT)]})" in listed
                                    for d in trust_alerts), listed

        # More traffic: the page must follow by itself (no reload), or this fails.
        seq_before = page.evaluate(PAGE_SEQ)
        _publish(run, seed=8, minutes=2, rate=0.6, feedback_share=0.9)
        second = _settled_total(run)
        assert second > first
        page.wait_for(f"{PAGE_TOTAL} === {second}", timeout=30,
                      what=f"the new total of {second} responses (it showed {first}: the page stopped updating)")
        assert _current_form_matches(run, page) != figures, "new current-form answers must change its figures"
        assert page.evaluate(PAGE_SEQ) > seq_before
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"

        page.screenshot(Path(os.environ.get("DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png"))


#: Two services a key of ``agency + "|" + service`` made one, and names an attribute must escape.
ALERTING = ("P", "Q|R")
HEALTHY = ("P|Q", "R")
MARKUP = ('<b>"A&B"</b>', "it's <i>|all")


def _fixed_snapshot(_settings: Settings) -> Snapshot:
    """ALERTING at 0% with an open alert, HEALTHY at 100%, MARKUP at 50%: satisfaction, all channels
    and the phone channel alike, 50 responses each."""
    now_ms = int(time.time() * 1000)
    scores: list[tuple[object, ...]] = []
    for (agency, service), pct in ((ALERTING, 0.0), (HEALTHY, 100.0), (MARKUP, 50.0)):
        for channel in ("all", "phone"):
            scores.append((agency, service, channel, "satisfaction", 50, pct, max(pct - 9, 0.0),
                           min(pct + 9, 100.0), False))
    alerts = [(*ALERTING, "satisfaction", 0.0, 50, 60.0, now_ms - 120_000, now_ms)]
    return build_snapshot(scores, [], alerts, now_ms - 3_300_000, threshold=60.0)


def test_names_holding_a_separator_never_share_figures_on_the_page() -> None:
    """Agency ``P|Q`` / service ``R`` and agency ``P`` / service ``Q|R`` are two services: each shows
    its own score, and the open alert shows the alerting service's current 0%, not the other's 100%."""
    app = build_app(Settings(), push_seconds=0.2, reader=_fixed_snapshot)
    with serve_app(app) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")

        listed = page.evaluate("document.getElementById('alert-list').textContent")
        assert "P / Q|R: satisfaction 0.0% (50)" in listed, f"the alert must show its own service's score: {listed!r}"
        assert _page_alerts(page) == [(*ALERTING, "satisfaction")]

        for (agency, service), pct in ((ALERTING, "0.0"), (HEALTHY, "100.0"), (MARKUP, "50.0")):
            for channel in ("all", "phone"):
                assert _cell(page, agency, service, "satisfaction", channel) == [pct], (agency, service, channel)
        cards = page.evaluate("[...document.querySelectorAll('section.svc')]"
                              ".map(e => [e.dataset.agency, e.dataset.service, e.classList.contains('alerting'),"
                              " e.querySelector('h2').textContent])")
        assert sorted(map(tuple, cards)) == sorted([
            (*ALERTING, True, "P Q|R1 alert"), (*HEALTHY, False, "P|Q R"), (*MARKUP, False, " ".join(MARKUP)),
        ])
        assert page.evaluate("document.querySelectorAll('main b, main i').length") == 0, "a name became markup"
        # Every channel's "all" cell counted once, whatever a name ends with.
        assert page.evaluate(PAGE_TOTAL) == 150

        with urllib.request.urlopen(url + "snapshot.json", timeout=10) as response:
            snap = json.load(response)
        assert sorted((b["agency"], b["service"], b["alerts"]) for b in snap["services"]) == sorted(
            [(*ALERTING, 1), (*HEALTHY, 0), (*MARKUP, 0)])
        assert [(a["agency"], a["service"], a["domain"]) for a in snap["alerts"]] == [(*ALERTING, "satisfaction")]
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"


# --- the current A-11 form ------------------------------------------------------------------------

#: Both forms; only the current form (names an attribute must escape); only the 2019-2023 form.
BOTH = ("VA", "claims")
V2_ONLY = ("SSA", '<i>retirement</i> & "survivors"')
V1_ONLY = ("DOS", "passports")


def _current_form_snapshot(_settings: Settings) -> Snapshot:
    """BOTH: satisfaction, thumbs (below the threshold, alerting) on the website and phone, five-point
    on the phone; five drivers offered, one too thinly, two to nobody. V2_ONLY: five-point on 8
    responses (suppressed), two drivers. V1_ONLY: satisfaction. Figures are chosen so that a mix of
    the scales, of the channels or of the drivers shows as a wrong number."""
    now_ms = int(time.time() * 1000)
    scores = [(*BOTH, channel, "satisfaction", 30, 80.0, 62.7, 90.5, False) for channel in ("all", "phone")]
    scores += [(*V1_ONLY, channel, "satisfaction", 20, 90.0, 69.9, 97.2, False) for channel in ("all", "in_person")]
    trust = [(*BOTH, "all", "thumbs", 90, 52.2, 42.1, 62.3, False),
             (*BOTH, "website", "thumbs", 60, 45.0, 33.1, 57.6, False),
             (*BOTH, "phone", "thumbs", 30, 66.7, 48.8, 80.8, False),
             (*BOTH, "all", "five_point", 40, 72.5, 57.2, 83.9, False),
             (*BOTH, "phone", "five_point", 40, 72.5, 57.2, 83.9, False),
             (*V2_ONLY, "all", "five_point", 8, 62.5, 30.6, 86.3, True),
             (*V2_ONLY, "mobile_app", "five_point", 8, 62.5, 30.6, 86.3, True)]
    drivers = [(*BOTH, "effectiveness", 130, 60, 30, 46.2, 23.1, False),
               (*BOTH, "ease", 130, 50, 40, 38.5, 30.8, False),
               (*BOTH, "efficiency", 60, 20, 25, 33.3, 41.7, False),
               (*BOTH, "employee", 40, 30, 2, 75.0, 5.0, False),
               (*BOTH, "other", 5, 1, 1, 20.0, 20.0, True),
               (*V2_ONLY, "ease", 8, 4, 2, 50.0, 25.0, True),
               (*V2_ONLY, "effectiveness", 8, 5, 1, 62.5, 12.5, True)]
    trend = [(*BOTH, "v2_trust_thumbs", i, 60 - i * 2, 100) for i in range(12)]
    alerts = [(*BOTH, "v2_trust_thumbs", 48.0, 80, 60.0, now_ms - 300_000, now_ms)]
    return build_snapshot(scores, trend, alerts, now_ms - 3_300_000, threshold=60.0, trust=trust, drivers=drivers)


def _fixed(page: Page, value: float, digits: int) -> str:
    """``value`` as the page's JavaScript writes it (``toFixed``), so a check compares the very number."""
    return str(page.evaluate(f"({value!r}).toFixed({digits})"))


def _trust_cell(page: Page, agency: str, service: str, scale: str, channel: str, figure: str = "pct") -> list[str]:
    return page.texts("[data-trust]", {"agency": agency, "service": service, "scale": scale, "channel": channel,
                                       "figure": figure})


def _classes(page: Page, selector: str, data: dict[str, str]) -> list[set[str]]:
    """The classes of every element ``Page.texts`` would read: ``low`` is red, ``sup`` grey."""
    return [set(c.split()) for c in page.evaluate(
        f"(() => {{ const want = Object.entries({json.dumps(data)});"
        f" return [...document.querySelectorAll({json.dumps(selector)})]"
        f".filter(e => want.every(([k, v]) => e.dataset[k] === v)).map(e => e.className); }})()")]


def _trust_classes(page: Page, agency: str, service: str, scale: str) -> list[set[str]]:
    """The classes of a scale's all-channels % favourable cell."""
    return _classes(page, "[data-trust]", {"agency": agency, "service": service, "scale": scale, "channel": "all",
                                           "figure": "pct"})


def _driver_cell(page: Page, agency: str, service: str, driver: str, figure: str) -> list[str]:
    return page.texts("[data-driver]", {"agency": agency, "service": service, "driver": driver, "figure": figure})


def _count(page: Page, selector: str, agency: str, service: str) -> int:
    """How many elements matching ``selector`` belong to one service."""
    return sum(1 for d in page.datasets(selector) if (d.get("agency"), d.get("service")) == (agency, service))


def _assert_current_form(page: Page, service: dict[str, Any]) -> None:
    """Every current-form figure of one service of ``/snapshot.json`` is on the page, as the page
    writes numbers, in the cell of its own agency, service, scale, channel, driver and figure."""
    agency, name = service["agency"], service["service"]
    trust, channels = service["trust"], service["trust_channels"]
    if "v2" not in service["forms"]:
        assert _count(page, "[data-trust]", agency, name) == _count(page, "[data-driver]", agency, name) == 0
        return
    for scale in TRUST_SCALES:
        if scale not in trust:
            assert _trust_cell(page, agency, name, scale, "all") == [], f"{agency}/{name} has no {scale} figures"
            continue
        row = trust[scale]
        whole = row["all"]
        where = (agency, name, scale)
        assert _trust_cell(page, *where, "all") == [_fixed(page, whole["pct"], 1)], where
        assert _trust_cell(page, *where, "all", "n") == [str(whole["responses"])], where
        assert _trust_cell(page, *where, "all", "interval") == [
            f"[{_fixed(page, whole['low'], 0)}\u2013{_fixed(page, whole['high'], 0)}]"], where
        per_channel = row["channels"]
        for channel in channels:
            shown = _fixed(page, per_channel[channel]["pct"], 1) if channel in per_channel else "\u2013"
            assert _trust_cell(page, *where, channel) == [shown], (*where, channel)
    drivers = service["drivers"]
    for driver in DRIVERS:
        figures = drivers.get(driver)
        where = (agency, name, driver)
        if figures is None:  # not offered: said so, never a 0
            assert _driver_cell(page, *where, "went_well") == ["\u2013"], where
            assert _driver_cell(page, *where, "did_not_go_well") == ["\u2013"], where
            assert _driver_cell(page, *where, "offered") == ["not offered"], where
            continue
        assert _driver_cell(page, *where, "went_well") == [_fixed(page, figures["pct_went_well"], 1)], where
        assert _driver_cell(page, *where, "did_not_go_well") == [_fixed(page, figures["pct_did_not_go_well"], 1)], where
        assert _driver_cell(page, *where, "offered") == [str(figures["offered"])], where


def test_the_page_shows_the_current_forms_trust_per_scale_its_drivers_and_trust_alerts() -> None:
    """Each trust scale on its own (% favourable, responses, interval, channels), each driver's
    figures over those offered it, a trust alert with its label and its scale's own current score;
    a service with only the current form shows no empty domain table, one with only the 2019-2023
    form looks as it did."""
    app = build_app(Settings(), push_seconds=0.2, reader=_current_form_snapshot)
    with serve_app(app) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")
        with urllib.request.urlopen(url + "snapshot.json", timeout=10) as response:
            snap = json.load(response)
        services = {(b["agency"], b["service"]): b for b in snap["services"]}
        assert {k: b["forms"] for k, b in services.items()} == {BOTH: ["v1", "v2"], V2_ONLY: ["v2"], V1_ONLY: ["v1"]}

        for service in snap["services"]:
            _assert_current_form(page, service)
        # What the checks above rest on, spelled out once: the snapshot's own figures.
        assert _trust_cell(page, *BOTH, "thumbs", "all") == ["52.2"]
        assert _trust_cell(page, *BOTH, "five_point", "all") == ["72.5"]
        assert _trust_cell(page, *BOTH, "thumbs", "website") == ["45.0"]
        assert _trust_cell(page, *BOTH, "five_point", "website") == ["\u2013"], "five-point has no website answers"
        assert _trust_cell(page, *BOTH, "thumbs", "all", "interval") == ["[42\u201362]"]
        assert _driver_cell(page, *BOTH, "efficiency", "did_not_go_well") == ["41.7"]
        assert _driver_cell(page, *BOTH, "humanity", "offered") == ["not offered"]
        assert _trust_classes(page, *BOTH, "thumbs") == [{"all", "low"}], "below the threshold: red"
        assert _trust_classes(page, *BOTH, "five_point") == [{"all"}]
        assert _trust_classes(page, *V2_ONLY, "five_point") == [{"all", "sup"}], "too few responses: grey"

        # Which tables each service has: the current form only where it has figures of it, the
        # domains only where they have figures (no table of empty domains for V2_ONLY).
        assert _count(page, "[data-cell]", *V2_ONLY) == 0
        assert _count(page, "[data-trust]", *V1_ONLY) == 0 and _count(page, "[data-driver]", *V1_ONLY) == 0
        assert _count(page, "[data-cell][data-channel='all']", *BOTH) == 7
        assert _count(page, "[data-driver]", *V2_ONLY) == 3 * len(DRIVERS)
        # Trust figures are never counted as a domain's: the domains' responses are the domains'.
        assert page.evaluate(PAGE_TOTAL) == 30 + 20
        assert page.evaluate("document.querySelectorAll('main b, main i').length") == 0, "a name became markup"

        # The trust alert: labelled by its scale, showing that scale's current score (52.2% on 90),
        # not the figures it fired on (48.0% on 80) nor the other scale's.
        assert _page_alerts(page) == [(*BOTH, "v2_trust_thumbs")]
        listed = page.evaluate("document.getElementById('alert-list').textContent")
        assert "VA / claims: trust (thumbs) 52.2% (90)" in listed, listed
        assert [(a["domain"], a["label"], a["scale"]) for a in snap["alerts"]] == [
            ("v2_trust_thumbs", "trust (thumbs)", "thumbs")]
        cards = page.evaluate("[...document.querySelectorAll('section.svc.alerting')].map(e => e.dataset.service)")
        assert cards == [BOTH[1]]
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"


def test_the_page_shows_the_current_form_as_clickhouses_views_have_it(
    stack: StackStatus, settings: Settings
) -> None:
    """The dashboard's own queries on ClickHouse 18.16: rows written into a fresh database's stores
    for the last few minutes (two services, both scales, channels, drivers, a firing and a resolved
    trust alert); every figure the page shows equals what the 15-minute views and open_alerts say."""
    database = unique_database("cx_test_dashboard")
    client = local_client(settings)
    try:
        migrate(client, database, bi_min_responses=10)
        [(minute,)] = client.execute("SELECT toUnixTimestamp(toStartOfMinute(now()))")
        trust_rows, driver_rows, domain_rows = [], [], []
        for back in (1, 2, 3, 4):  # well inside the 15 minutes, whenever the test crosses a minute
            start = (int(minute) - 60 * back) * 1000
            for (agency, service), channel, scale, counts in (
                    (BOTH, "website", "thumbs", (back, 4 + back, 0, 0, 0, 0)),
                    (BOTH, "phone", "thumbs", (3, 2, 0, 0, 0, 0)),
                    (BOTH, "phone", "five_point", (0, 1, back, 1, 2, back)),
                    (V2_ONLY, "mobile_app", "five_point", (0, 0, 1, 0, 0, back % 2))):  # 6: suppressed
                c = TrustCounts(counts)
                trust_rows.append(tables.trust_score_row(TrustScore(
                    start, 60, agency, service, channel, scale, c.responses, c.favourable(scale), *counts,
                    c.pct_favourable(scale), 1)))
            for (agency, service), channel, driver, d in (
                    (BOTH, "website", "effectiveness", DriverCounts(9, 5, 2)),
                    (BOTH, "phone", "effectiveness", DriverCounts(7, 1, 4)),
                    (BOTH, "phone", "ease", DriverCounts(7, 3, 3)),
                    (BOTH, "phone", "employee", DriverCounts(2, 2, 0)),
                    (V2_ONLY, "mobile_app", "ease", DriverCounts(2, 1, 1))):
                driver_rows.append(tables.driver_score_row(DriverScore(
                    start, 60, agency, service, channel, driver, *d.as_tuple(), d.pct_went_well,
                    d.pct_did_not_go_well, 1)))
            a = AnswerCounts(1, 0, 1, 2, 3)
            domain_rows.append(tables.score_row(DomainScore(start, 60, *BOTH, "phone", "ease", a.responses,
                                                            *a.as_tuple(), a.mean, a.pct_positive, 1)))
        tables.insert(client, database, tables.TRUST_SCORES, trust_rows)
        tables.insert(client, database, tables.DRIVER_SCORES, driver_rows)
        tables.insert(client, database, tables.SCORES, domain_rows)
        now_ms = int(minute) * 1000
        alerts = [Alert(*BOTH, "v2_trust_thumbs", "firing", 40.0, 30, 60.0, 20, now_ms, now_ms + 1),
                  Alert(*V2_ONLY, "v2_trust_five_point", "firing", 30.0, 20, 60.0, 20, now_ms - 120_000, now_ms - 119_999),
                  Alert(*V2_ONLY, "v2_trust_five_point", "resolved", 70.0, 20, 60.0, 20, now_ms - 60_000, now_ms - 59_999)]
        tables.insert(client, database, tables.ALERTS, [tables.alert_row(alert, 1) for alert in alerts])

        def view(sql: str) -> list[tuple[Any, ...]]:
            return list(client.execute(sql.replace("{db}", database)))

        app = build_app(dataclasses.replace(settings, clickhouse_database=database), push_seconds=0.5)
        with serve_app(app) as url, chromium_page() as page:
            page.goto(url)
            page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")
            assert page.evaluate("document.getElementById('status').className") == "", page.evaluate(
                "document.getElementById('status').textContent")

            columns = "agency, service, channel, trust_scale, responses, pct_favourable, pct_favourable_low, " \
                      "pct_favourable_high, suppressed"
            trust = view(f"SELECT {columns} FROM {{db}}.trust_scores_15m_all_channels "
                         f"UNION ALL SELECT {columns} FROM {{db}}.trust_scores_15m")
            assert {(r[0], r[1], r[3]) for r in trust} == {(*BOTH, "thumbs"), (*BOTH, "five_point"),
                                                           (*V2_ONLY, "five_point")}
            for agency, service, channel, scale, n, pct, low, high, suppressed in trust:
                where = (agency, service, scale, channel)
                assert _trust_cell(page, *where) == [_fixed(page, float(pct), 1)], where
                if channel == "all":
                    assert _trust_cell(page, *where, "n") == [str(n)], where
                    assert _trust_cell(page, *where, "interval") == [
                        f"[{_fixed(page, float(low), 0)}\u2013{_fixed(page, float(high), 0)}]"], where
                    assert ("sup" in _trust_classes(page, *where[:3])[0]) == bool(suppressed), where
            assert _trust_cell(page, *V2_ONLY, "thumbs", "all") == [], "a scale the service does not use is not shown"

            drivers = view("SELECT agency, service, driver, offered, pct_went_well, pct_did_not_go_well "
                           "FROM {db}.driver_scores_15m_all_channels")
            offered = {(a, s, d): (n, well, not_well) for a, s, d, n, well, not_well in drivers}
            assert len(offered) == 4
            for agency, service in (BOTH, V2_ONLY):
                for driver in DRIVERS:
                    cell = (agency, service, driver)
                    if cell not in offered:
                        assert _driver_cell(page, *cell, "offered") == ["not offered"], cell
                        continue
                    n, well, not_well = offered[cell]
                    assert _driver_cell(page, *cell, "offered") == [str(n)], cell
                    assert _driver_cell(page, *cell, "went_well") == [_fixed(page, float(well), 1)], cell
                    assert _driver_cell(page, *cell, "did_not_go_well") == [_fixed(page, float(not_well), 1)], cell
                    # Grey below the views' minimum, as a score with too few responses is.
                    [shown] = _classes(page, "[data-driver]", {"agency": agency, "service": service, "driver": driver,
                                                               "figure": "went_well"})
                    assert ("sup" in shown) == (n < 10), (cell, n, shown)
            assert {d for (_a, _s, d), (n, *_) in offered.items() if n < 10} == {"employee", "ease"}, "both kinds"

            open_alerts = sorted((a, s, d) for a, s, d in view(
                "SELECT agency, service, domain FROM {db}.open_alerts"))
            assert open_alerts == [(*BOTH, "v2_trust_thumbs")]
            assert _page_alerts(page) == open_alerts
            [(thumbs_n, thumbs_pct)] = view("SELECT responses, pct_favourable FROM {db}.trust_scores_15m_all_channels "
                                            "WHERE trust_scale = 'thumbs'")
            listed = page.evaluate("document.getElementById('alert-list').textContent")
            assert f"trust ({SCALE_LABELS['thumbs']}) {_fixed(page, float(thumbs_pct), 1)}% ({thumbs_n})" in listed, listed
            # The last hour's trend of each scale is drawn (one line per scale with figures).
            assert page.evaluate("[...document.querySelectorAll('tr[data-scale] path')]"
                                 ".filter(p => p.getAttribute('d')).length") == 3
            # The domains are the domains' alone: the v2 rows add nothing to them.
            [(domain_total,)] = view("SELECT sum(responses) FROM {db}.domain_scores_15m_all_channels")
            assert page.evaluate(PAGE_TOTAL) == domain_total == 4 * 7
            assert _count(page, "[data-cell]", *V2_ONLY) == 0
            assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"
    finally:
        try:
            client.execute(f"DROP DATABASE IF EXISTS {database}")
        finally:
            client.disconnect()


# --- what comments say ----------------------------------------------------------------------------

#: A service with complaints and an open alert; one whose names and comment are markup; one quiet.
COMMENTED = ("VA", "claims")
QUIET = ("DOS", "passports")
#: Markup in a comment: escaped, it is text; not escaped, it would end the quote, add elements and run code.
MARKUP_COMMENT = ('Rude clerk said <b>"wait"</b> & <i>left</i>. It\'s </q><img src=x onerror="window.pwned=1"> '
                  '<script>window.pwned=2</script>')


_COMMENTS_NOW_MS = int(time.time() * 1000)


def _comments_snapshot(_settings: Settings) -> Snapshot:
    """COMMENTED: satisfaction at 40% with an open alert, five themes (one praised only, one fourth)
    and four negative comments (one long, one holding personal data as if stored unredacted);
    MARKUP: a theme and MARKUP_COMMENT; QUIET: figures, no comment. The same every push: the
    test compares the page with snapshot.json fetched a moment apart (times taken per call made
    the two differ when a push landed in between, on a loaded machine)."""
    now_ms = _COMMENTS_NOW_MS
    scores = [(*service, "all", "satisfaction", 40, pct, pct - 15, pct + 15, False)
              for service, pct in ((COMMENTED, 40.0), (MARKUP, 70.0), (QUIET, 90.0))]
    alerts = [(*COMMENTED, "satisfaction", 35.0, 30, 60.0, now_ms - 240_000, now_ms)]
    themes = [(*COMMENTED, "employee", 10, 3, 5), (*COMMENTED, "ease", 9, 7, 1), (*COMMENTED, "humanity", 4, 3, 0),
              (*COMMENTED, "efficiency", 15, 12, 2), (*COMMENTED, "transparency", 6, 0, 6),
              (*MARKUP, "humanity", 2, 2, 0)]
    verbatims = [
        (*COMMENTED, "phone", now_ms - 240_000, "Oldest: nobody called back.", ["efficiency"]),
        (*COMMENTED, "website", now_ms - 60_000, "The portal logged me out " + "again and again " * 30 + "so I quit.",
         ["ease"]),
        (*COMMENTED, "phone", now_ms - 120_000, "Call me on 555-123-4567 or jane.roe@example.com, on hold 3 hours!",
         ["efficiency"]),
        (*COMMENTED, "in_person", now_ms - 180_000, "Line never moved.", ["efficiency"]),
        (*MARKUP, "phone", now_ms - 30_000, MARKUP_COMMENT, ["humanity", "employee"]),
    ]
    return build_snapshot(scores, [], alerts, now_ms - 3_300_000, threshold=60.0, themes=themes, verbatims=verbatims)


def _page_themes(page: Page, hook: str = "theme") -> list[tuple[str, ...]]:
    """Every theme the page shows (``theme``) or an alert line lists (``alert-theme``), in its order:
    agency, service, driver (the hook's value), negative, mentions and text."""
    return [tuple(row) for row in page.evaluate(
        f"[...document.querySelectorAll('[data-{hook}]')].map(e => [e.dataset.agency, e.dataset.service, "
        f"e.getAttribute('data-{hook}'), e.dataset.negative, e.dataset.mentions, e.textContent])")]


def _page_verbatims(page: Page) -> list[tuple[str, ...]]:
    """Every comment the page shows, in its order: agency, service, time (ms), channel, the text in
    its quote, and the time and channel line."""
    return [tuple(row) for row in page.evaluate(
        "[...document.querySelectorAll('[data-verbatim]')].map(e => [e.dataset.agency, e.dataset.service, "
        "e.dataset.at, e.dataset.channel, e.querySelector('q').textContent, e.querySelector('small').textContent])")]


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _expected_comments(services: list[dict[str, Any]]) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The themes and comments of ``/snapshot.json``'s services as the page must show them."""
    themes = [(b["agency"], b["service"], t["driver"], str(t["negative_mentions"]), str(t["mentions"]),
               f"{t['label']} {t['negative_mentions']} of {t['mentions']}") for b in services for t in b["themes"]]
    verbatims = [(b["agency"], b["service"], str(v["submitted_at_ms"]), v["channel"], v["text"],
                  f"{_utc(v['submitted_at_ms'])} UTC \u00b7 {v['channel']}") for b in services for v in b["verbatims"]]
    return themes, verbatims


def test_the_page_shows_each_services_complaints_newest_comments_first_escaped_and_the_themes_behind_an_alert(
) -> None:
    app = build_app(Settings(), push_seconds=0.2, reader=_comments_snapshot)
    with serve_app(app) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")
        with urllib.request.urlopen(url + "snapshot.json", timeout=10) as response:
            snap = json.load(response)
        themes, verbatims = _expected_comments(snap["services"])
        assert _page_themes(page) == themes
        assert _page_verbatims(page) == verbatims

        # What those rest on, spelled out: the top three negative themes with their counts, readable.
        assert [t[2:5] for t in themes if t[:2] == COMMENTED] == [
            ("efficiency", "12", "15"), ("ease", "7", "9"), ("employee", "3", "10")]
        assert themes[0][5] == f"{THEME_LABELS['efficiency']} 12 of 15" and len(themes) == THEMES_SHOWN + 1
        # Three comments, newest first, the long one cut with an ellipsis, personal data redacted.
        shown = [v for v in verbatims if v[:2] == COMMENTED]
        assert len(shown) == VERBATIMS_SHOWN and [int(v[2]) for v in shown] == sorted((int(v[2]) for v in shown),
                                                                                     reverse=True)
        assert shown[0][4].startswith("The portal logged me out again") and shown[0][4].endswith("\u2026")
        assert shown[1][4] == "Call me on [PHONE] or [EMAIL], on hold 3 hours!"
        assert [v[3] for v in shown] == ["website", "phone", "in_person"]
        # Markup in a comment and in names is text, never elements, never code.
        [markup] = [v for v in verbatims if v[:2] == MARKUP]
        assert markup[4] == MARKUP_COMMENT
        assert page.evaluate("document.querySelectorAll('main b, main i, main img, main script').length") == 0
        assert page.evaluate("window.pwned === undefined")
        # A service with no negative comment says so.
        quiet = page.texts("section.svc", {"agency": QUIET[0], "service": QUIET[1]})
        assert len(quiet) == 1 and "No negative comments in the last hour." in quiet[0]

        # The alert lists the themes behind it, in the same order, with their negative counts.
        listed = page.evaluate("document.getElementById('alert-list').textContent")
        assert "\u2014 themes: efficiency 12, ease 7, employee 3" in listed, listed
        assert [t[:4] for t in _page_themes(page, "alert-theme")] == [t[:4] for t in themes if t[:2] == COMMENTED]
        assert [t["driver"] for t in snap["alerts"][0]["themes"]] == ["efficiency", "ease", "employee"]
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"
        page.screenshot(Path(os.environ.get("DASHBOARD_COMMENTS_SCREENSHOT", "/tmp/cxstream-dashboard-comments.png")))


def test_no_personal_data_of_the_pii_corpus_reaches_the_page() -> None:
    """Every positive of the PII corpus stored unredacted as a negative comment, read through the page's
    own reader (``read_snapshot`` on a client answering those rows): the page shows each comment,
    redacted, and none of the personal data, in its text or anywhere in its document."""
    app = build_app(Settings(), push_seconds=0.2, reader=pii_reader())
    with serve_app(app) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")
        document = page.evaluate("document.documentElement.outerHTML")
        text = page.evaluate("document.body.innerText")
        shown = {v[1]: v[4] for v in _page_verbatims(page)}
        assert len(shown) == len(PII_CASES)
        for i, case in enumerate(PII_CASES):
            for kind in case["kinds"]:
                assert f"[{kind}]" in shown[f"case-{i:02d}"], (case["text"], shown[f"case-{i:02d}"])
            for secret in case["secrets"]:
                assert secret not in document and secret not in text, secret
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"


#: Negative comments of the last hour, newest last (minutes back, channel, text), for COMMENTED.
COMPLAINTS = (
    (5.0, "phone", "I still have no idea what the status of my refund is."),
    (4.0, "in_person", "Staff were rude and the line never moved."),
    (3.0, "phone", "Transferred four times, then the call dropped. Terrible."),
    (2.0, "website", "Website kept crashing when I tried to upload the form."),
    (1.5, "website", "The login page is confusing and the letter made no sense. " * 8),  # cut on the page
    (1.0, "phone", "Waited on hold for three hours and nobody called back."),
    (0.75, "phone", "Email me at jane.roe@example.com, I waited three hours on hold and nobody called back."),
)
#: Praise in the same hour (counts as a mention, never shown), and a complaint older than the hour.
PRAISE = (1.0, "phone", "The agent was kind and fixed my claim in ten minutes.")
TOO_OLD = (120.0, "phone", "Waited on hold for three hours and nobody called back.")
#: Negative comments of a service with no figures in the last 15 minutes and no alert: no card.
UNSCORED = ("HHS", "medicare")


def _view_comments(view: Callable[[str], list[tuple[Any, ...]]], services: set[tuple[str, str]]
                   ) -> tuple[dict[tuple[str, str], list[tuple[str, ...]]], dict[tuple[str, str], list[tuple[str, ...]]]]:
    """What the page must show per service, from the views themselves: comment_themes_1h_all_channels'
    drivers with negative mentions, most first (then most mentions, then the contract's order), three
    at most; cx.feedback's negative comments of the last hour, newest first, three at most, as the
    page writes them (redacted and cut)."""
    themes: dict[tuple[str, str], list[tuple[Any, ...]]] = {s: [] for s in services}
    for agency, service, driver, mentions, negative, _positive in view(
            "SELECT agency, service, driver, mentions, negative_mentions, positive_mentions "
            "FROM {db}.comment_themes_1h_all_channels"):
        if (agency, service) in themes and negative > 0:
            themes[(agency, service)].append((driver, negative, mentions))
    expected_themes = {s: [(d, str(n), str(m), f"{THEME_LABELS[d]} {n} of {m}")
                           for d, n, m in sorted(rows, key=lambda r: (-r[1], -r[2], DRIVERS.index(r[0])))[:THEMES_SHOWN]]
                       for s, rows in themes.items()}
    comments: dict[tuple[str, str], list[tuple[Any, ...]]] = {s: [] for s in services}
    for agency, service, channel, at_ms, comment, feedback_id in view(
            "SELECT agency, service, channel, submitted_at_ms, comment, feedback_id FROM {db}.feedback "
            "WHERE comment_label = 'negative' AND submitted_at >= toStartOfMinute(now()) - INTERVAL 59 MINUTE"):
        if (agency, service) in comments:
            comments[(agency, service)].append((at_ms, channel, comment, feedback_id))
    expected_comments = {s: [(str(at), channel, verbatim_text(comment)[0], f"{_utc(at)} UTC \u00b7 {channel}")
                             for at, channel, comment, _id in sorted(rows, key=lambda r: (-r[0], r[3]))[:VERBATIMS_SHOWN]]
                         for s, rows in comments.items()}
    return expected_themes, expected_comments


def _per_service(rows: list[tuple[str, ...]], services: set[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[str, ...]]]:
    """The page's themes or comments per service, in its order, without the two names."""
    found: dict[tuple[str, str], list[tuple[str, ...]]] = {s: [] for s in services}
    for row in rows:
        found.setdefault((row[0], row[1]), []).append(row[2:])
    return found


def test_the_page_shows_the_comments_themes_and_latest_complaints_as_clickhouses_views_have_them(
    stack: StackStatus, settings: Settings
) -> None:
    """The dashboard's own queries on ClickHouse 18.16, no worker: comments written with the sink's
    ``feedback_row`` (which reads each one's sentiment and drivers) into a fresh database, some twice
    (a replay); the page's themes, comments and alert line equal what comment_themes_1h_all_channels
    and cx.feedback hold, a comment stored unredacted is shown redacted, and a service with no figures
    gets no card."""
    database = unique_database("cx_test_dashboard_comments")
    client = local_client(settings)
    try:
        migrate(client, database, bi_min_responses=10)
        [(minute,)] = client.execute("SELECT toUnixTimestamp(toStartOfMinute(now()))")
        now_ms = int(minute) * 1000 + 30_000  # from the server's minute: none in the future, all but TOO_OLD in the hour
        feedback: list[EnrichedFeedback] = []

        def comment(service: tuple[str, str], minutes_back: float, channel: str, text: str) -> None:
            feedback.append(EnrichedFeedback(f"fb-{len(feedback)}", None, now_ms - int(minutes_back * 60_000), *service,
                                             channel, False, {"satisfaction": 2}, text))

        for back, channel, text in (*COMPLAINTS, PRAISE, TOO_OLD):
            comment(COMMENTED, back, channel, text)
        comment(MARKUP, 2.5, "phone", MARKUP_COMMENT)
        comment(UNSCORED, 1.0, "phone", COMPLAINTS[2][2])
        assert all(analyze(text) is not None and analyze(text).label == "negative"  # type: ignore[union-attr]
                   for _back, _channel, text in (*COMPLAINTS, (0, "", MARKUP_COMMENT))), "the complaints read negative"
        rows = [tables.feedback_row(fb, version=1) for fb in feedback]
        tables.insert(client, database, tables.FEEDBACK, rows)
        tables.insert(client, database, tables.FEEDBACK, rows[:4])  # a replayed batch: counted once
        a = AnswerCounts(3, 2, 1, 1, 1)
        tables.insert(client, database, tables.SCORES, [
            tables.score_row(DomainScore((int(minute) - 60 * back) * 1000, 60, *service, "phone", "satisfaction",
                                         a.responses, *a.as_tuple(), a.mean, a.pct_positive, 1))
            for back in (1, 2) for service in (COMMENTED, MARKUP)])
        alert = Alert(*COMMENTED, "satisfaction", "firing", 25.0, 16, 60.0, 20, now_ms, now_ms + 1)
        tables.insert(client, database, tables.ALERTS, [tables.alert_row(alert, 1)])

        def view(sql: str) -> list[tuple[Any, ...]]:
            return list(client.execute(sql.replace("{db}", database)))

        app = build_app(dataclasses.replace(settings, clickhouse_database=database), push_seconds=0.5)
        with serve_app(app) as url, chromium_page() as page:
            page.goto(url)
            page.wait_for(f"{PAGE_SEQ} > 0", timeout=30, what="the first snapshot")
            assert page.evaluate("document.getElementById('status').className") == "", page.evaluate(
                "document.getElementById('status').textContent")
            carded = {COMMENTED, MARKUP}
            assert {(d["agency"], d["service"]) for d in page.datasets("section.svc")} == carded

            themes, comments = _view_comments(view, carded)
            assert _per_service(_page_themes(page), carded) == themes
            assert _per_service(_page_verbatims(page), carded) == comments

            # What the comparison rests on: the views hold more than the page shows, and the page
            # shows it right.
            assert len(themes[COMMENTED]) == THEMES_SHOWN and themes[COMMENTED][0][0] == "efficiency"
            [(replayed,)] = view("SELECT count() FROM {db}.feedback WHERE feedback_id = 'fb-0'")
            assert replayed == 1
            negative = view("SELECT count() FROM {db}.feedback WHERE comment_label = 'negative' "
                            f"AND agency = '{COMMENTED[0]}'")
            assert negative[0][0] == len(COMPLAINTS) + 1, "the old complaint is stored, and not shown"
            shown = comments[COMMENTED]
            assert [c[2] for c in shown][0] == "Email me at [EMAIL], I waited three hours on hold and nobody called back."
            assert shown[2][2].endswith("\u2026") and shown[2][2].startswith("The login page is confusing")
            [(stored,)] = view("SELECT count() FROM {db}.feedback WHERE comment LIKE '%jane.roe@example.com%'")
            assert stored == 1, "the store holds it unredacted (written past the entry points)"
            assert "jane.roe" not in page.evaluate("document.documentElement.outerHTML")
            assert [c[2] for c in comments[MARKUP]] == [MARKUP_COMMENT]
            assert page.evaluate("document.querySelectorAll('main b, main i, main img, main script').length") == 0

            # The open alert lists its service's themes.
            assert _page_alerts(page) == [(*COMMENTED, "satisfaction")]
            assert [t[2:4] for t in _page_themes(page, "alert-theme")] == [t[:2] for t in themes[COMMENTED]]
            listed = page.evaluate("document.getElementById('alert-list').textContent")
            assert "\u2014 themes: " + ", ".join(f"{d} {n}" for d, n, *_ in themes[COMMENTED]) in listed, listed
            assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"
            page.screenshot(Path("/tmp/cxstream-dashboard-comments-clickhouse.png"))
    finally:
        try:
            client.execute(f"DROP DATABASE IF EXISTS {database}")
        finally:
            client.disconnect()
