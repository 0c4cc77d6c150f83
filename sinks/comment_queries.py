"""What comments say over a time range, per agency and service: ``cxstream comments``.

Three reads of the public views (docs/CONTRACT.md), over [since, until) in whole UTC minutes:

- how many comments each (agency, service) got, and how many of them read negative and positive
  (``feedback``: ``comment_label``);
- its themes: per driver, the comments that mention it and how many of those read negative and
  positive (``comment_themes``, its 1-minute windows summed);
- its latest negative comments, newest first (``feedback``, ``LIMIT n BY`` agency and service).

Only comments the sink has read (``comment_label`` set, migration 0006) are counted; a comment
stored before then has no label and no theme. The grouping and ordering are pure functions of the
rows (:func:`group`), so they are tested without a server.

Cost: ClickHouse 18.16 does not push a WHERE into a view over ``FINAL``, so each read scans every
stored feedback (9,862 rows read for 1,670 in the range, measured on 18.16): fine for a command
run now and then; the live page, which reads every 3 s, reads ``feedback_store FINAL`` with the
time condition inside instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cxstream.sinks.connection import SqlClient
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DRIVERS

#: Views read, for error messages.
VIEWS: Final[tuple[str, ...]] = ("feedback", "comment_themes")


@dataclass(frozen=True)
class Theme:
    """One driver the comments of a service talk about over the range."""

    driver: str
    mentions: int
    negative_mentions: int
    positive_mentions: int


@dataclass(frozen=True)
class NegativeComment:
    """One negative comment as stored (redacted at the entry points), with what the sink read in it."""

    submitted_at_ms: int
    channel: str
    sentiment: float
    drivers: tuple[str, ...]
    comment: str
    feedback_id: str


@dataclass
class ServiceComments:
    """What the comments of one (agency, service) say over the range: counts, themes (most negative
    first) and the latest negative comments (newest first)."""

    agency: str
    service: str
    comments: int = 0
    negative: int = 0
    positive: int = 0
    themes: list[Theme] = field(default_factory=list)
    latest_negative: list[NegativeComment] = field(default_factory=list)


def theme_order(theme: Theme) -> tuple[int, int, int, str]:
    """Most negative first: negative mentions, then mentions, then the contract's driver order."""
    rank = DRIVERS.index(theme.driver) if theme.driver in DRIVERS else len(DRIVERS)
    return (-theme.negative_mentions, -theme.mentions, rank, theme.driver)


def group(totals: Iterable[Sequence[Any]], themes: Iterable[Sequence[Any]],
          negatives: Iterable[Sequence[Any]], limit: int) -> list[ServiceComments]:
    """Services (by agency, then service) from the rows of the three reads:

    - ``totals``: agency, service, comments, negative, positive;
    - ``themes``: agency, service, driver, mentions, negative_mentions, positive_mentions;
    - ``negatives``: agency, service, submitted_at_ms, channel, sentiment, drivers, comment, feedback_id.

    Every service that any read names is listed; its negative comments are the ``limit`` newest.
    """
    services: dict[tuple[str, str], ServiceComments] = {}

    def service(agency: str, name: str) -> ServiceComments:
        return services.setdefault((agency, name), ServiceComments(agency, name))

    for agency, name, comments, negative, positive in totals:
        block = service(agency, name)
        block.comments, block.negative, block.positive = int(comments), int(negative), int(positive)
    for agency, name, driver, mentions, negative_mentions, positive_mentions in themes:
        if int(mentions):
            service(agency, name).themes.append(
                Theme(driver, int(mentions), int(negative_mentions), int(positive_mentions)))
    for agency, name, at_ms, channel, sentiment, drivers, comment, feedback_id in negatives:
        service(agency, name).latest_negative.append(NegativeComment(
            int(at_ms), channel, round(float(sentiment or 0.0), 4), tuple(drivers), comment or "", feedback_id))
    for block in services.values():
        block.themes.sort(key=theme_order)
        block.latest_negative.sort(key=lambda c: (-c.submitted_at_ms, c.feedback_id))
        del block.latest_negative[limit:]
    return [services[key] for key in sorted(services)]


def query_comments(client: SqlClient, database: str, agency: str, service: str | None, since_s: int,
                   until_s: int, limit: int) -> list[ServiceComments]:
    """What the comments of ``agency`` (and ``service``) submitted in [since_s, until_s) say, UTC
    epoch seconds, both on a minute (the themes are per minute). ClickHouse errors propagate."""
    if since_s % 60 or until_s % 60:
        raise ValueError(f"the range must be whole minutes, got [{since_s}, {until_s})")
    db = check_database_name(database)
    params: dict[str, Any] = {"agency": agency, "since": since_s, "until": until_s, "limit": limit}
    where = "agency = %(agency)s"
    if service is not None:
        params["service"] = service
        where += " AND service = %(service)s"
    submitted = ("submitted_at >= toDateTime(%(since)s, 'UTC') AND submitted_at < toDateTime(%(until)s, 'UTC')")
    totals = client.execute(
        f"SELECT agency, service, count(), countIf(comment_label = 'negative'), countIf(comment_label = 'positive') "
        f"FROM {db}.feedback WHERE {where} AND {submitted} AND isNotNull(comment_label) "
        f"GROUP BY agency, service", params)
    themes = client.execute(
        f"SELECT agency, service, driver, sum(mentions), sum(negative_mentions), sum(positive_mentions) "
        f"FROM {db}.comment_themes WHERE {where} "
        f"AND window_start >= toDateTime(%(since)s, 'UTC') AND window_start < toDateTime(%(until)s, 'UTC') "
        f"GROUP BY agency, service, driver", params)
    negatives: list[Any] = []
    if limit > 0:
        negatives = client.execute(
            f"SELECT agency, service, submitted_at_ms, channel, comment_sentiment, comment_drivers, comment, "
            f"feedback_id FROM {db}.feedback WHERE {where} AND {submitted} AND comment_label = 'negative' "
            f"ORDER BY agency, service, submitted_at_ms DESC, feedback_id LIMIT %(limit)s BY agency, service",
            params)
    return group(totals, themes, negatives, limit)
