"""CSV cells a spreadsheet opens as text, never as a formula.

Service and agency names come from API key holders and channels, so a name such as
``=HYPERLINK("http://evil.example/","open")`` must not become a live formula when an analyst opens
an export. As OWASP's "CSV Injection" page advises, a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading single quote; the csv module quotes
the rest. Numbers are written as numbers (cxstream never writes a negative one).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final, TextIO

#: First characters that make a spreadsheet read a cell as a formula (or hide one behind them).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it literally."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value: Any) -> str:
    """One CSV field: empty for None (unknown), numbers as written, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return str(value)
    return neutralise(str(value))


def write_rows(out: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """A header and rows as CSV, every field through :func:`cell`. Lines end with CRLF, as RFC 4180
    has them: with ``\\n`` endings the csv module leaves a field holding a lone carriage return
    unquoted, and a reader splits the row there."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
