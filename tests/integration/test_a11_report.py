"""The A-11 quarterly report from stored rows equals counts computed here from the same records.

The data set holds FY2027 Q1 traffic, rows just outside that quarter (which must not count), a
backfilled FY2019 Q1 (history loaded years later), replayed batches, and feedback without any
touchpoint in its cell.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from cxstream.cli import main
from cxstream.config import Settings
from cxstream.fiscal import fiscal_quarter_of
from cxstream.schemas.records import EnrichedFeedback, Touchpoint
from cxstream.sinks import tables
from cxstream.sinks.a11_report import COLUMNS, QUESTIONS, query_report
from cxstream.sinks.migrate import migrate
from cxstream.stack import StackStatus
from cxstream.vocabulary import DOMAINS
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, open_backend


def _ms(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp()) * 1000


@dataclass
class DataSet:
    touchpoints: list[Touchpoint]
    feedback: list[EnrichedFeedback]


def _data_set() -> DataSet:
    rng = random.Random(2027)
    spans = [  # [start, end) in ms; the boundaries themselves are hit on purpose below
        (_ms(2026, 10, 1), _ms(2027, 1, 1)),  # FY2027 Q1
        (_ms(2018, 10, 1), _ms(2019, 1, 1)),  # FY2019 Q1, backfilled
        (_ms(2026, 9, 1), _ms(2026, 10, 1)),  # FY2026 Q4: just before
        (_ms(2027, 1, 1), _ms(2027, 2, 1)),  # FY2027 Q2: just after
    ]
    cells = [(a, s, c) for a in ("VA", "IRS") for s in ("claims", "refunds") for c in ("phone", "website", "paper")]
    touchpoints, feedback = [], []
    for i in range(900):
        start, end = rng.choice(spans)
        agency, service, channel = rng.choice(cells[:-2])  # the last two cells have no touchpoints
        touchpoints.append(Touchpoint(
            f"tp-{i}", rng.randrange(start, end), agency, service, channel,
            survey_offered=rng.choice([True, True, False, None]),
        ))
    edges = [_ms(2026, 10, 1), _ms(2026, 10, 1) - 1, _ms(2027, 1, 1), _ms(2027, 1, 1) - 1]
    for j, moment in enumerate(edges):
        touchpoints.append(Touchpoint(f"tp-edge-{j}", moment, "VA", "claims", "phone", survey_offered=True))
    for i in range(700):
        start, end = rng.choice(spans)
        agency, service, channel = rng.choice(cells)
        if rng.random() < 0.1:
            agency, service, channel = "unknown", "unknown", "unknown"
        answered = rng.sample(DOMAINS, rng.randint(1, len(DOMAINS)))
        feedback.append(EnrichedFeedback(
            f"fb-{i}", None, rng.randrange(start, end), agency, service, channel, rng.random() < 0.5,
            {d: rng.choice([1, 2, 3, 4, 4, 5, 5]) for d in answered}, None,
        ))
    for j, moment in enumerate(edges):
        feedback.append(EnrichedFeedback(f"fb-edge-{j}", None, moment, "VA", "claims", "phone", True,
                                         {"trust": 5}, None))
    return DataSet(touchpoints, feedback)


def _load(backend: Backend, data: DataSet) -> None:
    migrate(backend.client, backend.database)
    tp_rows = [tables.touchpoint_row(tp, version=i) for i, tp in enumerate(data.touchpoints)]
    fb_rows = [tables.feedback_row(fb, version=i) for i, fb in enumerate(data.feedback)]
    for _ in range(2):  # the second time is a replay: it must not count twice
        tables.insert(backend.client, backend.database, tables.TOUCHPOINTS, tp_rows)
        tables.insert(backend.client, backend.database, tables.FEEDBACK, fb_rows)


def _expected(data: DataSet, fiscal_year: int, quarter: int, agency: str | None = None) -> list[dict[str, Any]]:
    """The report computed from the records alone: plain loops, Decimal rounding."""
    def wanted(moment_ms: int, row_agency: str) -> bool:
        when = datetime.fromtimestamp(moment_ms / 1000, UTC)
        return fiscal_quarter_of(when) == (fiscal_year, quarter) and agency in (None, row_agency)

    volume: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for tp in data.touchpoints:
        if wanted(tp.occurred_at, tp.agency):
            cell = volume[(tp.agency, tp.service, tp.channel)]
            cell[0] += 1
            cell[1] += tp.survey_offered is True
    respondents: dict[tuple[str, str, str], int] = defaultdict(int)
    answers: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: {d: [0] * 5 for d in DOMAINS})
    for fb in data.feedback:
        if wanted(fb.submitted_at, fb.agency):
            key = (fb.agency, fb.service, fb.channel)
            respondents[key] += 1
            for domain, answer in fb.answers.items():
                answers[key][domain][answer - 1] += 1
    rows = []
    for key in sorted(set(volume) | set(respondents)):
        row: dict[str, Any] = {
            "fiscal_year": fiscal_year, "quarter": quarter, "agency": key[0], "service_provided": key[1],
            "channel": key[2], "volume_of_customers": volume[key][0] if key in volume else 0,
            "volume_of_customers_provided_survey_opportunity": volume[key][1] if key in volume else 0,
            "volume_of_respondents": respondents.get(key, 0),
        }
        for number, domain in enumerate(DOMAINS, start=1):
            counts = answers[key][domain] if key in answers else [0] * 5
            row[f"q{number}_text"] = QUESTIONS[domain]
            for answer in range(1, 6):
                row[f"q{number}_{answer}"] = counts[answer - 1]
            total = sum(counts)
            weighted = sum(a * n for a, n in zip(range(1, 6), counts, strict=True))
            row[f"q{number}_point_scale"] = (
                None if total == 0
                else (Decimal(weighted) / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            )
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def data() -> DataSet:
    return _data_set()


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, settings: Settings, data: DataSet) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_a11") as backend:
        _load(backend, data)
        yield backend


@pytest.mark.parametrize(("fiscal_year", "quarter", "agency"), [
    (2027, 1, None),  # the live quarter, boundaries included and excluded
    (2019, 1, None),  # history backfilled long after
    (2027, 1, "IRS"),  # one agency
    (2026, 4, None),  # the quarter before
])
def test_report_counts_equal_counts_from_the_inserted_records(
    loaded: Backend, data: DataSet, fiscal_year: int, quarter: int, agency: str | None
) -> None:
    report = query_report(loaded.client, loaded.database, fiscal_year, quarter, agency)

    expected = _expected(data, fiscal_year, quarter, agency)
    assert [row.values() for row in report] == expected
    assert expected and all(tuple(row) == COLUMNS for row in expected)


def test_a_quarter_without_data_has_no_rows(loaded: Backend) -> None:
    assert query_report(loaded.client, loaded.database, 2030, 2) == []


@pytest.mark.integration
def test_cli_writes_the_report_as_csv(stack: StackStatus, settings: Settings, data: DataSet, tmp_path: Any) -> None:
    with open_backend(LOCAL, settings, "cx_test_a11_cli") as backend:
        _load(backend, data)
        out = tmp_path / "fy2027q1.csv"
        result = CliRunner().invoke(main, [
            "report", "a11", "--clickhouse-database", backend.database, "--fiscal-year", "2027", "--quarter", "1",
            "--out", str(out),
        ])
        assert result.exit_code == 0, result.output
        with out.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    expected = _expected(data, 2027, 1)
    assert [list(row) for row in rows[:1]] == [list(COLUMNS)]
    assert rows == [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]


# --- ordinary traffic that once crashed the report (found trying it as a new user would) -----------
def _sparse_data_set() -> DataSet:
    """One cell whose feedback answers satisfaction only (every other domain column is all NULL)
    and whose touchpoints never say whether a survey was offered; a second cell where some do."""
    q1 = _ms(2026, 11, 2)
    return DataSet(
        touchpoints=[
            Touchpoint("sparse-tp-1", q1, "X", "site", "website"),  # survey_offered absent
            Touchpoint("sparse-tp-2", q1 + 1, "X", "site", "website"),
            Touchpoint("sparse-tp-3", q1, "Y", "desk", "in_person", survey_offered=True),
            Touchpoint("sparse-tp-4", q1, "Y", "desk", "in_person"),
            Touchpoint("sparse-tp-5", q1, "Y", "desk", "in_person", survey_offered=False),
        ],
        feedback=[
            EnrichedFeedback("sparse-fb-1", "sparse-tp-1", q1 + 5, "X", "site", "website", True,
                             {"satisfaction": 4}, None),
        ],
    )


@pytest.fixture(scope="module", params=BACKENDS)
def sparse(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_a11_sparse") as backend:
        _load(backend, _sparse_data_set())
        yield backend


def test_a_domain_nobody_answered_reports_zero_counts_and_no_point_scale(sparse: Backend) -> None:
    rows = {row.cell: row.values() for row in query_report(sparse.client, sparse.database, 2027, 1)}
    x = rows[("X", "site", "website")]
    assert (x["q1_4"], x["q1_point_scale"]) == (1, Decimal("4.00"))
    for number in range(2, len(DOMAINS) + 1):
        assert [x[f"q{number}_{a}"] for a in range(1, 6)] == [0] * 5
        assert x[f"q{number}_point_scale"] is None


def test_survey_opportunity_is_unknown_when_no_touchpoint_of_the_cell_says(sparse: Backend) -> None:
    rows = {row.cell: row.values() for row in query_report(sparse.client, sparse.database, 2027, 1)}
    unknown = rows[("X", "site", "website")]
    assert unknown["volume_of_customers"] == 2
    assert unknown["volume_of_customers_provided_survey_opportunity"] is None  # unknown, not 0
    known = rows[("Y", "desk", "in_person")]
    assert (known["volume_of_customers"], known["volume_of_customers_provided_survey_opportunity"]) == (3, 1)


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cli_reports_sparse_traffic_without_crashing(
    stack: StackStatus, settings: Settings, tmp_path: Any, fmt: str
) -> None:
    with open_backend(LOCAL, settings, "cx_test_a11_sparse_cli") as backend:
        _load(backend, _sparse_data_set())
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(main, [
            "report", "a11", "--clickhouse-database", backend.database, "--fiscal-year", "2027", "--quarter", "1",
            "--agency", "X", "--format", fmt, "--out", str(out),
        ])
        assert result.exit_code == 0, result.output
    text = out.read_text()
    if fmt == "json":
        [row] = json.loads(text)
        assert row["volume_of_customers_provided_survey_opportunity"] is None
        assert row["q2_point_scale"] is None and row["q1_point_scale"] == 4.0
    else:
        [row] = list(csv.DictReader(text.splitlines()))
        assert row["volume_of_customers_provided_survey_opportunity"] == ""
        assert (row["q1_4"], row["q2_4"], row["q2_point_scale"]) == ("1", "0", "")


@pytest.mark.integration
def test_cli_neutralises_formulas_in_names(stack: StackStatus, settings: Settings, tmp_path: Any) -> None:
    q1 = _ms(2026, 11, 2)
    hostile = '=HYPERLINK("http://evil.example/","open")'
    data = DataSet([Touchpoint("f-tp-1", q1, "@SUM(A1)", hostile, "phone"),
                    Touchpoint("f-tp-2", q1, "-2+3", "\tTAB", "phone")], [])
    with open_backend(LOCAL, settings, "cx_test_a11_formula") as backend:
        _load(backend, data)
        out = tmp_path / "report.csv"
        result = CliRunner().invoke(main, [
            "report", "a11", "--clickhouse-database", backend.database, "--fiscal-year", "2027", "--quarter", "1",
            "--out", str(out),
        ])
        assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    cells = {(row["agency"], row["service_provided"]) for row in rows}
    assert cells == {("'@SUM(A1)", "'" + hostile), ("'-2+3", "'\tTAB")}


def test_an_empty_agency_filter_is_refused_not_read_as_every_agency() -> None:
    result = CliRunner().invoke(main, ["report", "a11", "--fiscal-year", "2027", "--quarter", "1", "--agency", ""])
    assert result.exit_code == 2
    assert "--agency" in result.output and "empty" in result.output
