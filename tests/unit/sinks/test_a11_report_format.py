"""The A-11 report's columns, point scale and file formats, without a server."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from cxstream.scores import AnswerCounts
from cxstream.sinks.a11_report import COLUMNS, QUESTIONS, Answered, Served, build_rows, point_scale, write_csv, write_json
from cxstream.vocabulary import DOMAINS


def test_columns_are_the_government_collection_names_in_order() -> None:
    head = ["fiscal_year", "quarter", "agency", "service_provided", "channel", "volume_of_customers",
            "volume_of_customers_provided_survey_opportunity", "volume_of_respondents"]
    questions = [f"q{n}_{part}" for n in range(1, 8) for part in ("text", "1", "2", "3", "4", "5", "point_scale")]
    assert list(COLUMNS) == head + questions


def test_questions_follow_the_domain_order_with_the_first_variant_of_each_statement() -> None:
    assert tuple(QUESTIONS) == DOMAINS
    assert QUESTIONS["satisfaction"] == "I am satisfied with the service I received from [service]."
    assert QUESTIONS["trust"] == "This interaction increased my confidence in [service]."
    assert QUESTIONS["quality"] == "My need was addressed."
    assert QUESTIONS["equity"] == "I was treated fairly."


@pytest.mark.parametrize(("counts", "expected"), [
    ((0, 0, 0, 0, 0), None),
    ((0, 0, 0, 1, 0), Decimal("4.00")),
    ((1, 0, 0, 0, 1), Decimal("3.00")),
    ((0, 0, 1, 1, 1), Decimal("4.00")),
    ((0, 0, 2, 1, 0), Decimal("3.33")),  # 3.333...
    ((0, 0, 1, 2, 0), Decimal("3.67")),  # 3.666...
    ((0, 0, 0, 1, 1), Decimal("4.50")),
    ((0, 0, 39, 160, 1), Decimal("3.81")),  # 3.81 exactly: (117 + 640 + 5) / 200
    ((0, 0, 0, 199, 1), Decimal("4.01")),  # 4.005: half rounds up
    ((1, 1, 1, 1, 1), Decimal("3.00")),
])
def test_point_scale_is_the_answer_weighted_mean_rounded_half_up(
    counts: tuple[int, int, int, int, int], expected: Decimal | None
) -> None:
    assert point_scale(AnswerCounts(*counts)) == expected


def test_rows_cover_cells_with_touchpoints_or_feedback_sorted() -> None:
    served = {("VA", "claims", "phone"): Served(10, 4), ("IRS", "refunds", "website"): Served(3, 0)}
    answered = {("VA", "claims", "phone"): Answered(2, {"trust": AnswerCounts(0, 0, 0, 1, 1)}),
                ("VA", "claims", "unknown"): Answered(1, {"ease": AnswerCounts(1, 0, 0, 0, 0)})}

    rows = build_rows(2027, 1, served, answered)

    assert [row.cell for row in rows] == [("IRS", "refunds", "website"), ("VA", "claims", "phone"),
                                         ("VA", "claims", "unknown")]
    irs, va, unknown = (row.values() for row in rows)
    assert (irs["volume_of_customers"], irs["volume_of_respondents"], irs["q1_point_scale"]) == (3, 0, None)
    assert (va["volume_of_customers_provided_survey_opportunity"], va["q2_4"], va["q2_5"]) == (4, 1, 1)
    assert va["q2_point_scale"] == Decimal("4.50")
    assert (unknown["volume_of_customers"], unknown["q4_1"], unknown["q4_point_scale"]) == (0, 1, Decimal("1.00"))


def test_csv_and_json_carry_the_same_values() -> None:
    rows = build_rows(2027, 1, {("VA", "claims", "phone"): Served(10, 4)},
                      {("VA", "claims", "phone"): Answered(3, {"satisfaction": AnswerCounts(0, 0, 2, 1, 0)})})
    text, data = io.StringIO(), io.StringIO()

    write_csv(rows, text)
    write_json(rows, data)

    [row] = list(csv.DictReader(io.StringIO(text.getvalue())))
    [record] = json.loads(data.getvalue())
    assert list(row) == list(COLUMNS) == list(record)
    assert (row["q1_point_scale"], record["q1_point_scale"]) == ("3.33", 3.33)
    assert (row["q2_point_scale"], record["q2_point_scale"]) == ("", None)
    assert (row["volume_of_customers"], record["volume_of_customers"]) == ("10", 10)
    assert row["q1_text"] == record["q1_text"] == QUESTIONS["satisfaction"]
