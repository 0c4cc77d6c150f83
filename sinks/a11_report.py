"""The A-11 Section 280 quarterly report: one row per agency, service and channel of a fiscal quarter.

Counts come from the stored facts (views ``touchpoints`` and ``feedback``), so history loaded
late counts too: touchpoints by ``occurred_at``, feedback by ``submitted_at``, both within the
quarter's [start, end) in UTC (``cxstream.fiscal``). Column names are the government collection's
(GSA Touchpoints), see docs/A11.md; q1..q7 are the domains in the contract's order.

Stored rows may leave things unknown, and the report says so rather than guess or crash: a domain
nobody answered has zero counts and no point scale; a cell none of whose touchpoints says whether
a survey was offered has no ``volume_of_customers_provided_survey_opportunity`` (empty in CSV,
null in JSON), which is not the same as 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, TextIO

from cxstream.csv_cells import write_rows
from cxstream.fiscal import quarter_bounds
from cxstream.scores import AnswerCounts
from cxstream.sinks.connection import SqlClient
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DOMAINS, MAX_ANSWER, MIN_ANSWER

#: The standard survey statement of each domain (A-11's first variant), q1..q7 in this order.
QUESTIONS: Final[dict[str, str]] = {
    "satisfaction": "I am satisfied with the service I received from [service].",
    "trust": "This interaction increased my confidence in [service].",
    "quality": "My need was addressed.",
    "ease": "It was easy to complete what I needed to do.",
    "efficiency": "It took a reasonable amount of time to do what I needed to do.",
    "equity": "I was treated fairly.",
    "helpfulness": "Employees I interacted with were helpful.",
}

_ANSWERS = range(MIN_ANSWER, MAX_ANSWER + 1)


def _question_columns(number: int) -> list[str]:
    q = f"q{number}"
    return [f"{q}_text", *(f"{q}_{answer}" for answer in _ANSWERS), f"{q}_point_scale"]


#: The report's columns, in order.
COLUMNS: Final[tuple[str, ...]] = (
    "fiscal_year", "quarter", "agency", "service_provided", "channel", "volume_of_customers",
    "volume_of_customers_provided_survey_opportunity", "volume_of_respondents",
    *(column for number in range(1, len(DOMAINS) + 1) for column in _question_columns(number)),
)

Cell = tuple[str, str, str]  # agency, service, channel


@dataclass(frozen=True)
class Served:
    """Touchpoints of one cell in the quarter."""

    customers: int = 0
    #: None when no touchpoint of the cell says whether it offered a survey (unknown, not zero).
    offered_survey: int | None = 0


@dataclass(frozen=True)
class Answered:
    """Feedback of one cell in the quarter: respondents, and the answer counts of each domain."""

    respondents: int = 0
    counts: Mapping[str, AnswerCounts] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportRow:
    """One row of the report."""

    fiscal_year: int
    quarter: int
    cell: Cell
    served: Served
    answered: Answered

    def values(self) -> dict[str, Any]:
        """Column -> value, in report order; point scale is None where a question has no answers."""
        agency, service, channel = self.cell
        out: dict[str, Any] = {
            "fiscal_year": self.fiscal_year,
            "quarter": self.quarter,
            "agency": agency,
            "service_provided": service,
            "channel": channel,
            "volume_of_customers": self.served.customers,
            "volume_of_customers_provided_survey_opportunity": self.served.offered_survey,
            "volume_of_respondents": self.answered.respondents,
        }
        for number, domain in enumerate(DOMAINS, start=1):
            counts = self.answered.counts.get(domain, AnswerCounts())
            out[f"q{number}_text"] = QUESTIONS[domain]
            for answer, count in zip(_ANSWERS, counts.as_tuple(), strict=True):
                out[f"q{number}_{answer}"] = count
            out[f"q{number}_point_scale"] = point_scale(counts)
        return out


def point_scale(counts: AnswerCounts) -> Decimal | None:
    """The answer-weighted mean rounded half up to 2 decimals, None without answers.

    Integer arithmetic, so 3.805 is 3.81 (a float mean could sit just below the half).
    """
    n = counts.responses
    if n == 0:
        return None
    weighted = sum(answer * count for answer, count in zip(_ANSWERS, counts.as_tuple(), strict=True))
    hundredths = (200 * weighted + n) // (2 * n)  # floor(100 * weighted / n + 1/2)
    return Decimal(hundredths).scaleb(-2)


def build_rows(
    fiscal_year: int, quarter: int, served: Mapping[Cell, Served], answered: Mapping[Cell, Answered]
) -> list[ReportRow]:
    """One row per cell that has touchpoints or feedback, sorted by agency, service, channel."""
    return [
        ReportRow(fiscal_year, quarter, cell, served.get(cell, Served()), answered.get(cell, Answered()))
        for cell in sorted(set(served) | set(answered))
    ]


def quarter_params(fiscal_year: int, quarter: int, agency: str | None) -> tuple[dict[str, Any], str]:
    """Query parameters of a quarter's [start, end) in UTC and the agency filter, and the SQL
    condition of that filter ("" for every agency). An empty agency is refused, never read as every one."""
    start, end = quarter_bounds(fiscal_year, quarter)
    if agency is not None and not agency.strip():
        raise ValueError("an agency filter must not be empty (None means every agency)")
    params: dict[str, Any] = {"start": int(start.timestamp()), "end": int(end.timestamp()), "agency": agency or ""}
    return params, "" if agency is None else "AND agency = %(agency)s"


def query_served(
    client: SqlClient, database: str, fiscal_year: int, quarter: int, agency: str | None = None
) -> dict[Cell, Served]:
    """Touchpoints that occurred in the quarter, per cell (the report's two volume columns)."""
    db = check_database_name(database)
    params, only_agency = quarter_params(fiscal_year, quarter, agency)
    # countIf over a Nullable column whose rows are all NULL is NULL on ClickHouse 18.16 (0 on
    # current releases): every condition is made non-Nullable with ifNull first.
    served_rows = client.execute(
        f"""
        SELECT agency, service, channel, count(), countIf(ifNull(survey_offered = 1, 0)),
               countIf(isNotNull(survey_offered))
        FROM {db}.touchpoints
        WHERE occurred_at >= toDateTime(%(start)s, 'UTC') AND occurred_at < toDateTime(%(end)s, 'UTC') {only_agency}
        GROUP BY agency, service, channel
        """,
        params,
    )
    return {
        (a, s, c): Served(int(n), int(offered) if int(said) else None)
        for a, s, c, n, offered, said in served_rows
    }


def query_report(
    client: SqlClient, database: str, fiscal_year: int, quarter: int, agency: str | None = None
) -> list[ReportRow]:
    """The report of one fiscal quarter (optionally one agency) from the views in ``database``."""
    db = check_database_name(database)
    params, only_agency = quarter_params(fiscal_year, quarter, agency)
    served = query_served(client, db, fiscal_year, quarter, agency)
    answer_counts = ", ".join(
        f"countIf(ifNull({domain} = {answer}, 0))" for domain in DOMAINS for answer in _ANSWERS
    )
    answered_rows = client.execute(
        f"""
        SELECT agency, service, channel, count(), {answer_counts}
        FROM {db}.feedback
        WHERE submitted_at >= toDateTime(%(start)s, 'UTC') AND submitted_at < toDateTime(%(end)s, 'UTC') {only_agency}
        GROUP BY agency, service, channel
        """,
        params,
    )
    answered = {}
    width = len(_ANSWERS)
    for a, s, c, respondents, *counts in answered_rows:
        per_domain = {
            domain: AnswerCounts(*(int(n) for n in counts[i * width : (i + 1) * width]))
            for i, domain in enumerate(DOMAINS)
        }
        answered[(a, s, c)] = Answered(int(respondents), per_domain)
    return build_rows(fiscal_year, quarter, served, answered)


def write_csv(rows: Iterable[ReportRow], out: TextIO) -> None:
    """The report as CSV with a header; an unknown value is an empty field, and text that a
    spreadsheet would run as a formula is neutralised (cxstream.csv_cells)."""
    write_rows(out, COLUMNS, (row.values().values() for row in rows))


def write_json(rows: Iterable[ReportRow], out: TextIO) -> None:
    """The report as a JSON array of objects (keys in column order); an empty point scale is null."""
    records = [
        {k: (float(v) if isinstance(v, Decimal) else v) for k, v in row.values().items()} for row in rows
    ]
    json.dump(records, out, indent=1)
    out.write("\n")
