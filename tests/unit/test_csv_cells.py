"""CSV cells open as text in a spreadsheet: formulas neutralised, numbers and unknowns as they are."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from cxstream.csv_cells import cell, neutralise, write_rows


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example/","open")', "+1", "-2+3", "@SUM(A1)",
                                  "\tx", "\rx"])
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["VA", "disability-claims", "a=b", "", "'already quoted", " =spaced"])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_numbers_and_unknowns_keep_their_form() -> None:
    assert [cell(None), cell(0), cell(12), cell(Decimal("3.80")), cell(True)] == ["", "0", "12", "3.80", "True"]


def test_written_rows_read_back_as_neutralised_text() -> None:
    out = io.StringIO()
    write_rows(out, ["agency", "n"], [["=cmd|' /C calc'!A0", 3], ['x,"y"', None]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["agency", "n"], ["'=cmd|' /C calc'!A0", "3"], ['x,"y"', ""]]


def test_a_carriage_return_inside_a_field_stays_inside_its_row() -> None:
    out = io.StringIO(newline="")
    write_rows(out, ["agency", "service"], [["VA", "claims\rand more"], ["IRS", "line\nbreak"]])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["agency", "service"], ["VA", "claims\rand more"], ["IRS", "line\nbreak"]]
