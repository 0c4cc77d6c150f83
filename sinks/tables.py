"""The store tables: their names, their columns, and records turned into insert rows.

Pure functions, one per record type; ``insert`` sends rows as a parameterised insert (data
blocks), the one form of INSERT that works over the native protocol on ClickHouse 18.16 too.
Times travel as UTC epoch seconds for the DateTime('UTC') columns (the driver and the server take
an int as an instant, no time zone guessing) plus the exact milliseconds in a ``*_ms`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from cxstream.insights import analyze
from cxstream.schemas.records import (
    A11V2,
    Alert,
    DeadLetter,
    DomainScore,
    DriverScore,
    EnrichedFeedback,
    Touchpoint,
    TrustScore,
)
from cxstream.sinks.connection import SqlClient
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DOMAINS, DRIVERS

TOUCHPOINTS: Final = "touchpoints_store"
FEEDBACK: Final = "feedback_store"
SCORES: Final = "domain_scores_store"
DEAD_LETTERS: Final = "dead_letters_store"
ALERTS: Final = "alerts_store"
TRUST_SCORES: Final = "trust_scores_store"
DRIVER_SCORES: Final = "driver_scores_store"

#: What the sink reads in a stored comment (migration 0006, cxstream/insights), in the row's order.
INSIGHT_COLUMNS: Final[tuple[str, ...]] = ("comment_sentiment", "comment_label", "comment_drivers")

#: The current A-11 form's columns of feedback_store (migration 0005), in the row's order.
A11_V2_COLUMNS: Final[tuple[str, ...]] = (
    "question_1", "trust_scale", "transaction_point",
    *(f"positive_{d}" for d in DRIVERS), *(f"negative_{d}" for d in DRIVERS),
)

#: Columns of each store table, in the order of the row tuples below.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    TOUCHPOINTS: (
        "touchpoint_id", "occurred_at", "occurred_at_ms", "agency", "service", "channel",
        "outcome", "wait_seconds", "handle_seconds", "survey_offered", "_version",
    ),
    FEEDBACK: (
        "feedback_id", "touchpoint_id", "submitted_at", "submitted_at_ms", "agency", "service", "channel",
        "matched", *DOMAINS, "comment", "_version", *A11_V2_COLUMNS, *INSIGHT_COLUMNS,
    ),
    SCORES: (
        "window_start", "window_seconds", "agency", "service", "channel", "domain", "responses",
        "count_1", "count_2", "count_3", "count_4", "count_5", "mean", "pct_positive", "version",
    ),
    DEAD_LETTERS: (
        "source_topic", "partition", "offset", "reason", "detail", "received_at", "received_at_ms", "key", "raw",
    ),
    ALERTS: (
        "agency", "service", "domain", "state", "window_end", "window_end_ms", "raised_at", "raised_at_ms",
        "pct_positive", "responses", "threshold", "min_responses", "_version",
    ),
    TRUST_SCORES: (
        "window_start", "window_seconds", "agency", "service", "channel", "trust_scale", "responses", "favourable",
        "count_0", "count_1", "count_2", "count_3", "count_4", "count_5", "pct_favourable", "version",
    ),
    DRIVER_SCORES: (
        "window_start", "window_seconds", "agency", "service", "channel", "driver", "offered", "went_well",
        "did_not_go_well", "pct_went_well", "pct_did_not_go_well", "version",
    ),
}

_DOMAIN_SET = frozenset(DOMAINS)


def touchpoint_row(tp: Touchpoint, version: int) -> tuple[Any, ...]:
    """A touchpoints_store row; ``version`` grows with the Kafka offset (the highest is kept)."""
    survey = None if tp.survey_offered is None else int(tp.survey_offered)
    return (
        tp.touchpoint_id, tp.occurred_at // 1000, tp.occurred_at, tp.agency, tp.service, tp.channel,
        tp.outcome, tp.wait_seconds, tp.handle_seconds, survey, version,
    )


def feedback_row(fb: EnrichedFeedback, version: int) -> tuple[Any, ...]:
    """A feedback_store row: one nullable column per domain, NULL where it was not answered."""
    unknown = fb.answers.keys() - _DOMAIN_SET
    if unknown:  # validation keeps these out; storing them would lose them silently
        raise ValueError(f"feedback {fb.feedback_id} answers unknown domain(s) {sorted(unknown)}")
    answers = tuple(fb.answers.get(domain) for domain in DOMAINS)
    return (
        fb.feedback_id, fb.touchpoint_id, fb.submitted_at // 1000, fb.submitted_at, fb.agency, fb.service,
        fb.channel, int(fb.matched), *answers, fb.comment, version, *a11_v2_values(fb.a11_v2),
        *insight_values(fb.comment),
    )


def insight_values(comment: str | None) -> tuple[Any, ...]:
    """The INSIGHT_COLUMNS of a stored (redacted) comment: sentiment, label and drivers; NULL, NULL
    and none without a comment. Computed here, in the sink, off the scoring path (docs/INSIGHTS.md)."""
    insight = analyze(comment)
    if insight is None:
        return (None, None, [])
    return (insight.sentiment, insight.label, list(insight.drivers))


def driver_flag(driver: str, chosen: tuple[str, ...], offered: tuple[str, ...]) -> int | None:
    """1 chosen, 0 offered and not chosen, None not offered: the government's response-file values."""
    return None if driver not in offered else int(driver in chosen)


