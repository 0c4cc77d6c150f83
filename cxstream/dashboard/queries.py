"""What the live page shows, read from the ClickHouse views BI uses; one snapshot per push.

Three reads: the rolling 15-minute scores (``domain_scores_15m`` and ``..._all_channels``), the
last hour's 5-minute trend (``domain_scores``, the 1-minute windows summed, never averaged) and
``open_alerts``. The snapshot is plain JSON-ready data grouped per (agency, service), the unit an
operator watches.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cxstream.config import Settings
from cxstream.sinks.connection import clickhouse_client
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DOMAINS

TREND_BUCKET_SECONDS = 300
TREND_BUCKETS = 12  # the last hour, the current 5 minutes included


@dataclass
class Score:
    """A rolling 15-minute score: responses, pct_positive and its 95% Wilson interval."""

    responses: int
    pct: float
    low: float
    high: float
    suppressed: bool


@dataclass
class DomainRow:
    """One domain of a service: all channels together, each channel, and the last hour's trend."""

    all: Score | None = None
    channels: dict[str, Score] = field(default_factory=dict)
    trend: list[float | None] = field(default_factory=lambda: [None] * TREND_BUCKETS)
    trend_responses: list[int] = field(default_factory=lambda: [0] * TREND_BUCKETS)


@dataclass
class ServiceBlock:
    """Everything the page shows about one (agency, service)."""

    agency: str
    service: str
    channels: list[str]
    domains: dict[str, DomainRow]
    alerts: int = 0


@dataclass
class OpenAlert:
    """A firing alert from ``open_alerts``; times are UTC epoch milliseconds."""

    agency: str
    service: str
    domain: str
    pct: float
    responses: int
    threshold: float
    since_ms: int
    window_end_ms: int


@dataclass
class Snapshot:
    """One push: the services (those with open alerts first), the alerts, and when it was read."""

    read_at_ms: int
    read_ms: float
    threshold: float
    trend_starts_ms: list[int]
    services: list[ServiceBlock]
    alerts: list[OpenAlert]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_SCORE_COLUMNS = "agency, service, channel, domain, responses, pct_positive, pct_positive_low, pct_positive_high, suppressed"


def read_snapshot(settings: Settings) -> Snapshot:
    """Read the three views once; ClickHouse errors propagate (the feed reports them)."""
    started = time.monotonic()
    db = check_database_name(settings.clickhouse_database)
    client = clickhouse_client(settings, "cxstream-dashboard", connect_timeout=3, send_receive_timeout=20)
    try:
        scores = client.execute(f"SELECT {_SCORE_COLUMNS} FROM {db}.domain_scores_15m_all_channels "
                                f"UNION ALL SELECT {_SCORE_COLUMNS} FROM {db}.domain_scores_15m")
        [(now_s,)] = client.execute("SELECT toUnixTimestamp(now())")
        first_bucket = (int(now_s) // TREND_BUCKET_SECONDS - (TREND_BUCKETS - 1)) * TREND_BUCKET_SECONDS
        trend = client.execute(
            f"SELECT agency, service, domain, intDiv(toUnixTimestamp(window_start) - %(first)s, %(bucket)s) AS i, "
            f"sum(count_4 + count_5), sum(responses) FROM {db}.domain_scores "
            f"WHERE window_seconds = 60 AND window_start >= toDateTime(%(first)s) "
            f"GROUP BY agency, service, domain, i",
            {"first": first_bucket, "bucket": TREND_BUCKET_SECONDS},
            settings={"enable_optimize_predicate_expression": 1})
        alerts = client.execute(
            f"SELECT agency, service, domain, pct_positive, responses, threshold, firing_since_ms, "
            f"toUnixTimestamp(window_end) * 1000 FROM {db}.open_alerts")
    finally:
        client.disconnect()
    return build_snapshot(scores, trend, alerts, first_bucket * 1000, float(settings.alert_threshold_pct),
                          read_ms=(time.monotonic() - started) * 1000)


def build_snapshot(scores: list[tuple[Any, ...]], trend: list[tuple[Any, ...]], alerts: list[tuple[Any, ...]],
                   first_bucket_ms: int, threshold: float, read_ms: float = 0.0) -> Snapshot:
    """Group the views' rows per service (pure: the unit tests feed it rows)."""
    blocks: dict[tuple[str, str], ServiceBlock] = {}

    def block(agency: str, service: str) -> ServiceBlock:
        key = (agency, service)
        if key not in blocks:
            blocks[key] = ServiceBlock(agency, service, [], {d: DomainRow() for d in DOMAINS})
        return blocks[key]

    for agency, service, channel, domain, responses, pct, low, high, suppressed in scores:
        if domain not in DOMAINS or not responses:
            continue
        b = block(agency, service)
        score = Score(int(responses), float(pct), float(low), float(high), bool(suppressed))
        if channel == "all":
            b.domains[domain].all = score
        else:
            b.domains[domain].channels[channel] = score
            if channel not in b.channels:
                b.channels.append(channel)
    for agency, service, domain, i, positives, responses in trend:
        if domain not in DOMAINS or not 0 <= i < TREND_BUCKETS or not responses:
            continue
        row = block(agency, service).domains[domain]
        row.trend[i] = round(100.0 * positives / responses, 1)
        row.trend_responses[i] = int(responses)
    open_alerts = [OpenAlert(a, s, d, float(p), int(n), float(t), int(since), int(end))
                   for a, s, d, p, n, t, since, end in alerts]
    for alert in open_alerts:
        block(alert.agency, alert.service).alerts += 1
    for b in blocks.values():
        b.channels.sort()
    ordered = sorted(blocks.values(), key=lambda b: (b.alerts == 0, b.agency, b.service))
    open_alerts.sort(key=lambda a: (a.agency, a.service, DOMAINS.index(a.domain) if a.domain in DOMAINS else 99))
    return Snapshot(
        read_at_ms=int(time.time() * 1000), read_ms=round(read_ms, 1), threshold=threshold,
        trend_starts_ms=[first_bucket_ms + i * TREND_BUCKET_SECONDS * 1000 for i in range(TREND_BUCKETS)],
        services=ordered, alerts=open_alerts,
    )
