"""The alerts views on 18.16 and on current ClickHouse: each transition once, and which alerts are open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Alert
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, open_backend

T = 1_795_600_020_000  # a window end (ms)
MINUTE = 60_000


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_alerts") as opened:
        migrate(opened.client, opened.database)
        yield opened


def _alert(domain: str, state: str, window_end: int, raised_at: int, pct: float = 20.0) -> Alert:
    return Alert(agency="VA", service="disability-claims", domain=domain, state=state, pct_positive=pct,
                 responses=40, threshold=60.0, min_responses=30, window_end=window_end, raised_at=raised_at)


def _insert(backend: Backend, *rows: tuple[Alert, int]) -> None:
    """Each row in its own insert (its own part), as separate sink batches would write them."""
    for alert, version in rows:
        tables.insert(backend.client, backend.database, tables.ALERTS, [tables.alert_row(alert, version)])


def test_a_transition_published_twice_is_one_row_and_the_latest_state_decides_what_is_open(backend: Backend) -> None:
    backend.stop_merges(tables.ALERTS)
    _insert(
        backend,
        (_alert("trust", "firing", T, T + 1_000), 1),
        (_alert("trust", "firing", T, T + 30_000), 2),  # the worker published it again after a restart
        (_alert("ease", "firing", T, T + 1_000), 3),
        (_alert("ease", "resolved", T + MINUTE, T + MINUTE + 1_000, pct=70.0), 4),
        # resolved and fired again on the same span: the later one counts
        (_alert("quality", "resolved", T + MINUTE, T + MINUTE + 1_000, pct=61.0), 5),
        (_alert("quality", "firing", T + MINUTE, T + MINUTE + 2_000, pct=59.0), 6),
    )

    transitions = backend.rows("SELECT domain, state, raised_at_ms FROM {db}.alerts ORDER BY domain, raised_at_ms")
    assert transitions == [
        ("ease", "firing", T + 1_000), ("ease", "resolved", T + MINUTE + 1_000),
        ("quality", "resolved", T + MINUTE + 1_000), ("quality", "firing", T + MINUTE + 2_000),
        ("trust", "firing", T + 30_000),
    ]
    open_alerts = backend.rows(
        "SELECT agency, service, domain, firing_since_ms, toUnixTimestamp(window_end), pct_positive, responses, "
        "threshold, min_responses FROM {db}.open_alerts ORDER BY domain")
    assert open_alerts == [
        ("VA", "disability-claims", "quality", T + MINUTE + 2_000, (T + MINUTE) // 1000, 59.0, 40, 60.0, 30),
        ("VA", "disability-claims", "trust", T + 30_000, T // 1000, 20.0, 40, 60.0, 30),
    ]


def test_no_alerts_means_no_open_alerts(backend: Backend) -> None:
    assert backend.rows("SELECT count() FROM {db}.open_alerts") == [(0,)]
    assert backend.rows("SELECT count() FROM {db}.alerts") == [(0,)]
