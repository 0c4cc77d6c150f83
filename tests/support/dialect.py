"""The ClickHouse dialect probe: one script run on the local 18.16 server and on chdb (modern)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cxstream.sinks.sqlscript import split_statements

PROBE = Path(__file__).resolve().parents[1] / "fixtures" / "clickhouse" / "dialect_probe.sql"
#: The probe's final SELECT must return exactly this row on every server version.
EXPECTED_ROW = ("2026-11-25 14:03:00", "VA", "phone", "trust", "2", "4", "6", "66.66666666666667")


def run_probe(database: str, execute: Callable[[str], list[tuple[str, ...]]]) -> list[tuple[str, ...]]:
    """Run every probe statement through ``execute``; return the rows of the SELECTs."""
    rows: list[tuple[str, ...]] = []
    for statement in split_statements(PROBE.read_text().replace("{db}", database)):
        result = execute(statement)
        if statement.lstrip().upper().startswith("SELECT"):
            rows.extend(result)
    return rows
