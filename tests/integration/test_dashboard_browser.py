"""The live page in a real browser (headless Chromium over DevTools) against a real worker, Kafka and
ClickHouse, fed by `cxstream generate`'s traffic: numbers appear and are ClickHouse's, they change
when more traffic arrives (so a page that stops updating fails), and an induced incident's alert
shows. Leaves a screenshot; ``DASHBOARD_SCREENSHOT=docs/img/dashboard.png`` refreshes the README's.

The page's own JavaScript is also run on fixed snapshots served in process (no Kafka, no ClickHouse,
only Chromium, which ``ensure_chromium`` installs, hence the integration mark): names that hold the
characters an old key joined them with must never share figures.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cxstream.ingest.kinds import input_kinds
from cxstream.config import Settings
from cxstream.dashboard.server import build_app
from cxstream.dashboard.queries import Snapshot, build_snapshot
from cxstream.ingest.generate import CATALOG, Incident, TrafficGenerator, daily_rhythm
from cxstream.kafka_clients import reliable_producer
from cxstream.schemas.codec import Codec
from cxstream.stack import StackStatus
from tests.support.chromium import Page, chromium_page, serve_app
from tests.support.worker import WorkerRun, running_worker, wait_for

pytestmark = pytest.mark.integration

INCIDENT_SERVICE = ("VA", "disability-claims")
#: Every channel of the service: its all-channels score falls far below the threshold.
INCIDENTS = tuple(Incident(*INCIDENT_SERVICE, channel) for channel in CATALOG["VA"]["disability-claims"])

# JavaScript read from the page.
PAGE_TOTAL = ("[...document.querySelectorAll('[data-cell][data-channel=\"all\"][data-n]')]"
              ".reduce((t, e) => t + Number(e.dataset.n), 0)")
PAGE_SEQ = "Number(document.getElementById('status').dataset.seq)"


def _publish(run: WorkerRun, seed: int, minutes: float, rate: float, feedback_share: float,
             incidents: tuple[Incident, ...] = ()) -> int:
    """Generated traffic of the last ``minutes``, all at once: about ``rate`` touchpoints a second at
    any hour (the generator's daily rhythm is divided out, so a night run has as many events)."""
    now = int(time.time() * 1000)
    generator = TrafficGenerator(seed, rate=rate / daily_rhythm(now), start_ms=now - int(minutes * 60_000),
                                 feedback_share=feedback_share, incidents=incidents)
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
        # (about 90, over four times the alert's 20). A picture for the README gets fuller traffic.
        if os.environ.get("DASHBOARD_SCREENSHOT"):
            _publish(run, seed=7, minutes=8, rate=6.0, feedback_share=0.5, incidents=INCIDENTS)
        else:
            _publish(run, seed=7, minutes=8, rate=0.6, feedback_share=0.9, incidents=INCIDENTS)
        page.goto(dashboard())

        first = _settled_total(run)
        assert first > 0
        page.wait_for(f"{PAGE_TOTAL} === {first}", timeout=30, what=f"ClickHouse's {first} responses")
        cells = _cell(page, *INCIDENT_SERVICE, "satisfaction", "all")
        assert len(cells) == 1, f"exactly one cell must show the incident's satisfaction score, found {cells}"
        assert float(cells[0]) < 60.0, f"the incident's satisfaction score should be low, the page shows {cells[0]}"

        wait_for(lambda: any(a[:2] == INCIDENT_SERVICE for a in _db_alerts(run)), timeout=60,
                 what="the incident's alert in open_alerts")
        # Alerts keep coming while the last scores merge: compare until both sides agree.
        wait_for(lambda: _page_alerts(page) == _db_alerts(run), timeout=30,
                 what="the page to list exactly ClickHouse's open alerts")
        assert any(a[:2] == INCIDENT_SERVICE for a in _page_alerts(page))

        # More traffic: the page must follow by itself (no reload), or this fails.
        seq_before = page.evaluate(PAGE_SEQ)
        _publish(run, seed=8, minutes=2, rate=0.6, feedback_share=0.9)
        second = _settled_total(run)
        assert second > first
        page.wait_for(f"{PAGE_TOTAL} === {second}", timeout=30,
                      what=f"the new total of {second} responses (it showed {first}: the page stopped updating)")
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
