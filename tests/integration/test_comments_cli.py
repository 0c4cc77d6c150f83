"""`cxstream comments` on ClickHouse 18.16 and on chdb: the command's themes, counts and latest
negative comments equal what the inserted comments imply.

Rows are written as the sink writes them (sinks/tables.py computes each comment's insight); the
expected output is computed here in plain Python from the inserted comments and what
cxstream.insights.analyze says of each, never read back from the server.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cxstream.cli import main
from cxstream.config import Settings
from cxstream.insights import analyze
from cxstream.redaction import redact
from cxstream.schemas.records import EnrichedFeedback
from cxstream.sinks import tables
from cxstream.sinks.migrate import load_migrations, migrate
from cxstream.vocabulary import DRIVERS
from tests.support.clickhouse import BACKENDS, CHDB, LOCAL, Backend, open_backend

COMMENTS = [
    "Stuck on hold forever and then the call dropped.",
    "The portal was down all day.",
    "The agent was very helpful.",
    "Nobody could tell me the status of my disability claim.",
    "Quick and efficient, I was done in ten minutes.",
    "It was ok.",
    "The clerk was rude and dismissive. Very frustrating.",
    "Call me back at 202-555-0143, the letter I got makes no sense.",  # an older store, not redacted
    "N/A",
    None,
]
SINCE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
START_MS, END_MS = int(SINCE.timestamp() * 1000), int(UNTIL.timestamp() * 1000)


def _feedback_set() -> list[EnrichedFeedback]:
    rng = random.Random(280)
    feedback = []
    for i in range(400):
        at_ms = rng.choice([START_MS - 60_000, START_MS, END_MS - 1, END_MS]) if i % 10 == 0 else \
            rng.randrange(START_MS - 600_000, END_MS + 600_000)
        agency = rng.choice(["VA", "VA", "SSA"])
        service = rng.choice(["disability-claims", "gi-bill"]) if agency == "VA" else "replacement-card"
        feedback.append(EnrichedFeedback(
            f"fb-{i:04d}", None, at_ms, agency, service, rng.choice(["phone", "website", "in_person"]), False,
            {"trust": rng.randint(1, 5)}, rng.choice(COMMENTS)))
    return feedback


@pytest.fixture(scope="module")
def feedback() -> list[EnrichedFeedback]:
    return _feedback_set()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings, feedback: list[EnrichedFeedback]) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_comments_cli") as opened:
        migrate(opened.client, opened.database)
        opened.stop_merges(tables.FEEDBACK)
        rows = [tables.feedback_row(fb, version=i) for i, fb in enumerate(feedback)]
        tables.insert(opened.client, opened.database, tables.FEEDBACK, rows)
        tables.insert(opened.client, opened.database, tables.FEEDBACK, rows[:200])  # a replayed batch
        yield opened


class _Borrowed:
    """The chdb session, handed to the command as its connection (which it may not close)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def execute(self, query: str, params: Any = None) -> Any:
        return self._client.execute(query, params)

    def disconnect(self) -> None:
        pass


