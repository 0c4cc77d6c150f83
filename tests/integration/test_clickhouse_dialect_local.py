"""The DDL and queries cxstream relies on run on the local ClickHouse server (Debian's 18.16)."""

from __future__ import annotations

import pytest
from clickhouse_driver import Client

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.support.dialect import EXPECTED_ROW, run_probe

pytestmark = pytest.mark.integration


def test_dialect_probe_runs_on_the_local_server(stack: StackStatus, settings: Settings) -> None:
    client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port,
                    user=settings.clickhouse_user, password=settings.clickhouse_password)

    def execute(statement: str) -> list[tuple[str, ...]]:
        result = client.execute(statement)
        return [tuple(_text(v) for v in row) for row in result]

    try:
        rows = run_probe("dialect_probe_local", execute)
    finally:
        client.disconnect()
    assert rows == [EXPECTED_ROW]


def _text(value: object) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[attr-defined]
    return str(value)
