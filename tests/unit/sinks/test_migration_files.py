"""The migration files are numbered, idempotent statement by statement, and never hard-code `cx`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxstream.sinks import tables
from cxstream.sinks.errors import MigrationError
from cxstream.sinks.migrate import Migration, check_database_name, load_migrations

IDEMPOTENT = re.compile(
    r"^CREATE (TABLE|VIEW|DATABASE) IF NOT EXISTS cx_check\.\w+|^DROP (TABLE|VIEW) IF EXISTS "
    # one column per ALTER: "already exists" counts as done (sinks/migrate.py), so a rerun converges
    r"|^ALTER TABLE cx_check\.\w+ ADD COLUMN \w+ [\w()]+$", re.I)


def test_migrations_load_in_number_order() -> None:
    names = [m.name for m in load_migrations()]
    assert names == sorted(names)
    assert [int(name[:4]) for name in names] == list(range(1, len(names) + 1))


@pytest.mark.parametrize("migration", load_migrations(), ids=lambda m: m.name)
def test_every_statement_is_idempotent_and_names_the_database_placeholder(migration: Migration) -> None:
    statements = migration.statements("cx_check")
    assert statements
    for statement in statements:
        assert IDEMPOTENT.match(statement), statement[:120]
    text = migration.sql
    assert not re.search(r"\bcx\.", text), "use {db}, not a fixed database"


def test_the_store_tables_are_created_with_the_columns_the_sink_writes() -> None:
    sql = " ".join(m.sql for m in load_migrations())
    for table, columns in tables.COLUMNS.items():
        body = re.search(rf"CREATE TABLE IF NOT EXISTS {{db}}\.{table}\s*\((.*?)\)\s*ENGINE", sql, re.S)
        assert body, table
        declared = [re.sub(r"--.*", "", line).strip().split()[0].strip("`")
                    for line in body.group(1).splitlines() if re.sub(r"--.*", "", line).strip()]
        declared += re.findall(rf"ALTER TABLE {{db}}\.{table} ADD COLUMN (\w+)", sql)
        assert tuple(declared) == columns, table


def test_a_gap_in_the_numbers_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE IF NOT EXISTS {db}.a (x UInt8) ENGINE = Memory;")
    (tmp_path / "0003_c.sql").write_text("CREATE TABLE IF NOT EXISTS {db}.c (x UInt8) ENGINE = Memory;")
    with pytest.raises(MigrationError, match="0003_c.sql.*0002"):
        load_migrations(tmp_path)


def test_the_checksum_ignores_line_ends_but_not_content() -> None:
    sql = "CREATE TABLE IF NOT EXISTS {db}.a (x UInt8) ENGINE = Memory;\n"
    assert Migration("0001_a", sql).checksum == Migration("0001_a", sql.replace("\n", "\r\n")).checksum
    assert Migration("0001_a", sql).checksum != Migration("0001_a", sql.replace("UInt8", "UInt16")).checksum


@pytest.mark.parametrize("name", ["cx; DROP TABLE x", "cx.x", "1cx", "", "cx-test"])
def test_a_database_name_that_is_not_a_plain_identifier_is_refused(name: str) -> None:
    with pytest.raises(MigrationError, match="CXSTREAM_CLICKHOUSE_DATABASE"):
        check_database_name(name)
