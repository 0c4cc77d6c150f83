"""The DDL and queries cxstream relies on run on modern ClickHouse (chdb, in process)."""

from __future__ import annotations

import csv
import io

from chdb import session

from tests.support.dialect import EXPECTED_ROW, run_probe


def test_dialect_probe_runs_on_modern_clickhouse() -> None:
    chdb_session = session.Session()

    def execute(statement: str) -> list[tuple[str, ...]]:
        text = str(chdb_session.query(statement, "TabSeparated"))
        return [tuple(row) for row in csv.reader(io.StringIO(text), delimiter="\t") if row]

    try:
        rows = run_probe("dialect_probe", execute)
        version = str(chdb_session.query("SELECT version()", "TabSeparated")).strip()
    finally:
        chdb_session.close()
    assert int(version.split(".")[0]) >= 23, f"chdb embeds an old ClickHouse {version}"
    assert rows == [EXPECTED_ROW]
