"""What the live page shows, read from the ClickHouse views BI uses; one snapshot per push.

Five reads, each cheap (the rolling views sum at most 15 one-minute windows; the trend an hour's):

- the rolling 15-minute domain scores (``domain_scores_15m`` and ``..._all_channels``);
- the current A-11 form's trust question per scale (``trust_scores_15m`` and ``..._all_channels``);
- its drivers, all channels together (``driver_scores_15m_all_channels``);
- the last hour's 5-minute trend, of each domain (``domain_scores``) and of each trust scale
  (``trust_scores``) in one query, the 1-minute windows summed, never averaged;
- ``open_alerts`` (domains, and trust per scale under ``v2_trust_<scale>``).

The snapshot is plain JSON-ready data grouped per (agency, service), the unit an operator watches.
A service's ``forms`` say which survey forms it has figures of: ``v1`` (the 2019-2023 domains) and
``v2`` (the current form), so a page shows only what a service has.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cxstream.config import Settings
from cxstream.sinks.connection import clickhouse_client
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DOMAINS, DRIVERS, TRUST_SCALES

TREND_BUCKET_SECONDS = 300
TREND_BUCKETS = 12  # the last hour, the current 5 minutes included

#: open_alerts' (and the trend's) name of the current form's trust on one scale: this prefix and the
#: scale, as the alert stage raises them (``cxstream.streams.alert_stage.V2_TRUST_ALERT``).
V2_TRUST_ALERT = "v2_trust_"
#: How the page names a trust scale.
SCALE_LABELS: dict[str, str] = {"thumbs": "thumbs", "five_point": "five-point"}
#: The two survey forms, as ``cxstream report a11 --form`` names them.
V1, V2 = "v1", "v2"


@dataclass
class Score:
    """A rolling 15-minute score: responses, pct_positive (a domain) or pct_favourable (trust on one
    scale) and its 95% Wilson interval."""

    responses: int
    pct: float
    low: float
    high: float
    suppressed: bool


@dataclass
class DomainRow:
    """One measure of a service (a domain, or the trust question on one scale): all channels
    together, each channel, and the last hour's trend."""

    all: Score | None = None
    channels: dict[str, Score] = field(default_factory=dict)
    trend: list[float | None] = field(default_factory=lambda: [None] * TREND_BUCKETS)
    trend_responses: list[int] = field(default_factory=lambda: [0] * TREND_BUCKETS)


@dataclass
class DriverRow:
    """One driver of the current form over the rolling 15 minutes, all channels together.
    Percentages are over ``offered``; ``suppressed`` when fewer were offered it than a score needs."""

    offered: int
    went_well: int
    did_not_go_well: int
    pct_went_well: float
    pct_did_not_go_well: float
    suppressed: bool


@dataclass
class ServiceBlock:
    """Everything the page shows about one (agency, service).

    ``domains`` always holds the seven domains (empty rows where there are no figures); ``trust``
    holds only the scales with figures or an open alert, ``drivers`` only the drivers offered, both
    in the contract's order: a driver missing was not offered, which is not a zero.
    """

    agency: str
    service: str
    channels: list[str]
    domains: dict[str, DomainRow]
    alerts: int = 0
    forms: list[str] = field(default_factory=list)
    trust: dict[str, DomainRow] = field(default_factory=dict)
    trust_channels: list[str] = field(default_factory=list)
    drivers: dict[str, DriverRow] = field(default_factory=dict)


@dataclass
class OpenAlert:
    """A firing alert from ``open_alerts``; times are UTC epoch milliseconds. ``domain`` is the
    view's (a domain, or ``v2_trust_<scale>``); ``scale`` is the trust scale of a current-form
    alert (None for a domain) and ``label`` what the page calls it."""

    agency: str
    service: str
    domain: str
    pct: float
    responses: int
    threshold: float
    since_ms: int
    window_end_ms: int
    label: str = ""
    scale: str | None = None


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


