"""`cxstream comments` without a server: the time range, the grouping and ordering of the rows,
the text and JSON output, and the refusals (none of which reaches ClickHouse)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
import pytest
from click.testing import CliRunner
from clickhouse_driver.errors import ServerException

from cxstream.cli import main
from cxstream.cli.comments import parse_duration, shown, time_range, to_json, to_text
from cxstream.sinks.comment_queries import NegativeComment, ServiceComments, Theme, group


def _s(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


NOW = _s("2026-12-03T10:17:42+00:00") + 0.25


# --- the time range -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("since", "last", "until", "expected"), [
    (None, None, None, ("2026-12-03T09:18:00+00:00", "2026-12-03T10:18:00+00:00")),  # the page's rolling hour
    (None, "15m", None, ("2026-12-03T10:03:00+00:00", "2026-12-03T10:18:00+00:00")),
    (None, "1h30m", "2026-12-03T10:00:00Z", ("2026-12-03T08:30:00+00:00", "2026-12-03T10:00:00+00:00")),
    ("2026-12-03T10:00:30Z", None, "2026-12-03T10:05:01Z", ("2026-12-03T10:00:00+00:00", "2026-12-03T10:06:00+00:00")),
    ("2026-12-03T11:00:00+01:00", None, None, ("2026-12-03T10:00:00+00:00", "2026-12-03T10:18:00+00:00")),
    (None, "2d", "2026-12-03T00:00:00Z", ("2026-12-01T00:00:00+00:00", "2026-12-03T00:00:00+00:00")),
])
def test_the_range_is_whole_minutes_ending_with_until_or_the_current_minute(
    since: str | None, last: str | None, until: str | None, expected: tuple[str, str]
) -> None:
    assert time_range(since, last, until, NOW) == (_s(expected[0]), _s(expected[1]))


@pytest.mark.parametrize(("since", "last", "until", "flag"), [
    ("yesterday", None, None, "--since"),
    ("2026-12-03T10:00:00", None, None, "--since"),  # no offset: which 10:00?
    (None, None, "2026-13-03T10:00:00Z", "--until"),
    (None, "an hour", None, "--last"),
    (None, "0m", None, "--last"),
    (None, "-1h", None, "--last"),
    ("2026-12-03T10:00:00Z", "1h", None, "--last"),
    ("2026-12-03T10:30:00Z", None, "2026-12-03T10:00:00Z", "--since"),
    ("1969-12-31T23:00:00Z", None, None, "--since"),
])
def test_a_bad_time_is_a_usage_error_naming_its_flag(
    since: str | None, last: str | None, until: str | None, flag: str
) -> None:
    with pytest.raises(click.BadParameter) as refused:
        time_range(since, last, until, NOW)
    assert refused.value.param_hint == flag


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90s", "15m", "1h", "1H", "2d", "1w", "1h 30m")] == \
        [90, 900, 3600, 3600, 172_800, 604_800, 5400]


# --- grouping and ordering -------------------------------------------------------------------------------
def test_rows_group_per_service_themes_most_negative_first_comments_newest_first() -> None:
    totals = [("VA", "gi-bill", 3, 1, 2), ("VA", "claims", 9, 6, 2)]
    themes = [
        ("VA", "claims", "employee", 3, 0, 3), ("VA", "claims", "efficiency", 5, 4, 1),
        ("VA", "claims", "ease", 4, 4, 0), ("VA", "claims", "transparency", 4, 4, 0),
        ("VA", "claims", "humanity", 0, 0, 0), ("VA", "gi-bill", "ease", 1, 0, 1),
    ]
    negatives = [
        ("VA", "claims", 2_000, "phone", -0.51234, ["efficiency"], "On hold.", "fb-2"),
        ("VA", "claims", 3_000, "website", -0.7, [], "Bad.", "fb-3"),
        ("VA", "claims", 3_000, "website", -0.7, [], "Bad too.", "fb-1"),
        ("VA", "gi-bill", 1_000, "email", None, [], None, "fb-9"),
    ]
    services = group(totals, themes, negatives, limit=2)

    assert [(s.agency, s.service) for s in services] == [("VA", "claims"), ("VA", "gi-bill")]
    claims, gi_bill = services
    assert (claims.comments, claims.negative, claims.positive) == (9, 6, 2)
    # negative mentions, then mentions, then the contract's driver order; a zero row is dropped
    assert [t.driver for t in claims.themes] == ["efficiency", "ease", "transparency", "employee"]
    assert [(c.feedback_id, c.sentiment) for c in claims.latest_negative] == [("fb-1", -0.7), ("fb-3", -0.7)]
    assert gi_bill.latest_negative == [NegativeComment(1_000, "email", 0.0, (), "", "fb-9")]
    assert group([], [], [], limit=5) == []


# --- output ------------------------------------------------------------------------------------------------
START, END = _s("2026-12-03T09:00:00+00:00"), _s("2026-12-03T10:00:00+00:00")
BLOCK = ServiceComments(
    "VA", "disability-claims", comments=7, negative=4, positive=2,
    themes=[Theme("efficiency", 4, 3, 1), Theme("transparency", 2, 1, 0)],
    latest_negative=[
        NegativeComment(START * 1000 + 1_234_567, "phone", -0.8074, ("efficiency",),
                        "Stuck on hold forever, call me at 202-555-0143.\n\x1b[31mFix it\x1b[0m", "fb-7"),
        NegativeComment(START * 1000 + 5_000, "in_person", -0.25, (), "Very frustrating experience.", "fb-2"),
    ],
)


def test_text_is_aligned_redacted_and_one_comment_per_entry() -> None:
    text = to_text("VA", None, START, END, [BLOCK], width=100)

    assert text.splitlines() == [
        "Comments on VA from 2026-12-03 09:00 to 2026-12-03 10:00 UTC",
        "",
        "VA / disability-claims: 7 comments, 4 negative, 2 positive",
        "  theme         mentions  negative  positive",
        "  efficiency           4         3         1",
        "  transparency         2         1         0",
        "  latest negative comments (2 of 4), newest first",
        "  2026-12-03 09:20:34  phone      -0.81  Stuck on hold forever, call me at [PHONE]. [31mFix it [0m",
        "  2026-12-03 09:00:05  in_person  -0.25  Very frustrating experience.",
    ]
    assert text.endswith("experience.\n")
    assert "\x1b" not in text and "555" not in text


def test_long_comments_wrap_under_their_column() -> None:
    long = NegativeComment(START * 1000, "phone", -0.5, (), "word " * 60, "fb-1")
    lines = to_text("VA", "x", START, END, [ServiceComments("VA", "x", 1, 1, 0, [], [long])], width=80).splitlines()

    body = [line for line in lines if "word" in line]
    assert len(body) > 2 and all(len(line) <= 80 for line in body)
    column = body[0].index("word")
    assert all(line.index("word") == column for line in body)
    assert "no themes" in "\n".join(lines)


def test_nothing_to_show_says_so() -> None:
    assert to_text("VA", "gi-bill", START, END, []) == \
        "No comments on VA / gi-bill from 2026-12-03 09:00 to 2026-12-03 10:00 UTC.\n"


def test_json_is_the_documented_structure() -> None:
    document = json.loads(json.dumps(to_json("VA", None, START, END, 10, [BLOCK])))

    assert document == {
        "agency": "VA", "service": None, "since": "2026-12-03T09:00:00Z", "until": "2026-12-03T10:00:00Z",
        "limit": 10,
        "services": [{
            "agency": "VA", "service": "disability-claims", "comments": 7, "negative": 4, "positive": 2,
            "themes": [
                {"driver": "efficiency", "mentions": 4, "negative_mentions": 3, "positive_mentions": 1},
                {"driver": "transparency", "mentions": 2, "negative_mentions": 1, "positive_mentions": 0},
            ],
            "latest_negative": [
                {"submitted_at": "2026-12-03T09:20:34.567Z", "channel": "phone", "sentiment": -0.8074,
                 "drivers": ["efficiency"], "feedback_id": "fb-7",
                 "comment": "Stuck on hold forever, call me at [PHONE].\n\x1b[31mFix it\x1b[0m"},
                {"submitted_at": "2026-12-03T09:00:05.000Z", "channel": "in_person", "sentiment": -0.25,
                 "drivers": [], "feedback_id": "fb-2", "comment": "Very frustrating experience."},
            ],
        }],
    }


def test_shown_comments_are_redacted_again() -> None:
    assert shown("mail me at someone@example.org\tplease") == "mail me at [EMAIL] please"
    assert shown("call 202 555\r\n0143 after 5") == "call [PHONE] after 5"  # cleaned up, then redacted


# --- refusals and errors -----------------------------------------------------------------------------------
@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the command connected to ClickHouse before refusing")

    monkeypatch.setattr("cxstream.sinks.connection.connect", refuse)


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize(("args", "flag"), [
    (["--agency", ""], "--agency"),
    (["--agency", "  "], "--agency"),
    (["--agency", "VA", "--service", ""], "--service"),
    (["--agency", "VA", "--since", "noon"], "--since"),
    (["--agency", "VA", "--until", "2026-12-03 10:00"], "--until"),
    (["--agency", "VA", "--last", "1 hour"], "--last"),
    (["--agency", "VA", "--since", "2026-12-03T10:00:00Z", "--last", "1h"], "--last"),
    (["--agency", "VA", "--limit", "-1"], "--limit"),
    (["--agency", "VA", "--format", "csv"], "--format"),
    ([], "--agency"),
])
def test_refusals_are_usage_errors_naming_the_flag(args: list[str], flag: str) -> None:
    result = CliRunner().invoke(main, ["comments", *args])

    assert result.exit_code == 2, result.output
    assert flag in result.output


class _Missing:
    """A server whose database has no comment insights yet."""

    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message

    def execute(self, query: str, params: Any = None) -> Any:
        raise ServerException(self.message, code=self.code)

    def disconnect(self) -> None:
        pass


@pytest.mark.parametrize(("code", "message"), [
    (81, "Database cx_nowhere doesn't exist"),
    (60, "Table cx_old.comment_themes doesn't exist."),
    (47, "Unknown identifier: comment_label"),
])
def test_a_database_without_the_views_says_to_migrate(monkeypatch: pytest.MonkeyPatch, code: int,
                                                       message: str) -> None:
    monkeypatch.setattr("cxstream.sinks.connection.connect", lambda *a, **k: _Missing(code, message))
    result = CliRunner().invoke(main, ["comments", "--agency", "VA", "--clickhouse-database", "cx_old"])

    assert result.exit_code == 1
    assert "cxstream db migrate" in result.output and "'cx_old'" in result.output
    assert message in result.output and "Traceback" not in result.output
