"""What the live page shows, read from the ClickHouse views BI uses; one snapshot per push.

Seven reads and the server's clock, each cheap (the rolling views sum at most 15 one-minute
windows; the trend and the comments an hour's):

- the rolling 15-minute domain scores (``domain_scores_15m`` and ``..._all_channels``);
- the current A-11 form's trust question per scale (``trust_scores_15m`` and ``..._all_channels``);
- its drivers, all channels together (``driver_scores_15m_all_channels``);
- the last hour's 5-minute trend, of each domain (``domain_scores``) and of each trust scale
  (``trust_scores``) in one query, the 1-minute windows summed, never averaged;
- ``open_alerts`` (domains, and trust per scale under ``v2_trust_<scale>``);
- what comments say (comment insights, migration 0006): the last hour's themes of each service,
  all channels together (``comment_themes_1h_all_channels``, the drivers negative comments name);
- the latest few negative comments of each service in the last hour, newest first, ``LIMIT n BY``
  agency and service. Read from ``feedback_store FINAL`` with the time condition inside, exactly
  what ``cx.feedback`` is: ClickHouse 18.16 does not push a WHERE into a view over ``FINAL``, so
  the view would read every stored feedback on every push (measured on 30 days of 200,000
  feedback: the view read all 200,000 rows, this query 17,559 in 18 ms).

The snapshot is plain JSON-ready data grouped per (agency, service), the unit an operator watches.
A service's ``forms`` say which survey forms it has figures of: ``v1`` (the 2019-2023 domains) and
``v2`` (the current form), so a page shows only what a service has. Themes and comments are shown
beside a service's figures or open alerts, never on their own.

Comments are redacted at every entry point and in the worker; the snapshot redacts every comment
it carries once more (``cxstream.redaction.redact``, idempotent on redacted text) before cutting
it to ``VERBATIM_CHARS``, so the page never shows personal data a store might still hold, not even
a piece of it cut in two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from cxstream.config import Settings
from cxstream.redaction import redact
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

#: Themes shown per service (and on its alert line): the drivers most negative comments name.
THEMES_SHOWN = 3
#: Negative comments shown per service, newest first.
VERBATIMS_SHOWN = 3
#: A shown comment is cut to at most this many characters, the ellipsis included.
VERBATIM_CHARS = 240
ELLIPSIS = "\u2026"
#: What the page calls a driver when comments talk about it: the A-11 checklist's name and what it
#: is about in a customer's words (a comment names a driver by its topic, docs/INSIGHTS.md).
THEME_LABELS: dict[str, str] = {
    "effectiveness": "effectiveness (need met)",
    "ease": "ease (simple to do)",
    "efficiency": "efficiency (time, waits)",
    "transparency": "transparency (clear information)",
    "humanity": "humanity (respect)",
    "employee": "employees (helpfulness)",
    "other": "other",
}


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
class Theme:
    """One driver the last hour's comments of a service talk about, all channels together: how many
    comments mention it, and how many of those read negative and positive."""

    driver: str
    label: str
    mentions: int
    negative_mentions: int
    positive_mentions: int


@dataclass
class Verbatim:
    """One negative comment in the customer's words: redacted again, cut to ``VERBATIM_CHARS``
    (``truncated`` says so), its UTC time in epoch milliseconds, channel and drivers."""

    submitted_at_ms: int
    channel: str
    text: str
    truncated: bool
    drivers: list[str] = field(default_factory=list)


@dataclass
class ServiceBlock:
    """Everything the page shows about one (agency, service).

    ``domains`` always holds the seven domains (empty rows where there are no figures); ``trust``
    holds only the scales with figures or an open alert, ``drivers`` only the drivers offered, both
    in the contract's order: a driver missing was not offered, which is not a zero. ``themes`` are
    the last hour's top negative themes (most negative mentions first, only those with any), and
    ``verbatims`` its latest negative comments, newest first.
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
    themes: list[Theme] = field(default_factory=list)
    verbatims: list[Verbatim] = field(default_factory=list)


@dataclass
class OpenAlert:
    """A firing alert from ``open_alerts``; times are UTC epoch milliseconds. ``domain`` is the
    view's (a domain, or ``v2_trust_<scale>``); ``scale`` is the trust scale of a current-form
    alert (None for a domain) and ``label`` what the page calls it. ``themes`` are its service's
    top negative themes of the last hour: what customers complain about while it fires."""

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
    themes: list[Theme] = field(default_factory=list)


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


def theme_label(driver: str) -> str:
    """What the page calls a driver comments talk about (the name itself for one it does not know)."""
    return THEME_LABELS.get(driver, driver)


