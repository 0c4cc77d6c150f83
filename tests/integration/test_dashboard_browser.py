"""The live page in a real browser (headless Chromium over DevTools) against a real worker, Kafka and
ClickHouse, fed by `cxstream generate`'s traffic: numbers appear and are ClickHouse's, they change
when more traffic arrives (so a page that stops updating fails), and an induced incident's alert
shows. Leaves a screenshot; ``DASHBOARD_SCREENSHOT=docs/img/dashboard.png`` refreshes the README's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cxstream.contract_kinds import input_kinds
from cxstream.config import Settings
from cxstream.generate import CATALOG, Incident, TrafficGenerator
from cxstream.kafka_clients import reliable_producer
from cxstream.schemas.codec import Codec
from cxstream.stack import StackStatus
from tests.support.chromium import chromium_page
from tests.support.worker import WorkerRun, running_worker, wait_for

pytestmark = pytest.mark.integration

INCIDENT_SERVICE = ("VA", "disability-claims")
#: Every channel of the service: its all-channels score falls far below the threshold.
INCIDENTS = tuple(Incident(*INCIDENT_SERVICE, channel) for channel in CATALOG["VA"]["disability-claims"])

# JavaScript read from the page.
PAGE_TOTAL = "[...document.querySelectorAll('[data-cell$=\"|all\"][data-n]')].reduce((t, e) => t + Number(e.dataset.n), 0)"
PAGE_ALERTS = "[...document.querySelectorAll('[data-alert]')].map(e => e.dataset.alert).sort()"
PAGE_SEQ = "Number(document.getElementById('status').dataset.seq)"


def _publish(run: WorkerRun, seed: int, minutes: float, incidents: tuple[Incident, ...] = ()) -> int:
    """Generated traffic of the last ``minutes`` (feedback for half the touchpoints), all at once."""
    now = int(time.time() * 1000)
    generator = TrafficGenerator(seed, rate=6.0, start_ms=now - int(minutes * 60_000), feedback_share=0.5,
                                 incidents=incidents)
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


def _db_alerts(run: WorkerRun) -> list[str]:
    return sorted(f"{a}|{s}|{d}" for a, s, d in run.query("SELECT agency, service, domain FROM {db}.open_alerts"))


def _settled_total(run: WorkerRun) -> int:
    """The 15-minute responses once the worker has consumed everything and the sink stopped moving."""
    wait_for(run.drained, timeout=90, what="the worker to consume the traffic")
    previous = -1
    while (total := _db_total(run)) != previous:
        previous = total
        time.sleep(2.0)  # the sink writes at least every 500 ms: two quiet reads in a row = settled
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _dashboard(run: WorkerRun, tmp_path: Path) -> Iterator[str]:
    """`cxstream dashboard` on the run's database, pushing every second."""
    port = _free_port()
    log = open(tmp_path / "dashboard.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "cxstream.cli", "dashboard", "--port", str(port),
                                "--push-seconds", "1"], env=run.env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(answers, timeout=30, what="the dashboard to answer")
        yield url
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
            _dashboard(run, tmp_path) as url, chromium_page() as page:
        _publish(run, seed=7, minutes=8, incidents=INCIDENTS)
        page.goto(url)

        first = _settled_total(run)
        assert first > 0
        page.wait_for(f"{PAGE_TOTAL} === {first}", timeout=30, what=f"ClickHouse's {first} responses")
        cell = "|".join((*INCIDENT_SERVICE, "satisfaction", "all"))
        shown = page.evaluate(f"document.querySelector('[data-cell=\"{cell}\"]').textContent")
        assert float(shown) < 60.0, f"the incident's satisfaction score should be low, the page shows {shown}"

        wait_for(lambda: any(a.startswith("|".join(INCIDENT_SERVICE)) for a in _db_alerts(run)), timeout=60,
                 what="the incident's alert in open_alerts")
        # Alerts keep coming while the last scores merge: compare until both sides agree.
        wait_for(lambda: page.evaluate(PAGE_ALERTS) == _db_alerts(run), timeout=30,
                 what="the page to list exactly ClickHouse's open alerts")
        assert any(a.startswith("|".join(INCIDENT_SERVICE)) for a in page.evaluate(PAGE_ALERTS))

        # More traffic: the page must follow by itself (no reload), or this fails.
        seq_before = page.evaluate(PAGE_SEQ)
        _publish(run, seed=8, minutes=3)
        second = _settled_total(run)
        assert second > first
        page.wait_for(f"{PAGE_TOTAL} === {second}", timeout=30,
                      what=f"the new total of {second} responses (it showed {first}: the page stopped updating)")
        assert page.evaluate(PAGE_SEQ) > seq_before
        assert page.exceptions == [], f"the page's JavaScript threw: {page.exceptions}"

        page.screenshot(Path(os.environ.get("DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png"))