def _run(backend: Backend, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    if backend.name == CHDB:
        monkeypatch.setattr("cxstream.sinks.connection.connect", lambda *a, **k: _Borrowed(backend.client))
    # Text output wraps at the terminal's width: a wide one here, whatever terminal runs the suite.
    monkeypatch.setenv("COLUMNS", "160")
    return CliRunner().invoke(main, ["comments", "--clickhouse-database", backend.database, *args])


def _expected(feedback: list[EnrichedFeedback], agency: str, service: str | None, limit: int) -> dict[str, Any]:
    """The JSON document the rows imply, computed from the comments and the analyzer."""
    chosen = [fb for fb in feedback if fb.agency == agency and (service is None or fb.service == service)
              and START_MS <= fb.submitted_at < END_MS]
    blocks: dict[tuple[str, str], dict[str, Any]] = {}
    themes: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    negatives: dict[tuple[str, str], list[EnrichedFeedback]] = defaultdict(list)
    for fb in chosen:
        insight = analyze(fb.comment)
        if insight is None:
            continue
        key = (fb.agency, fb.service)
        block = blocks.setdefault(key, {"agency": fb.agency, "service": fb.service, "comments": 0,
                                        "negative": 0, "positive": 0})
        block["comments"] += 1
        if insight.label in ("negative", "positive"):
            block[insight.label] += 1
        for driver in insight.drivers:
            themes[key][(driver, "mentions")] += 1
            themes[key][(driver, insight.label)] += 1
        if insight.label == "negative":
            negatives[key].append(fb)
    out = []
    for key in sorted(blocks):
        counts = themes[key]
        rows = [{"driver": d, "mentions": counts[(d, "mentions")], "negative_mentions": counts[(d, "negative")],
                 "positive_mentions": counts[(d, "positive")]} for d in DRIVERS if counts[(d, "mentions")]]
        rows.sort(key=lambda t: (-t["negative_mentions"], -t["mentions"], DRIVERS.index(t["driver"])))
        latest = sorted(negatives[key], key=lambda fb: (-fb.submitted_at, fb.feedback_id))[:limit]
        out.append({**blocks[key], "themes": rows, "latest_negative": [{
            "submitted_at": datetime.fromtimestamp(fb.submitted_at // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{fb.submitted_at % 1000:03d}Z",
            "channel": fb.channel, "sentiment": analyze(fb.comment).sentiment,  # type: ignore[union-attr]
            "drivers": list(analyze(fb.comment).drivers),  # type: ignore[union-attr]
            "comment": redact(fb.comment or ""), "feedback_id": fb.feedback_id} for fb in latest]})
    return {"agency": agency, "service": service, "since": "2026-11-02T09:00:00Z", "until": "2026-11-02T10:00:00Z",
            "limit": limit, "services": out}


@pytest.mark.parametrize(("agency", "service", "limit"), [
    ("VA", None, 10), ("VA", "gi-bill", 3), ("SSA", None, 0), ("VA", "disability-claims", 1000),
])
def test_json_equals_what_the_inserted_comments_imply(
    backend: Backend, feedback: list[EnrichedFeedback], monkeypatch: pytest.MonkeyPatch,
    agency: str, service: str | None, limit: int,
) -> None:
    args = ["--agency", agency, "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T10:00:00Z",
            "--format", "json", "--limit", str(limit)] + (["--service", service] if service else [])
    result = _run(backend, monkeypatch, *args)

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    expected = _expected(feedback, agency, service, limit)
    assert document == expected
    assert expected["services"] and any(block["themes"] for block in expected["services"])
    assert "202-555-0143" not in result.output  # printed redacted, whatever the store holds


def test_text_shows_the_same_figures(backend: Backend, feedback: list[EnrichedFeedback],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(backend, monkeypatch, "--agency", "VA", "--service", "disability-claims",
                  "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T10:00:00Z",
                  "--limit", "3")

    assert result.exit_code == 0, result.output
    [block] = _expected(feedback, "VA", "disability-claims", 3)["services"]
    lines = result.output.splitlines()
    assert lines[0] == "Comments on VA / disability-claims from 2026-11-02 09:00 to 2026-11-02 10:00 UTC"
    assert lines[2] == (f"VA / disability-claims: {block['comments']} comments, {block['negative']} negative, "
                        f"{block['positive']} positive")
    table = [line.split() for line in lines[4:4 + len(block["themes"])]]
    assert table == [[t["driver"], str(t["mentions"]), str(t["negative_mentions"]), str(t["positive_mentions"])]
                     for t in block["themes"]]
    shown = [line for line in lines if line.startswith("  2026-11-02 ")]
    assert len(shown) == 3
    for line, comment in zip(shown, block["latest_negative"], strict=True):
        assert line.split()[2] == comment["channel"] and line.endswith(comment["comment"])


def test_a_range_without_comments_says_so(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(backend, monkeypatch, "--agency", "VA", "--since", "2020-01-01T00:00:00Z",
                  "--until", "2020-01-01T01:00:00Z")

    assert result.exit_code == 0, result.output
    assert result.output == "No comments on VA from 2020-01-01 00:00 to 2020-01-01 01:00 UTC.\n"


def test_a_database_that_was_never_migrated_says_to_migrate(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend.name == CHDB:
        monkeypatch.setattr("cxstream.sinks.connection.connect", lambda *a, **k: _Borrowed(backend.client))
    result = CliRunner().invoke(main, ["comments", "--clickhouse-database", backend.database + "_absent",
                                       "--agency", "VA"])

    assert result.exit_code == 1
    assert "cxstream db migrate" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", BACKENDS)
def test_a_database_from_before_comment_insights_says_to_migrate(
    request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    if name == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(name, settings, "cx_test_comments_old") as old:
        migrate(old.client, old.database, migrations=[m for m in load_migrations() if m.name < "0006"])
        result = _run(old, monkeypatch, "--agency", "VA")

    assert result.exit_code == 1
    assert "cxstream db migrate" in result.output and "0006" in result.output and "Traceback" not in result.output