def verbatim_text(comment: str, limit: int = VERBATIM_CHARS) -> tuple[str, bool]:
    """A comment as the page shows it, and whether it was cut: whitespace runs made one space, then
    redacted (whatever the store holds), then cut at a word to at most ``limit`` characters with an
    ellipsis. Redacting before cutting matters: a cut through an e-mail address or a phone number
    would leave a piece the redaction no longer recognises."""
    text = redact(" ".join(comment.split()))
    if len(text) <= limit:
        return text, False
    cut = text[:limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:  # end on a whole word unless that drops a third of the room
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS, True


class DashboardClient(Protocol):
    """What the snapshot needs of a ClickHouse client (clickhouse_driver's ``Client``)."""

    def execute(self, query: str, params: Any = None, *, settings: Any = None) -> Any: ...

    def disconnect(self) -> None: ...


def dashboard_client(settings: Settings) -> DashboardClient:
    """The page's client: short timeouts, so a ClickHouse that does not answer shows on the page."""
    return clickhouse_client(settings, "cxstream-dashboard", connect_timeout=3, send_receive_timeout=20)


_SCORE_COLUMNS = "agency, service, channel, domain, responses, pct_positive, pct_positive_low, pct_positive_high, suppressed"
_TRUST_COLUMNS = ("agency, service, channel, trust_scale, responses, pct_favourable, pct_favourable_low, "
                  "pct_favourable_high, suppressed")


#: The last hour as comment_themes_1h has it: the current minute and the 59 before.
_LAST_HOUR = ("submitted_at >= toStartOfMinute(now()) - INTERVAL 59 MINUTE "
              "AND submitted_at < toStartOfMinute(now()) + INTERVAL 1 MINUTE")


def read_snapshot(settings: Settings, connect: Callable[[Settings], DashboardClient] = dashboard_client) -> Snapshot:
    """Read the views once; ClickHouse errors propagate (the feed reports them). ``connect`` is
    ClickHouse's unless a test hands in a client that answers with rows of its own."""
    started = time.monotonic()
    db = check_database_name(settings.clickhouse_database)
    client = connect(settings)
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
        themes = client.execute(
            f"SELECT agency, service, driver, mentions, negative_mentions, positive_mentions "
            f"FROM {db}.comment_themes_1h_all_channels WHERE negative_mentions > 0")
        verbatims = client.execute(
            f"SELECT agency, service, channel, submitted_at_ms, comment, comment_drivers "
            f"FROM {db}.feedback_store FINAL WHERE comment_label = 'negative' AND {_LAST_HOUR} "
            f"ORDER BY submitted_at_ms DESC, feedback_id LIMIT {VERBATIMS_SHOWN} BY agency, service")
    finally:
        client.disconnect()
    return build_snapshot(scores, trend, alerts, first_bucket * 1000, float(settings.alert_threshold_pct),
                          read_ms=(time.monotonic() - started) * 1000, trust=trust, drivers=drivers,
                          themes=themes, verbatims=verbatims)


def _measure_order(measure: str) -> int:
    """Domains in the contract's order, then trust per scale, then anything else."""
    if measure in DOMAINS:
        return DOMAINS.index(measure)
    scale = trust_scale_of(measure)
    return len(DOMAINS) + TRUST_SCALES.index(scale) if scale is not None else 99


def _driver_order(driver: str) -> int:
    return DRIVERS.index(driver) if driver in DRIVERS else len(DRIVERS)


def build_snapshot(scores: Sequence[tuple[Any, ...]], trend: Sequence[tuple[Any, ...]],
                   alerts: Sequence[tuple[Any, ...]], first_bucket_ms: int, threshold: float,
                   read_ms: float = 0.0, *, trust: Sequence[tuple[Any, ...]] = (),
                   drivers: Sequence[tuple[Any, ...]] = (), themes: Sequence[tuple[Any, ...]] = (),
                   verbatims: Sequence[tuple[Any, ...]] = ()) -> Snapshot:
    """Group the views' rows per service (pure: the unit tests feed it rows).

    ``trend`` rows name a domain or ``v2_trust_<scale>``; ``trust`` rows are the trust views' (one
    scale each, never mixed), ``drivers`` the all-channels driver view's with ``suppressed`` last.
    ``themes`` rows are (agency, service, driver, mentions, negative_mentions, positive_mentions);
    ``verbatims`` (agency, service, channel, submitted_at_ms, comment, drivers), any number and
    order, redacted or not: the snapshot keeps each service's top ``THEMES_SHOWN`` negative themes
    and newest ``VERBATIMS_SHOWN`` comments, redacted and cut, for services with figures or alerts.
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
    for agency, service, driver, mentions, negative, positive in themes:
        found = blocks.get((agency, service))
        if found is not None and negative:
            found.themes.append(Theme(driver, theme_label(driver), int(mentions), int(negative), int(positive)))
    for agency, service, channel, at_ms, comment, comment_drivers in verbatims:
        found = blocks.get((agency, service))
        if found is not None and comment:
            text, cut = verbatim_text(str(comment))
            found.verbatims.append(Verbatim(int(at_ms), channel, text, cut, list(comment_drivers or [])))
    for b in blocks.values():
        b.themes.sort(key=lambda t: (-t.negative_mentions, -t.mentions, _driver_order(t.driver)))
        del b.themes[THEMES_SHOWN:]
        b.verbatims.sort(key=lambda v: -v.submitted_at_ms)  # stable: the query's order breaks ties
        del b.verbatims[VERBATIMS_SHOWN:]
    for alert in open_alerts:
        alert.themes = list(blocks[(alert.agency, alert.service)].themes)
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