def trust_scale_of(measure: str) -> str | None:
    """The trust scale an alert or trend name stands for (``v2_trust_thumbs`` -> ``thumbs``), or None."""
    scale = measure.removeprefix(V2_TRUST_ALERT)
    return scale if measure.startswith(V2_TRUST_ALERT) and scale in TRUST_SCALES else None


def alert_label(measure: str) -> str:
    """What the page calls an alert's measure: the domain, or ``trust (thumbs)``, ``trust (five-point)``."""
    scale = trust_scale_of(measure)
    return measure if scale is None else f"trust ({SCALE_LABELS[scale]})"


_SCORE_COLUMNS = "agency, service, channel, domain, responses, pct_positive, pct_positive_low, pct_positive_high, suppressed"
_TRUST_COLUMNS = ("agency, service, channel, trust_scale, responses, pct_favourable, pct_favourable_low, "
                  "pct_favourable_high, suppressed")


def read_snapshot(settings: Settings) -> Snapshot:
    """Read the views once; ClickHouse errors propagate (the feed reports them)."""
    started = time.monotonic()
    db = check_database_name(settings.clickhouse_database)
    client = clickhouse_client(settings, "cxstream-dashboard", connect_timeout=3, send_receive_timeout=20)
    try:
        scores = client.execute(f"SELECT {_SCORE_COLUMNS} FROM {db}.domain_scores_15m_all_channels "
                                f"UNION ALL SELECT {_SCORE_COLUMNS} FROM {db}.domain_scores_15m")
        trust = client.execute(f"SELECT {_TRUST_COLUMNS} FROM {db}.trust_scores_15m_all_channels "
                               f"UNION ALL SELECT {_TRUST_COLUMNS} FROM {db}.trust_scores_15m")
        # The driver views carry no `suppressed`: the same rule as the score views (view_settings).
        drivers = client.execute(
            f"SELECT agency, service, driver, offered, went_well, did_not_go_well, pct_went_well, "
            f"pct_did_not_go_well, offered < (SELECT argMax(value, version) FROM {db}.view_settings "
            f"WHERE name = 'min_responses') FROM {db}.driver_scores_15m_all_channels")
        [(now_s,)] = client.execute("SELECT toUnixTimestamp(now())")
        first_bucket = (int(now_s) // TREND_BUCKET_SECONDS - (TREND_BUCKETS - 1)) * TREND_BUCKET_SECONDS
        bucket = "intDiv(toUnixTimestamp(window_start) - %(first)s, %(bucket)s)"
        recent = "window_seconds = 60 AND window_start >= toDateTime(%(first)s)"
        trend = client.execute(
            f"SELECT agency, service, domain, {bucket} AS i, sum(count_4 + count_5), sum(responses) "
            f"FROM {db}.domain_scores WHERE {recent} GROUP BY agency, service, domain, i "
            f"UNION ALL SELECT agency, service, concat('{V2_TRUST_ALERT}', trust_scale), {bucket} AS i, "
            f"sum(favourable), sum(responses) FROM {db}.trust_scores WHERE {recent} "
            f"GROUP BY agency, service, trust_scale, i",
            {"first": first_bucket, "bucket": TREND_BUCKET_SECONDS},
            settings={"enable_optimize_predicate_expression": 1})
        alerts = client.execute(
            f"SELECT agency, service, domain, pct_positive, responses, threshold, firing_since_ms, "
            f"toUnixTimestamp(window_end) * 1000 FROM {db}.open_alerts")
    finally:
        client.disconnect()
    return build_snapshot(scores, trend, alerts, first_bucket * 1000, float(settings.alert_threshold_pct),
                          read_ms=(time.monotonic() - started) * 1000, trust=trust, drivers=drivers)


def _measure_order(measure: str) -> int:
    """Domains in the contract's order, then trust per scale, then anything else."""
    if measure in DOMAINS:
        return DOMAINS.index(measure)
    scale = trust_scale_of(measure)
    return len(DOMAINS) + TRUST_SCALES.index(scale) if scale is not None else 99


def build_snapshot(scores: Sequence[tuple[Any, ...]], trend: Sequence[tuple[Any, ...]],
                   alerts: Sequence[tuple[Any, ...]], first_bucket_ms: int, threshold: float,
                   read_ms: float = 0.0, *, trust: Sequence[tuple[Any, ...]] = (),
                   drivers: Sequence[tuple[Any, ...]] = ()) -> Snapshot:
    """Group the views' rows per service (pure: the unit tests feed it rows).

    ``trend`` rows name a domain or ``v2_trust_<scale>``; ``trust`` rows are the trust views' (one
    scale each, never mixed), ``drivers`` the all-channels driver view's with ``suppressed`` last.
    """
    blocks: dict[tuple[str, str], ServiceBlock] = {}

    def block(agency: str, service: str, form: str) -> ServiceBlock:
        key = (agency, service)
        if key not in blocks:
            blocks[key] = ServiceBlock(agency, service, [], {d: DomainRow() for d in DOMAINS})
        found = blocks[key]
        if form not in found.forms:
            found.forms.append(form)
        return found

    for agency, service, channel, domain, responses, pct, low, high, suppressed in scores:
        if domain not in DOMAINS or not responses:
            continue
        b = block(agency, service, V1)
        score = Score(int(responses), float(pct), float(low), float(high), bool(suppressed))
        if channel == "all":
            b.domains[domain].all = score
        else:
            b.domains[domain].channels[channel] = score
            if channel not in b.channels:
                b.channels.append(channel)
    for agency, service, channel, scale, responses, pct, low, high, suppressed in trust:
        if scale not in TRUST_SCALES or not responses:
            continue
        b = block(agency, service, V2)
        row = b.trust.setdefault(scale, DomainRow())
        score = Score(int(responses), float(pct), float(low), float(high), bool(suppressed))
        if channel == "all":
            row.all = score
        else:
            row.channels[channel] = score
            if channel not in b.trust_channels:
                b.trust_channels.append(channel)
    for agency, service, driver, offered, went_well, did_not, pct_well, pct_not, suppressed in drivers:
        if driver not in DRIVERS or not offered:
            continue  # not offered: no row, never a 0%
        block(agency, service, V2).drivers[driver] = DriverRow(
            int(offered), int(went_well), int(did_not), float(pct_well), float(pct_not), bool(suppressed))
    for agency, service, measure, i, positives, responses in trend:
        scale = trust_scale_of(measure)
        if (measure not in DOMAINS and scale is None) or not 0 <= i < TREND_BUCKETS or not responses:
            continue
        if scale is None:
            row = block(agency, service, V1).domains[measure]
        else:
            row = block(agency, service, V2).trust.setdefault(scale, DomainRow())
        row.trend[i] = round(100.0 * positives / responses, 1)
        row.trend_responses[i] = int(responses)
    open_alerts = []
    for a, s, d, p, n, t, since, end in alerts:
        scale = trust_scale_of(d)
        open_alerts.append(OpenAlert(a, s, d, float(p), int(n), float(t), int(since), int(end),
                                     label=alert_label(d), scale=scale))
        b = block(a, s, V1 if scale is None else V2)
        b.alerts += 1
        if scale is not None:
            b.trust.setdefault(scale, DomainRow())
    for b in blocks.values():
        b.channels.sort()
        b.trust_channels.sort()
        b.forms.sort()
        b.trust = {s: b.trust[s] for s in TRUST_SCALES if s in b.trust}
        b.drivers = {d: b.drivers[d] for d in DRIVERS if d in b.drivers}
    ordered = sorted(blocks.values(), key=lambda b: (b.alerts == 0, b.agency, b.service))
    open_alerts.sort(key=lambda a: (a.agency, a.service, _measure_order(a.domain)))
    return Snapshot(
        read_at_ms=int(time.time() * 1000), read_ms=round(read_ms, 1), threshold=threshold,
        trend_starts_ms=[first_bucket_ms + i * TREND_BUCKET_SECONDS * 1000 for i in range(TREND_BUCKETS)],
        services=ordered, alerts=open_alerts,
    )
