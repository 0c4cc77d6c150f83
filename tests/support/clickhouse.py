"""ClickHouse for storage tests: the local 18.16 server or chdb (current ClickHouse, in process).

Both are driven through the same ``execute(query, params)`` as clickhouse_driver's Client, so one
test body checks the DDL and queries on both versions. Each test module gets its own database.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from cxstream.config import Settings

LOCAL = "clickhouse-18.16"
CHDB = "chdb"
#: Parametrise a module-scoped fixture with these to run its tests on both servers.
BACKENDS = [pytest.param(LOCAL, marks=pytest.mark.integration), pytest.param(CHDB)]


def unique_database(prefix: str = "cx_test") -> str:
    """A database name no other test run uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def local_client(settings: Settings, user: str | None = None, password: str | None = None) -> Client:
    """A native-protocol client of the local server (the pipeline's user unless told otherwise)."""
    return Client(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        user=settings.clickhouse_user if user is None else user,
        password=settings.clickhouse_password if password is None else password,
    )


class ChdbClient:
    """clickhouse_driver's ``execute`` on a chdb session: parameterised inserts and %(name)s params."""

    def __init__(self) -> None:
        from chdb import session

        self._session = session.Session()

    def execute(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        if isinstance(params, Sequence) and query.rstrip().upper().endswith("VALUES"):
            if not params:
                return []
            values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in params)
            self._query(f"{query} {values}", "TabSeparated")
            return []
        if isinstance(params, dict):
            query = re.sub(r"%\((\w+)\)s", lambda m: _literal(params[m.group(1)]), query)
        text = self._query(query, "JSONCompact")
        if not text.strip():
            return []
        result = json.loads(text)
        types = [column["type"] for column in result["meta"]]
        return [tuple(_value(v, t) for v, t in zip(row, types, strict=True)) for row in result["data"]]

    def close(self) -> None:
        self._session.close()

    def _query(self, query: str, fmt: str) -> str:
        """Run one query; a server error becomes clickhouse_driver's ServerException, as on 18.16."""
        try:
            return str(self._session.query(query, fmt))
        except Exception as exc:  # noqa: BLE001 - chdb raises a plain error type; translated here
            match = re.search(r"Code: (\d+)\. (.*)", str(exc), re.DOTALL)
            if match is None:
                raise
            raise ServerException(match.group(2), code=int(match.group(1))) from exc


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return f"unhex('{value.hex()}')"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {value!r}")


def _value(value: Any, kind: str) -> Any:
    """JSONCompact values as clickhouse_driver returns them (aware datetimes, ints, floats)."""
    if value is None:
        return None
    base = kind.removeprefix("Nullable(").rstrip(")") if kind.startswith("Nullable(") else kind
    if base.startswith("DateTime"):
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    if re.match(r"U?Int\d+$", base):
        return int(value)
    if base.startswith("Float"):
        return float(value)
    return value


@dataclass
class Backend:
    """One server and a database of the test module's own."""

    name: str
    client: Any
    database: str

    def stop_merges(self, table: str) -> None:
        """Keep every inserted part unmerged, so views are tested on duplicate rows."""
        self.client.execute(f"SYSTEM STOP MERGES {self.database}.{table}")

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Rows of a query in which ``{db}`` stands for the module's database."""
        return list(self.client.execute(query.replace("{db}", self.database), params))


@contextmanager
def open_backend(name: str, settings: Settings, prefix: str) -> Iterator[Backend]:
    """A backend with a fresh database name (not created: migrate() does that); dropped at the end."""
    database = unique_database(prefix)
    client: Any = local_client(settings) if name == LOCAL else ChdbClient()
    try:
        yield Backend(name, client, database)
    finally:
        try:
            client.execute(f"DROP DATABASE IF EXISTS {database}")
        finally:
            client.disconnect() if name == LOCAL else client.close()