def a11_v2_values(answers: A11V2 | None) -> tuple[Any, ...]:
    """The A11_V2_COLUMNS of one feedback: all None without current-form answers."""
    if answers is None:
        return (None,) * len(A11_V2_COLUMNS)
    return (
        answers.trust, answers.trust_scale, answers.transaction_point,
        *(driver_flag(d, answers.went_well, answers.offered) for d in DRIVERS),
        *(driver_flag(d, answers.did_not_go_well, answers.offered) for d in DRIVERS),
    )


def score_row(score: DomainScore) -> tuple[Any, ...]:
    """A domain_scores_store row; the score's own version orders its states."""
    return (
        score.window_start // 1000, score.window_seconds, score.agency, score.service, score.channel,
        score.domain, score.responses, score.count_1, score.count_2, score.count_3, score.count_4,
        score.count_5, score.mean, score.pct_positive, score.version,
    )


def trust_score_row(score: TrustScore) -> tuple[Any, ...]:
    """A trust_scores_store row; the cell's version orders its states."""
    return (
        score.window_start // 1000, score.window_seconds, score.agency, score.service, score.channel,
        score.trust_scale, score.responses, score.favourable, score.count_0, score.count_1, score.count_2,
        score.count_3, score.count_4, score.count_5, score.pct_favourable, score.version,
    )


def driver_score_row(score: DriverScore) -> tuple[Any, ...]:
    """A driver_scores_store row; the cell's version orders its states."""
    return (
        score.window_start // 1000, score.window_seconds, score.agency, score.service, score.channel,
        score.driver, score.offered, score.went_well, score.did_not_go_well, score.pct_went_well,
        score.pct_did_not_go_well, score.version,
    )


def dead_letter_row(dl: DeadLetter) -> tuple[Any, ...]:
    """A dead_letters_store row; key and raw are stored as the original bytes."""
    return (
        dl.source_topic, dl.partition, dl.offset, dl.reason, dl.detail, dl.received_at // 1000,
        dl.received_at, dl.key, dl.raw,
    )


def alert_row(alert: Alert, version: int) -> tuple[Any, ...]:
    """An alerts_store row: one transition (firing or resolved); ``version`` keeps its latest copy."""
    return (
        alert.agency, alert.service, alert.domain, alert.state, alert.window_end // 1000, alert.window_end,
        alert.raised_at // 1000, alert.raised_at, alert.pct_positive, alert.responses, alert.threshold,
        alert.min_responses, version,
    )


def insert_statement(database: str, table: str) -> str:
    """``INSERT INTO <db>.<table> (<columns>) VALUES``, the rows travelling as data blocks."""
    columns = ", ".join(f"`{name}`" for name in COLUMNS[table])
    return f"INSERT INTO {check_database_name(database)}.{table} ({columns}) VALUES"


def insert(client: SqlClient, database: str, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert ``rows`` into one store table in one block; return how many were sent."""
    if not rows:
        return 0
    client.execute(insert_statement(database, table), rows)
    return len(rows)
