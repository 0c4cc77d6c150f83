"""``cxstream db`` without a server: a clear error when ClickHouse is away, the BI user's SQL."""

from __future__ import annotations

import hashlib
import socket

import pytest
from chdb import session
from click.testing import CliRunner

from cxstream.cli import main
from cxstream.sinks.sqlscript import split_statements


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "migrate"], ["report", "a11", "--fiscal-year", "2027", "--quarter", "1"]])
def test_commands_explain_what_to_do_when_clickhouse_is_not_reachable(command: list[str]) -> None:
    port = _closed_port()

    result = CliRunner().invoke(main, [*command, "--clickhouse-port", str(port)])

    assert result.exit_code == 1
    assert f"ClickHouse is not reachable at 127.0.0.1:{port}" in result.output
    assert "cxstream stack up" in result.output and "CXSTREAM_CLICKHOUSE_PORT" in result.output


def test_bi_user_sql_grants_select_on_the_database_and_prints_no_password() -> None:
    result = CliRunner().invoke(main, ["db", "bi-user", "--clickhouse-database", "cx_prod", "--clickhouse-bi-user",
                                       "metabase", "--clickhouse-bi-password", "s3cret", "--print-sql"])

    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    statements = split_statements(result.output)
    assert statements == [
        "CREATE ROLE IF NOT EXISTS cx_prod_bi_reader",
        "GRANT SELECT ON cx_prod.* TO cx_prod_bi_reader",
        "CREATE USER IF NOT EXISTS metabase IDENTIFIED WITH sha256_hash BY "
        f"'{hashlib.sha256(b's3cret').hexdigest()}' SETTINGS readonly = 1",
        "GRANT cx_prod_bi_reader TO metabase",
    ]


def test_bi_user_sql_parses_on_modern_clickhouse() -> None:
    """chdb has no access storage to run it in; its parser is the current server's."""
    sql = CliRunner().invoke(main, ["db", "bi-user", "--print-sql"]).output
    chdb_session = session.Session()
    try:
        kinds = [str(chdb_session.query(f"EXPLAIN AST {s}", "TabSeparated")).split()[0] for s in split_statements(sql)]
    finally:
        chdb_session.close()
    assert kinds == ["CreateRoleQuery", "GrantQuery", "CreateUserQuery", "GrantQuery"]


def test_bi_user_name_must_be_an_identifier() -> None:
    result = CliRunner().invoke(main, ["db", "bi-user", "--clickhouse-bi-user", "bi; DROP", "--print-sql"])
    assert result.exit_code == 1
    assert "CXSTREAM_CLICKHOUSE_BI_USER must be a plain identifier" in result.output
